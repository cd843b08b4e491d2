"""What a screen reader needs beside the pictures: their numbers as a table, and news said once.

- `as_numbers` puts a map, kernel or matrix in a collapsed "as numbers" expander as a real HTML
  table with row and column headers; a map larger than `MAX_SIDE` shows the window around its
  strongest cell and says so.
- `chart_numbers` does the same for a chart's lines: one row per x, one column per line.
- `announce` speaks a result that changed after an action (a prediction, a checked answer, a
  finished run, an error) through an ARIA live region, once: the region stays in the page across
  reruns and its text is set only when the text differs from the one this session last heard.
"""
from __future__ import annotations

import collections
import hashlib
import html
import threading
from collections.abc import Mapping, Sequence

import numpy as np
import streamlit as st

from cnnviz import describe

MAX_SIDE = 28
MAX_ROWS = 120      # a chart's table: rows beyond this are thinned, evenly spaced

_STYLE = """<style>
table.cnnviz-numbers { border-collapse: collapse; font: 0.8rem "Source Code Pro", ui-monospace, monospace; }
table.cnnviz-numbers th, table.cnnviz-numbers td { border: 1px solid #c8ccd4; padding: 1px 4px; text-align: right; }
table.cnnviz-numbers th { background: #eef0f4; color: #1f2330; font-weight: 600; }
table.cnnviz-numbers caption { text-align: left; caption-side: top; padding-bottom: 4px; color: #31333f; }
div.cnnviz-numbers-scroll { overflow: auto; max-height: 32rem; }
</style>"""


def window_of(shape: tuple[int, int], centre: tuple[int, int], side: int = MAX_SIDE) -> tuple[slice, slice]:
    """Rows and columns of a window of at most side × side cells holding `centre`, inside `shape`."""
    out = []
    for n, c in zip(shape, centre):
        k = min(n, side)
        start = min(max(0, c - k // 2), n - k)
        out.append(slice(start, start + k))
    return out[0], out[1]


KEPT_TABLES = 256   # HTML tables kept per process (a 28 x 28 table is ~30 kB)
_tables: "collections.OrderedDict[tuple, str]" = collections.OrderedDict()
_tables_lock = threading.Lock()


def table_html(values, caption: str, row_labels: Sequence[str] | None = None,
               col_labels: Sequence[str] | None = None, side: int = MAX_SIDE,
               corner: str = "row \\ column") -> str:
    """A 2-D array as an HTML table with <th scope> headers; larger than side × side: a window.

    Kept for the same numbers and words: every rerun writes the page's collapsed tables again,
    and building them was ~4 % of a loaded server's CPU (py-spy, 12 sessions)."""
    a = np.asarray(values)
    if a.dtype == object:                     # no bytes to key on
        return _table_html(a, caption, row_labels, col_labels, side, corner)
    key = (a.shape, a.dtype.str, hashlib.blake2b(np.ascontiguousarray(a).data, digest_size=16).digest(),
           caption, None if row_labels is None else tuple(row_labels),
           None if col_labels is None else tuple(col_labels), side, corner)
    with _tables_lock:
        kept = _tables.get(key)
        if kept is not None:
            _tables.move_to_end(key)
            return kept
    made = _table_html(a, caption, row_labels, col_labels, side, corner)
    with _tables_lock:
        _tables[key] = made
        while len(_tables) > KEPT_TABLES:
            _tables.popitem(last=False)
    return made


def _table_html(a: np.ndarray, caption: str, row_labels, col_labels, side: int, corner: str) -> str:
    if a.ndim != 2:
        raise ValueError(f"a table has 2 dimensions, not {a.ndim}")
    rows, cols = window_of(a.shape, describe.strongest(a) if a.size else (0, 0), side)
    if a.shape[0] > side or a.shape[1] > side:
        caption += (f" (the map is {describe.size(a.shape)}; shown: rows {rows.start}–{rows.stop - 1}, "
                    f"columns {cols.start}–{cols.stop - 1}, around its largest value)")
    rl = list(row_labels) if row_labels is not None else [str(i) for i in range(a.shape[0])]
    cl = list(col_labels) if col_labels is not None else [str(j) for j in range(a.shape[1])]
    head = f'<th scope="col">{html.escape(corner)}</th>' + "".join(
        f'<th scope="col">{html.escape(cl[j])}</th>' for j in range(cols.start, cols.stop))
    body = "".join(
        f'<tr><th scope="row">{html.escape(rl[i])}</th>'
        + "".join(f"<td>{html.escape(_cell(a[i, j]))}</td>" for j in range(cols.start, cols.stop))
        + "</tr>" for i in range(rows.start, rows.stop))
    # The box scrolls a long table: Tab reaches it so that the arrow keys scroll it (WCAG 2.1.1).
    return (f'{_STYLE}<div class="cnnviz-numbers-scroll" tabindex="0" role="group" '
            f'aria-label="{html.escape(caption)}"><table class="cnnviz-numbers">'
            f"<caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def _cell(v) -> str:
    if np.issubdtype(np.asarray(v).dtype, np.integer):
        return f"{int(v):,}"
    if np.isnan(v):
        return "–"        # a line with no point at this x (e.g. validation between its steps)
    return describe.number(v)


def as_numbers(values, what: str, row_labels: Sequence[str] | None = None,
               col_labels: Sequence[str] | None = None, corner: str = "row \\ column") -> None:
    """A collapsed "<what> as numbers" expander holding the values as a table (2-D, or H × W × C:
    one table per channel, at most 8)."""
    a = np.asarray(values)
    with st.expander(f"{what} as numbers", expanded=False):
        if a.ndim == 3:
            shown = min(a.shape[2], 8)
            note = "" if shown == a.shape[2] else f" (the first {shown} of {a.shape[2]})"
            st.caption(f"{a.shape[2]} channels{note}, one table each.")
            st.html("".join(table_html(a[..., c], f"{what}, channel {c}", row_labels, col_labels, corner=corner)
                            for c in range(shown)))
        else:
            st.html(table_html(a, what, row_labels, col_labels, corner=corner))


def chart_rows(lines: Mapping[str, tuple[Sequence, Sequence]], most: int = MAX_ROWS
               ) -> tuple[np.ndarray, np.ndarray, int]:
    """(x, values: one column per line, NaN where a line has no point, the number of x before
    thinning). The x of every line are merged; more than `most` are thinned evenly, but a short
    line's points (at most most // 4, such as validation steps) are all kept."""
    xs = [np.asarray(x, dtype=np.float64).ravel() for x, _ in lines.values()]
    ys = [np.asarray(y, dtype=np.float64).ravel() for _, y in lines.values()]
    for name, x, y in zip(lines, xs, ys):
        if x.size != y.size:
            raise ValueError(f"the line {name!r} has {x.size} x and {y.size} values")
    every = np.unique(np.concatenate(xs)) if xs else np.zeros(0)
    keep = every
    if every.size > most:
        short = [x for x in xs if x.size <= most // 4]
        spaced = every[np.unique(np.linspace(0, every.size - 1, most).round().astype(int))]
        keep = np.unique(np.concatenate([spaced, *short]))
    table = np.full((keep.size, len(ys)), np.nan)
    for j, (x, y) in enumerate(zip(xs, ys)):
        at = np.searchsorted(keep, x)
        hit = (at < keep.size) & (keep[np.minimum(at, keep.size - 1)] == x)
        table[at[hit], j] = y[hit]
    return keep, table, every.size


def chart_numbers(what: str, x_name: str, lines: Mapping[str, tuple[Sequence, Sequence]]) -> None:
    """A collapsed "<what> as numbers" expander with a chart's data: a row per x (`x_name`), a
    column per line {name: (x, y)}; "–" where a line has no point."""
    x, table, total = chart_rows(lines)
    caption = what
    if x.size < total:
        caption += f" ({x.size} of {total:,} rows shown, evenly spaced)"
    labels = [describe.number(v) if v != round(v) else f"{int(v):,}" for v in x]
    with st.expander(f"{what} as numbers", expanded=False):
        st.html(table_html(table, caption, labels, list(lines), side=max(table.shape, default=1),
                           corner=x_name))


_LIVE_JS = """
export default function (component) {
  const { data, parentElement } = component;
  let region = parentElement.querySelector("[role=status]");
  if (!region) {
    region = document.createElement("div");
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    region.style.cssText = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap";
    parentElement.appendChild(region);
  }
  if (data && region.textContent !== data) region.textContent = data;
}
"""

_live = st.components.v2.component("cnnviz_live_region", js=_LIVE_JS)


def news(key: str, text: str) -> str:
    """`text` if this session has not yet heard it under `key`, else "" (remembers it)."""
    memo = f"_announced:{key}"
    if st.session_state.get(memo) == text:
        return ""
    st.session_state[memo] = text
    return text


def announce(key: str, text: str) -> None:
    """Say `text` to screen readers (role="status"), once: a rerun with the same text says nothing."""
    fresh = news(key, text)
    # The region keeps its last text when nothing is new, so a rerun neither repeats nor clears it.
    _live(key=f"live:{key}", data=fresh or None)
