"""Pictures' numbers that depend only on (shipped network, picture, settings), computed once per
process and kept for every visitor.

A class looks at the same samples, so one visitor's SmoothGrad, integrated-gradients, occlusion
or Grad-CAM map is the next visitor's; and a rerun of the "why" view that changes one setting
recomputes only the map that setting changes. The methods themselves are cnnviz.attributions'
(deterministic: SmoothGrad's noise has a fixed seed); this only decides when they run. Only the
shipped networks are kept, keyed by name; a visitor's own or trained network is computed every
time.
"""
from __future__ import annotations

from typing import Callable, TypeVar

import numpy as np
import streamlit as st

from cnnviz.ui import model_cache

T = TypeVar("T")
MAX_ENTRIES = 512   # a few MB: one entry is a map the size of the picture or of one layer's output


def shared(network, method: str, x: np.ndarray, settings: tuple, compute: Callable[[], T]) -> T:
    """compute(), or the result kept for this network, method, picture and settings. A
    computation that takes longer than half a second says so in a line where its picture goes
    (st.spinner shows nothing for a kept result)."""
    name = model_cache.shipped_name(network)
    with st.spinner(f"Computing {method.replace('_', ' ')}…"):
        if name is None:
            return compute()
        return _kept(method, name, x, settings, compute)


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def _kept(method: str, name: str, x: np.ndarray, settings: tuple, _compute: Callable[[], T]) -> T:
    return _compute()
