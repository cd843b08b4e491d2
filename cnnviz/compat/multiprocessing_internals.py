"""Spawning a process without re-running the parent's `__main__` (written for Python 3.11).

`spawn` (and `forkserver`) re-run the parent's main script in every child: what to run comes
from `multiprocessing.spawn.get_preparation_data`, which reads `sys.modules["__main__"]` (its
`__spec__`, else its `__file__`). Under `streamlit run` that module is app.py, which builds the
navigation and fails outside a session, and no public option turns the re-run off. plain_main()
puts a bare `__main__` (no file, no spec) in place for the moment of `Process.start()`, so the
child has nothing to re-run. Streamlit's script runner installs its own `__main__` when a script
run begins and never reads it back, so a run starting meanwhile is not disturbed.
"""
from __future__ import annotations

import contextlib
import multiprocessing.spawn
import platform
import sys
import types

from cnnviz.compat import Library

WRITTEN_FOR = "3.11"


def check(get_preparation_data=multiprocessing.spawn.get_preparation_data,
          version: str | None = None) -> Library:
    """Raise InternalsChanged unless `get_preparation_data` reads sys.modules["__main__"]."""
    python = Library.found("Python", WRITTEN_FOR, "multiprocessing_internals",
                           version or platform.python_version())
    code = getattr(get_preparation_data, "__code__", None)
    python.require(code is not None and "__main__" in code.co_consts and "modules" in code.co_names,
                   'multiprocessing.spawn.get_preparation_data that reads sys.modules["__main__"]')
    return python


@contextlib.contextmanager
def plain_main():
    """Within: a bare sys.modules["__main__"], so a process started here re-runs no main script."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


check()
