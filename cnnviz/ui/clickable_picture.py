"""A picture that reports where it was clicked, drawn in the page itself (no iframe).

An st.components.v2 component: its few lines of JavaScript come with the page, so a new visitor
loads nothing more (an iframe component costs each visitor an extra document and bundle). The
click arrives in `on_click(point)` as {"x", "y", "width"}: CSS pixels from the picture's top-left
corner, and the width the picture was shown at (so callers can rescale to the drawn pixels).

With `cells` (a Cells) the picture also works from the keyboard: it takes the focus (Tab), the
arrow keys move an outline from cell to cell and a live region says where it is ("window at
row 4, column 7"), Home/End go to a row's ends; Enter or Space sends the same click a mouse would
give at the outlined cell's centre, so one Python path serves both.
"""
from __future__ import annotations

import base64
import dataclasses
import math

import streamlit as st
from PIL import Image

from cnnviz.ui import figures

_CSS = """
.cz-pick { position: relative; }
.cz-pick:focus-visible { outline: 3px solid #1c5fd4; outline-offset: 2px; }
.cz-cursor { position: absolute; pointer-events: none; display: none; box-sizing: border-box;
             border: 3px solid #1c5fd4; box-shadow: 0 0 0 2px #fff; }
.cz-pick:focus-visible .cz-cursor { display: block; }   /* keys, not a mouse click */
.cz-said { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
           white-space: nowrap; }
"""

_JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const [src, smooth, alt, cells] = data;
  let box = parentElement.querySelector(".cz-pick");
  if (!box) {
    box = document.createElement("div");
    box.className = "cz-pick";
    box.innerHTML = '<img style="width:100%;display:block;cursor:crosshair"><div class="cz-cursor"></div>'
                  + '<span class="cz-said" aria-live="polite"></span>';
    const img = box.querySelector("img");
    img.addEventListener("click", (e) => {
      const r = img.getBoundingClientRect();
      setTriggerValue("click", { x: e.clientX - r.left, y: e.clientY - r.top, width: r.width });
    });
    box.addEventListener("keydown", (e) => {
      const k = box._cells;
      if (!k) return;
      const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
                      Home: [0, -k.cols], End: [0, k.cols] };
      if (e.key in moves) {
        e.preventDefault();
        box._at = [Math.min(k.rows - 1, Math.max(0, box._at[0] + moves[e.key][0])),
                   Math.min(k.cols - 1, Math.max(0, box._at[1] + moves[e.key][1]))];
        place(box, true);
      } else if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        const [top, left, h, w] = cellBox(k, box._at), s = img.getBoundingClientRect().width / k.width;
        setTriggerValue("click", { x: (left + w / 2) * s, y: (top + h / 2) * s, width: img.getBoundingClientRect().width });
      }
    });
    parentElement.appendChild(box);
  }
  const img = box.querySelector("img");
  img.style.imageRendering = smooth ? "auto" : "pixelated";
  img.alt = alt;
  if (img.getAttribute("src") !== src) img.src = src;
  const signature = JSON.stringify(cells);
  if (cells && box.dataset.cells !== signature) {
    box.dataset.cells = signature;
    box._cells = cells;
    box._at = [cells.row, cells.col];
    box.tabIndex = 0;
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", cells.help);
    place(box, false);
  } else if (!cells) {
    box._cells = null;
    box.removeAttribute("tabindex");
  }
}

function cellBox(k, [r, c]) {
  return [k.top + r * k.pitch_y, k.left + c * k.pitch_x, k.box_h, k.box_w];
}

function place(box, say) {
  const k = box._cells, cursor = box.querySelector(".cz-cursor");
  const [top, left, h, w] = cellBox(k, box._at);
  cursor.style.top = `${100 * top / k.height}%`;
  cursor.style.left = `${100 * left / k.width}%`;
  cursor.style.height = `${100 * h / k.height}%`;
  cursor.style.width = `${100 * w / k.width}%`;
  const where = `${k.name} at ${k.row_word} ${k.row_names ? k.row_names[box._at[0]] : box._at[0]}, `
              + `${k.col_word} ${k.col_names ? k.col_names[box._at[1]] : box._at[1]}`;
  box.setAttribute("aria-description", where);
  if (say) box.querySelector(".cz-said").textContent = where + ". Enter picks it.";
}
"""

_component = st.components.v2.component("cnnviz_clickable_picture", css=_CSS, js=_JS)


@dataclasses.dataclass(frozen=True)
class Cells:
    """Where the keyboard can go on a picture: `rows` x `cols` cells, cell (r, c) the box
    top + r * pitch_y, left + c * pitch_x, box_h high and box_w wide, in the picture's own pixels
    (width x height); (row, col) is the one chosen now. Cells are said as
    "{name} at {row_word} {r}, {col_word} {c}", with row_names/col_names for r and c if given."""
    rows: int
    cols: int
    row: int
    col: int
    width: int
    height: int
    top: float = 0.0
    left: float = 0.0
    pitch_y: float = 1.0
    pitch_x: float = 1.0
    box_h: float = 1.0
    box_w: float = 1.0
    name: str = "cell"
    row_word: str = "row"
    col_word: str = "column"
    row_names: tuple[str, ...] | None = None
    col_names: tuple[str, ...] | None = None

    def for_browser(self) -> dict:
        said = f"{self.name} at {self.row_word} {self._name(self.row_names, self.row)}, " \
               f"{self.col_word} {self._name(self.col_names, self.col)}"
        return {**dataclasses.asdict(self),
                "help": f"{said}. Arrow keys move the {self.name}, Enter picks it."}

    @staticmethod
    def _name(names, i: int) -> str:
        return names[i] if names else str(i)


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


def clickable_picture(img: Image.Image | str, key: str, on_click, smooth: bool, alt: str = "",
                      cells: Cells | None = None) -> None:
    """Show `img` (a picture, or its data_url(img, smooth) kept from an earlier run) across its
    column; a click (or Enter on a keyboard cell, see Cells) calls on_click({"x", "y", "width"})."""
    def changed() -> None:
        point = _checked((st.session_state.get(key) or {}).get("click"))
        if point:
            on_click(point)

    # A list, not a dict: Streamlit looks for dataframes in a dict's values, which imports pandas
    # (0.3 s on a fresh server's first visit).
    src = img if isinstance(img, str) else data_url(img, smooth)
    _component(key=key, data=[src, smooth, alt, cells and cells.for_browser()],
               on_click_change=changed)

