"""Wrapping methods of Starlette's `StaticFiles` in place (written for Starlette 1.10); checked when imported.

Streamlit 1.67 serves its static folder (the frontend and its index.html) with a subclass of
`starlette.staticfiles.StaticFiles` and has no hook to add to it: its one hook for routes,
`st.App`, would turn app.py into an ASGI module that uvicorn imports (another server mode, with
uvicorn's own signal handling). So routes.py and index_page.py wrap a method of `StaticFiles`
itself, once per process, and act only for Streamlit's folder
(streamlit_internals.serves_static_folder). What they rely on: `get_response(self, path, scope)`
and `__call__(self, scope, receive, send)`, both coroutines, which Streamlit's subclass reaches
through `super()`.
"""
from __future__ import annotations

import functools
import inspect
from typing import Callable

from starlette.staticfiles import StaticFiles

from cnnviz.compat import Library

WRITTEN_FOR = "1.10"
METHODS = {"get_response": ("self", "path", "scope"), "__call__": ("self", "scope", "receive", "send")}


def check(static_files: type = StaticFiles, version: str | None = None) -> Library:
    """Raise InternalsChanged unless `static_files` has METHODS, as coroutines of those parameters."""
    starlette = Library.found("starlette", WRITTEN_FOR, "starlette_internals", version)
    for name, parameters in METHODS.items():
        method = _unwrapped(getattr(static_files, name, None))
        starlette.require(inspect.iscoroutinefunction(method)
                          and tuple(inspect.signature(method).parameters) == parameters,
                          f"coroutine StaticFiles.{name}({', '.join(parameters)})")
    return starlette


def _unwrapped(method):
    """A method as Starlette wrote it, under any wrapping of patch_static_files."""
    return inspect.unwrap(method) if callable(method) else method


def patch_static_files(attribute: str, guard: str, make: Callable) -> None:
    """StaticFiles.<attribute> = make(original), unless `guard` marks it done already.

    The replacement must act only for the handlers it means (test `self` in it) and call the
    original for every other static folder.
    """
    if attribute not in METHODS:
        raise ValueError(f"StaticFiles.{attribute} is not among the methods checked here: {sorted(METHODS)}")
    original = getattr(StaticFiles, attribute)
    if getattr(original, guard, False):
        return
    replacement = functools.wraps(original)(make(original))
    setattr(replacement, guard, True)
    setattr(StaticFiles, attribute, replacement)


check()
