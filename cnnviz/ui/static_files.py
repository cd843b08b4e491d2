"""Streamlit's handler for its own static folder (the frontend and its index.html), patched in place.

Streamlit 1.67 serves that folder with a subclass of `starlette.staticfiles.StaticFiles` and has no
hook to add to it (see routes.py and index_page.py for why not `st.App`). `patch` replaces one
method of `StaticFiles` once per process; the replacement gets the original and a test that says
whether a handler serves Streamlit's folder, so it can leave every other static folder alone.
"""
from __future__ import annotations

import functools
import os
from typing import Callable


def patch(attribute: str, guard: str, make: Callable) -> None:
    """StaticFiles.<attribute> = make(original, is_streamlit_static), unless `guard` marks it done."""
    from starlette.staticfiles import StaticFiles
    from streamlit import file_util

    original = getattr(StaticFiles, attribute)
    if getattr(original, guard, False):
        return
    static_dir = os.path.realpath(file_util.get_static_dir())

    def is_streamlit_static(handler) -> bool:
        return os.path.realpath(str(handler.directory)) == static_dir

    replacement = functools.wraps(original)(make(original, is_streamlit_static))
    setattr(replacement, guard, True)
    setattr(StaticFiles, attribute, replacement)
