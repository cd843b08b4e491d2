"""Shared input widgets and the session state every page reads.

The current image lives in st.session_state under PICTURE_KEY as an
images.Picture; the latest convolution output under FEATURE_MAP_KEY.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import images

PICTURE_KEY = "cnnviz_picture"
FEATURE_MAP_KEY = "cnnviz_feature_map"


def current_picture() -> images.Picture:
    """The image chosen in the sidebar (a sample until the person picks another)."""
    return st.session_state[PICTURE_KEY]


def set_feature_map(feature_map: np.ndarray, label: str) -> None:
    """Remember the convolution page's output so the activation and pooling pages can use it."""
    st.session_state[FEATURE_MAP_KEY] = (feature_map, label)


def current_feature_map() -> tuple[np.ndarray, str] | None:
    return st.session_state.get(FEATURE_MAP_KEY)


def image_source() -> None:
    """The sidebar: pick a sample, upload, draw or use the camera. (Being written.)"""
    if PICTURE_KEY not in st.session_state:
        yy, xx = np.mgrid[0:64, 0:64]
        st.session_state[PICTURE_KEY] = images.Picture(
            ((xx - 32) ** 2 + (yy - 32) ** 2 < 400).astype(np.float32), "placeholder disc")
