"""Start importing TensorFlow in the background so the first visit to /network is quick.

The import waits a moment first: it holds the interpreter for several seconds
and should not slow down the first page a visitor sees.
"""
import gc
import importlib
import threading
import time

import streamlit as st

DELAY_SECONDS = 3.0


def _import_later():
    time.sleep(DELAY_SECONDS)
    importlib.import_module("cnnviz.probe")
    # Streamlit runs a full garbage collection (and keras.backend.clear_session) after every
    # script run; TensorFlow's ~350k long-lived objects made that cost 0.4-0.9 s per rerun.
    # Freezing them moves them out of the collector's sight.
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False)
def start_tensorflow_import() -> threading.Thread:
    """Once per process: a daemon thread that imports the TensorFlow-backed probe module."""
    thread = threading.Thread(target=_import_later, name="cnnviz-preload-tensorflow", daemon=True)
    thread.start()
    return thread
