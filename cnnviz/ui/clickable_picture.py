"""A picture that reports where it was clicked, drawn in the page itself (no iframe).

An st.components.v2 component: its few lines of JavaScript come with the page, so a new visitor
loads nothing more (an iframe component costs each visitor an extra document and bundle). The
click arrives in `on_click(point)` as {"x", "y", "width"}: CSS pixels from the picture's top-left
corner, and the width the picture was shown at (so callers can rescale to the drawn pixels).
"""
from __future__ import annotations

import base64
import math

import streamlit as st
from PIL import Image

from cnnviz.ui import figures

_JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const [src, smooth, alt] = data;
  let img = parentElement.querySelector("img");
  if (!img) {
    img = document.createElement("img");
    img.style.width = "100%";
    img.style.display = "block";
    img.style.cursor = "crosshair";
    img.addEventListener("click", (e) => {
      const box = img.getBoundingClientRect();
      setTriggerValue("click", { x: e.clientX - box.left, y: e.clientY - box.top, width: box.width });
    });
    parentElement.appendChild(img);
  }
  img.style.imageRendering = smooth ? "auto" : "pixelated";
  img.alt = alt;
  if (img.getAttribute("src") !== src) img.src = src;
}
"""

_component = st.components.v2.component("cnnviz_clickable_picture", js=_JS)


def data_url(img: Image.Image, smooth: bool) -> str:
    """The picture inline: JPEG when it was shrunk (smaller, quicker), else lossless PNG."""
    encoded = figures.encode_picture(img, lossy=smooth)
    kind = "jpeg" if smooth else "png"
    return f"data:image/{kind};base64,{base64.b64encode(encoded).decode('ascii')}"


def _checked(point) -> dict | None:
    """The browser's click, or None unless x, y and width are finite numbers and width > 0."""
    if not isinstance(point, dict):
        return None
    try:
        values = {k: float(point[k]) for k in ("x", "y", "width")}
    except (KeyError, TypeError, ValueError):
        return None
    if not all(math.isfinite(v) and abs(v) < 1e6 for v in values.values()) or values["width"] <= 0:
        return None
    return values


def clickable_picture(img: Image.Image, key: str, on_click, smooth: bool, alt: str = "") -> None:
    """Show `img` across its column; a click calls on_click({"x", "y", "width"})."""
    def changed() -> None:
        point = _checked((st.session_state.get(key) or {}).get("click"))
        if point:
            on_click(point)

    # A list, not a dict: Streamlit looks for dataframes in a dict's values, which imports pandas
    # (0.3 s on a fresh server's first visit).
    _component(key=key, data=[data_url(img, smooth), smooth, alt], on_click_change=changed)

