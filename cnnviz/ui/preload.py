"""Load TensorFlow and the first network in the background so the first visit to /network is quick.

The work waits a moment first: it holds the interpreter for several seconds
and should not slow down the first page a visitor sees.
"""
import threading
import time

import streamlit as st

DELAY_SECONDS = 3.0


def _load_later():
    time.sleep(DELAY_SECONDS)
    from cnnviz.ui import model_cache  # imports TensorFlow

    # Loads, warms and caches the network the explorer opens with; it also freezes the
    # long-lived objects so Streamlit's per-rerun garbage collection stays cheap.
    model_cache.load(model_cache.available()[0])


@st.cache_resource(show_spinner=False)
def start_tensorflow_import() -> threading.Thread:
    """Once per process: a daemon thread that imports TensorFlow and loads the first network."""
    thread = threading.Thread(target=_load_later, name="cnnviz-preload-tensorflow", daemon=True)
    thread.start()
    return thread
