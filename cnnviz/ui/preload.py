"""Load TensorFlow and the first network in the background so the first visit to /network is quick;
then, on a real server, the other networks and the results every visitor shares (shared_work.py).

The work waits a moment first: it holds the interpreter for several seconds
and should not slow down the first page a visitor sees.

import_tensorflow() is the one gate through which the app imports TensorFlow. It is enforced: from
the moment this module is imported, a script run (a page) that imports TensorFlow or Keras
without having passed the gate gets an ImportError that says so, instead of a rare race.
"""
import gc
import importlib.abc
import sys
import threading
import time

import streamlit as st

from cnnviz.compat import streamlit_internals
from cnnviz.ui import lifecycle, memory

DELAY_SECONDS = 3.0
QUIET_SECONDS = 1.5     # shared work waits until no full run has started or ended for this long,
MOST_WAIT_SECONDS = 15.0  # or this long at most (a loaded server is never quiet)
GATED = ("tensorflow", "keras")   # importing either imports TensorFlow's whole module graph
_IMPORTING = threading.Lock()
_inside = threading.local()       # .active: this thread is inside import_tensorflow()


def import_tensorflow() -> None:
    """Import TensorFlow and cnnviz's TensorFlow modules once per process, one thread at a time.

    Pages call this before they import anything that imports TensorFlow; the preload thread does
    too. Two threads that import TensorFlow's module graph at once can each wait on a module the
    other holds; Python then hands one of them a half-initialised module, and TensorFlow registers
    its ops twice ("Registering two gradient with name 'ReduceDataset'", seen when a crowd opened
    a fresh server). One lock around the whole import rules that out; after the first call it
    costs nothing.
    """
    with _IMPORTING:
        _inside.active = True
        try:
            _import_under_lock()
        finally:
            _inside.active = False


def _import_under_lock() -> None:
        # TensorFlow imports pandas; Plotly on a page's thread uses pandas if it finds it in
        # sys.modules, whole or half-imported ("partially initialized module 'pandas' has no
        # attribute 'Series'", seen when a crowd opened a fresh server), so charts.py imports it
        # first, which waits for this import to finish. Here, under the lock, not on the first
        # visitor's run: that cost 0.3 s.
        import pandas  # noqa: F401
        from cnnviz.ui import model_cache  # noqa: F401  (imports TensorFlow, Keras and cnnviz.probe)


class _Gatekeeper(importlib.abc.MetaPathFinder):
    """Refuses the first import of TensorFlow or Keras to a script run outside import_tensorflow().

    Asked only while neither is in sys.modules, so it costs nothing once TensorFlow is loaded.
    Threads that are not script runs (the preload thread, tests, the command line) are let through.
    """

    def find_spec(self, name, path=None, target=None):
        if (name in GATED and not getattr(_inside, "active", False)
                and streamlit_internals.in_script_run()):
            raise ImportError(f"{name} was imported by a page before cnnviz.ui.preload."
                              "import_tensorflow(): call it first, then import what needs "
                              "TensorFlow (see cnnviz/ui/preload.py)", name=name)
        return None


def _install_gatekeeper() -> None:
    """One gatekeeper per process: a re-imported preload.py replaces the old module's, which
    would read the old module's _inside."""
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__qualname__ != _Gatekeeper.__qualname__
                        or type(f).__module__ != __name__]
    sys.meta_path.insert(0, _Gatekeeper())


_install_gatekeeper()


def _load_later():
    time.sleep(DELAY_SECONDS)
    if lifecycle.stopping():
        return
    # While TensorFlow loads, Python's automatic full collections scan the growing heap again
    # and again (0.1-0.3 s each, measured, holding the GIL, so /_stcore/health waited up to
    # 1.2 s); they find next to nothing. One collection at the end (model_cache.load) does it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        import_tensorflow()
        from cnnviz.ui import model_cache

        model_cache.load(model_cache.available()[0])   # the network the explorer opens with
        # Streamlit runs a full garbage collection after every script run. With TensorFlow and
        # Keras loaded that scans a few hundred thousand long-lived objects (0.3-1 s here);
        # freezing what start-up made moves them out of the collector's way, once per process.
        gc.collect()
        gc.freeze()
    finally:
        if collecting:
            gc.enable()
    if streamlit_internals.server_event_loop() is not None:   # a real server, not AppTest
        from cnnviz.ui import shared_work

        shared_work.warm_shared_work(lifecycle.stopping, pause=_wait_for_quiet)
        gc.collect()
        gc.freeze()


_last_run = [0.0]   # time.monotonic() when a full run last started or ended


def visit() -> None:
    """At the start and the end of every full run (app.py): note the time, and start the
    background work once per process."""
    _last_run[0] = time.monotonic()
    start_tensorflow_import()


def _wait_for_quiet() -> None:
    """Before each piece of shared work: let a crowd that is opening pages go first (measured:
    30 visitors opening a fresh server waited up to 36 s with the work running beside them)."""
    deadline = time.monotonic() + MOST_WAIT_SECONDS
    while (not lifecycle.stopping() and time.monotonic() < deadline
           and time.monotonic() - _last_run[0] < QUIET_SECONDS):
        time.sleep(0.25)


@st.cache_resource(show_spinner=False)
def start_tensorflow_import() -> threading.Thread:
    """Once per process: a daemon thread that imports TensorFlow and loads the first network.

    A shutdown signal during that work must still end the server cleanly: see lifecycle.py.
    """
    lifecycle.install()
    memory.limit_malloc_arenas()
    thread = threading.Thread(target=_load_later, name="cnnviz-preload-tensorflow", daemon=True)
    thread.start()
    return thread
