"""The last result of each of a page's steps, kept per session: recomputed only when the object it
came from (by identity: the picture, a feature map) or its plain parameters change.

All of a page's results live in ONE st.session_state entry: Streamlit walks every key of the
session state (and presents widget values) for each selectbox, slider, radio and number input it
draws, so each extra key costs every widget of every run.
"""
from __future__ import annotations

import streamlit as st


def remembered(scope: str, name: str, source, params: tuple, compute):
    """compute(), or what it gave last time in this session for the same `source` object and
    equal `params`. scope: the session-state key of the page's results (one per page)."""
    memo = st.session_state.get(scope)
    if memo is None:
        memo = st.session_state[scope] = {}
    hit = memo.get(name)
    if hit is not None and hit[0] is source and hit[1] == params:
        return hit[2]
    value = compute()
    memo[name] = (source, params, value)
    return value
