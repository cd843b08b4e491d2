"""The map colours a visitor chose, for the whole app and kept in the link (?palette=colour-blind).

"Standard" draws maps with viridis, inferno and a blue-white-red map; "Colour-blind safe" with
cividis and a blue-white-orange map whose sign also shows as lightness (see
cnnviz/ui/figures/colours.py and tests/test_colour_vision.py). The choice sits in the sidebar
under the image; in presentation mode the sidebar is hidden and the link carries it.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cnnviz.ui import url_state
from cnnviz.ui.figures import colours

KEY = "cnnviz_palette"
LABELS = {"standard": "Standard", "colour-blind": "Colour-blind safe"}
PALETTE = url_state.choice("palette", KEY, {s: s for s in LABELS}, colours.DEFAULT_SCHEME, what="palette")


def chosen() -> str:
    """The scheme of the session now running (the default outside a script run)."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return colours.DEFAULT_SCHEME
    return st.session_state.get(KEY) or colours.DEFAULT_SCHEME


colours.follow_scheme(chosen)


def control() -> None:
    """The sidebar's "Map colours" choice (every full run draws it, so its value is kept)."""
    url_state.set_defaults([PALETTE])
    st.sidebar.segmented_control(
        "Map colours", list(LABELS), format_func=LABELS.__getitem__, required=True, key=KEY,
        help="Colour-blind safe: cividis (dark blue to yellow) instead of viridis and inferno, and "
             "blue < 0 < orange (the negative side darker) instead of blue < 0 < red. Both sets "
             "stay distinct with protanopia, deuteranopia and tritanopia; the link keeps the choice.")
