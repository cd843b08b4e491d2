"""Small grids of numbers as HTML: each cell coloured by its value, every number written in it.

Plain HTML renders with the page (a Plotly chart costs a new visitor about a second to load),
the text stays sharp at any zoom or projector size, and it can be selected and copied.
"""
from __future__ import annotations

import html

import numpy as np

from cnnviz.ui import figures, formats

PAD_TEXT = "pad 0"
# The corner header cell: said by screen readers, not shown (an empty header says nothing).
_HIDDEN = ('<span style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);'
           'white-space:nowrap">row and column</span>')


def _cell(text: str, rgb, title: str) -> str:
    r, g, b = (int(c) for c in rgb)
    return (f'<td title="{html.escape(title)}" style="background:rgb({r},{g},{b});'
            f'color:{"#111" if figures.is_light(rgb) else "#fff"}">{html.escape(text)}</td>')


def _grid(values: np.ndarray, colours: np.ndarray, row_labels, col_labels, title: str, what: str,
          texts=None) -> str:
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in col_labels)
    body = []
    for i, r in enumerate(row_labels):
        cells = []
        for j, c in enumerate(col_labels):
            text = texts[i][j] if texts is not None else formats.cell(float(values[i, j]))
            cells.append(_cell(text, colours[i, j], f"{what} row {r}, column {c}: {text}"))
        body.append(f'<tr><th scope="row">{html.escape(str(r))}</th>{"".join(cells)}</tr>')
    return (f'<div class="cnnviz-grid"><div class="cnnviz-grid-title">{html.escape(title)}</div>'
            f'<table aria-label="{html.escape(title)}"><tr><th>{_HIDDEN}</th>{head}</tr>{"".join(body)}</table></div>')


def window_sum_html(patch: np.ndarray, kernel: np.ndarray, products: np.ndarray, in_image: np.ndarray,
                    rows=None, cols=None, patch_title: str = "input under the window") -> str:
    """patch × kernel = products, as three coloured grids side by side (one channel each).

    in_image: kh×kw bool, False on padding (those cells read "pad 0" on slate). rows/cols label
    the patch with input coordinates; the kernel and products are labelled by tap.
    """
    patch, kernel, products = (np.asarray(a, dtype=np.float64) for a in (patch, kernel, products))
    in_image = np.asarray(in_image, dtype=bool)
    kh, kw = kernel.shape
    rows = list(rows) if rows is not None else list(range(kh))
    cols = list(cols) if cols is not None else list(range(kw))
    taps_r, taps_c = list(range(kh)), list(range(kw))

    grey = np.clip(np.rint(patch * 255), 0, 255)[..., None].repeat(3, axis=2)
    patch_colours = np.where(in_image[..., None], grey, np.asarray(figures.PAD_COLOUR))
    patch_texts = [[formats.cell(float(patch[i, j])) if in_image[i, j] else PAD_TEXT
                    for j in range(kw)] for i in range(kh)]

    def diverging(z):
        m = float(np.abs(z).max()) or 1.0
        return figures.colorize(z, "diverging", -m, m)

    parts = [
        _grid(patch, patch_colours, rows, cols, patch_title, "input", texts=patch_texts),
        '<div class="cnnviz-op">×</div>',
        _grid(kernel, diverging(kernel), taps_r, taps_c, "kernel weights", "weight, tap"),
        '<div class="cnnviz-op">=</div>',
        _grid(products, diverging(products), taps_r, taps_c, "products", "product, tap"),
    ]
    return f'<div class="cnnviz-grids">{"".join(parts)}</div>'


STYLE = """<style>
.cnnviz-grids { display: flex; flex-wrap: wrap; align-items: center; gap: 0.6rem 1rem; }
.cnnviz-grid-title { font-weight: 600; margin-bottom: 0.3rem; text-align: center; }
.cnnviz-grid table { border-collapse: separate; border-spacing: 2px; margin: 0; }
.cnnviz-grid th { font-weight: 400; font-size: 0.75rem; opacity: 0.65; padding: 0 0.25rem;
  border: none; background: none; text-align: center; }
.cnnviz-grid td { min-width: 3.1em; height: 2.1em; padding: 0 0.3rem; text-align: center;
  font: 0.85rem "Source Code Pro", ui-monospace, monospace; border: none; border-radius: 3px; }
.cnnviz-op { font-size: 1.8rem; opacity: 0.7; padding-top: 1.2rem; }
</style>"""


def colour_scale_html(lo: float, hi: float, cmap: str = "diverging") -> str:
    """A legend bar for a colour-mapped picture: its colours from lo to hi, with the three values."""
    lut = figures.colormap_lut(cmap)
    stops = ", ".join(f"rgb({r},{g},{b})" for r, g, b in [*lut[::32].tolist(), lut[-1].tolist()])
    mid = formats.value((lo + hi) / 2)
    return (f'<div class="cnnviz-scale"><div style="height:0.7rem;border-radius:3px;'
            f'background:linear-gradient(to right, {stops})"></div>'
            f'<div style="display:flex;justify-content:space-between;font-size:0.8rem;opacity:0.75">'
            f"<span>{formats.value(lo)}</span><span>{mid}</span><span>{formats.value(hi)}</span></div></div>")
