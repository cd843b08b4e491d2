"""st.image for every picture of the app: PNG or JPEG bytes (or a PIL image, encoded once) that
Streamlit passes on as they are, never re-encoded on each run (see figures.for_st_image)."""
from __future__ import annotations

import streamlit as st

from cnnviz.ui import figures


def show(picture, *, where=None, width: int | str = "content", **options) -> None:
    """st.image(picture, width=width, **options) for PNG/JPEG bytes or a PIL image, in `where`
    (a column or container; the current one if None).
    options: st.image's caption, alt (and the like), never output_format."""
    data, fmt = figures.for_st_image(picture, width)
    (where or st).image(data, width=width, output_format=fmt, **options)
