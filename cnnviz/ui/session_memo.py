"""The results of a page's steps, kept per session and shared by the sessions of this process:
recomputed only when the object they came from (by identity: a sample picture, a feature map)
or their plain parameters change.

All of a page's results live in ONE st.session_state entry: Streamlit walks every key of the
session state (and presents widget values) for each selectbox, slider, radio and number input it
draws, so each extra key costs every widget of every run.

Behind each session's entry, the process keeps results by (page, step, the source object,
parameters), up to SHARED_BYTES: a class following its teacher is 30 sessions showing the same
sample with the same settings, and each used to convolve, draw and encode the same pictures
again (py-spy: the largest part of a follower's run that was the page's own). A source object is
the same object across sessions only where the app shares it (samples are loaded once per
process); an upload is its own object, so it is never mistaken for another visitor's. Shared
arrays are made read-only: a step that changed one in place would fail loudly, not show another
session a changed result.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.ui.kept import Kept

SHARED_BYTES = 64 * 2**20
_shared = Kept(SHARED_BYTES)        # key -> (source, value)
_scopes: set[str] = set()


def is_scope(key: str) -> bool:
    """Whether session-state `key` holds a page's results (a cache, not what the page shows)."""
    return key in _scopes


def remembered(scope: str, name: str, source, params: tuple, compute):
    """compute(), or what it gave before in this session, or in another session of this process,
    for the same `source` object and equal `params`. scope: the session-state key of the page's
    results (one per page)."""
    _scopes.add(scope)
    memo = st.session_state.get(scope)
    if memo is None:
        memo = st.session_state[scope] = {}
    hit = memo.get(name)
    if hit is not None and hit[0] is source and hit[1] == params:
        return hit[2]
    value = _shared_value((scope, name, id(source), params), source, compute)
    memo[name] = (source, params, value)
    return value


def _shared_value(key: tuple, source, compute):
    try:
        found = _shared.get(key)
    except TypeError:                 # parameters that cannot be a key: this session only
        return compute()
    if found is not None and found[0] is source:
        return found[1]
    value = _frozen(compute())
    _shared.put(key, (source, value), _size(value))
    return value


def _frozen(value):
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, (tuple, list)):
        for part in value:
            _frozen(part)
    return value


def _size(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (bytes, str)):
        return len(value)
    if isinstance(value, (tuple, list)):
        return 64 + sum(_size(v) for v in value)
    return 256
