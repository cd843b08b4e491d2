"""A clean exit (status 0) on SIGTERM or Ctrl+C at any moment, TensorFlow loading included.

Why this is needed: a SIGTERM that arrived while the background thread of preload.py was
importing TensorFlow could end the server with SIGABRT (exit status -6) instead of 0. Streamlit
shuts itself down properly, but then the interpreter finalises with that daemon thread still
inside TensorFlow's C++ (module initialisers, pybind11 frames): Python 3.11 ends such a thread
with pthread_exit when it next asks for the GIL, and the forced unwind through C++ frames that
catch everything calls std::terminate; TensorFlow's static destructors also run under it.
Reproduced here without Streamlit: a process whose main thread ends while a daemon thread runs
model_cache.load aborts ("terminate called without an active exception", "FATAL: exception not
rethrown", status 134) in 2 of 7 tries; with install() and the same exit, 0 in 4 of 4. The final
garbage collection of TensorFlow's heap also added a second or more to every shutdown.

What this does: once Streamlit's own shutdown has finished (its server stopped, its sessions
closed), nothing of the process is left to save, so it ends with `os._exit(0)` before the
interpreter finalises. It is armed only by a shutdown signal: our handler is chained in front
of Streamlit's (which still does all the shutting down) and sets a flag; an `atexit` callback,
which runs right after Streamlit's code returns and before finalisation, exits if the flag is
set. A watchdog ends the process with 0 after GRACE_SECONDS in case Streamlit's shutdown waits
on a thread that is busy (a script run still computing, a model still loading). Worker
processes of `multiprocessing` are terminated first; logs and standard streams are flushed.
Any other way out of the process (an error at startup, tests, notebooks) is left alone.
"""
from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading

from cnnviz.compat import streamlit_internals

GRACE_SECONDS = 3.0
"""How long Streamlit's own shutdown may take before the process ends anyway (goal: 5 s)."""

SIGNALS = (signal.SIGTERM, signal.SIGINT)
_CHAINED = "_cnnviz_chained"

_stopping = threading.Event()
_lock = threading.Lock()
_installed = False


def install() -> bool:
    """Once per process, from any thread: chain the handler in front of Streamlit's.

    Signal handlers can only be set from the main thread, which runs Streamlit's event loop:
    from a script run the handler is set there through the loop. Returns False (and does
    nothing) where no Streamlit server runs, e.g. under AppTest.
    """
    global _installed
    with _lock:
        if _installed:
            return True
        if threading.current_thread() is threading.main_thread():
            _chain_handlers()
        else:
            loop = streamlit_internals.server_event_loop()
            if loop is None:
                return False
            loop.call_soon_threadsafe(_chain_handlers)
        atexit.register(_exit_now_if_stopping)
        _installed = True
        return True


def stopping() -> bool:
    """True once a shutdown signal has arrived."""
    return _stopping.is_set()


def _chain_handlers() -> None:
    for signum in SIGNALS:
        previous = signal.getsignal(signum)
        if getattr(previous, _CHAINED, False):
            continue

        def handler(number, frame, previous=previous):
            _begin_stop()
            if callable(previous):
                previous(number, frame)   # Streamlit's handler: stops the server and the runtime
            else:
                _exit_now()

        setattr(handler, _CHAINED, True)
        signal.signal(signum, handler)


def _begin_stop() -> None:
    if _stopping.is_set():
        return
    _stopping.set()
    threading.Thread(target=_watchdog, name="cnnviz-shutdown-watchdog", daemon=True).start()


def _watchdog() -> None:
    threading.Event().wait(GRACE_SECONDS)
    _exit_now()


def _exit_now_if_stopping() -> None:
    if _stopping.is_set():
        _exit_now()


def _exit_now() -> None:
    """End the process with status 0, skipping the interpreter's finalisation."""
    try:
        if "multiprocessing" in sys.modules:
            import multiprocessing

            for child in multiprocessing.active_children():
                child.terminate()
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    finally:
        os._exit(0)
