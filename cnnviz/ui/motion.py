"""Whether the visitor's device asks for reduced motion (`prefers-reduced-motion: reduce`), so that
what moves by itself moves less: the convolution window's Play and live training's charts redraw
every few seconds instead of several times a second. CSS animations and transitions are cut
by the stylesheet in index.html (cnnviz/ui/index_page.py).

The server cannot read a media query, so a tiny st.components.v2 component reports it. It sends
only a value that differs from the one the server holds (none means "no preference"), so the
many visitors without the setting cost no extra rerun; a change of the setting is sent at once.
"""
from __future__ import annotations

import streamlit as st

KEY = "cnnviz_reduced_motion"
_PROBE_KEY = "cnnviz_motion_probe"
REDUCED_EVERY = 3.0     # seconds between the steps of what moves by itself, with reduced motion

_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  const query = window.matchMedia("(prefers-reduced-motion: reduce)");
  const report = () => { if (query.matches !== Boolean(data)) setStateValue("reduced", query.matches); };
  report();
  query.addEventListener("change", report);
  return () => query.removeEventListener("change", report);
}
"""
_probe = st.components.v2.component("cnnviz_reduced_motion", js=_JS)


def _changed() -> None:
    st.session_state[KEY] = bool((st.session_state.get(_PROBE_KEY) or {}).get("reduced"))


def reduced() -> bool:
    """Whether this visitor asks for reduced motion (False until the browser has said so).
    Call it once per run, outside fragments, on a page with something that moves by itself."""
    with st.sidebar:
        _probe(key=_PROBE_KEY, data=bool(st.session_state.get(KEY)), on_reduced_change=_changed)
    return bool(st.session_state.get(KEY))


def every(seconds: float) -> float:
    """How often something that moves by itself steps: `seconds`, or REDUCED_EVERY when the
    visitor asks for reduced motion."""
    return max(seconds, REDUCED_EVERY) if reduced() else seconds
