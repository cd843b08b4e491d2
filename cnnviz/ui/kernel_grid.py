"""The kernel's cells as a grid of text boxes, drawn in the page itself (no iframe, no data grid).

An st.components.v2 component: a new visitor loads no extra bundle for it (st.data_editor's
grid costs about half a second on a first visit). Each cell is tinted by its sign, as the
feature map is (red > 0, blue < 0); the sign is written in the number too. A cell is sent when it
loses focus or Enter is pressed (Enter moves to the next cell, the arrow keys to the cell beside:
left and right once the caret is at the text's edge); the whole grid comes back as rows of text,
checked in Python.
"""
from __future__ import annotations

import streamlit as st

_CSS = """
.grid { display: inline-grid; gap: 4px; }
.grid input {
  width: 4.2em; height: 2.3em; box-sizing: border-box; text-align: center;
  font: 0.95rem "Source Code Pro", ui-monospace, monospace; color: var(--st-text-color, #31333f);
  background: var(--st-secondary-background-color, #f0f2f6);
  border: 1px solid var(--st-border-color, #d5dae5); border-radius: 6px;
}
.grid input:focus { outline: 3px solid #1c5fd4; outline-offset: 1px; }
.grid input.pos { background: #fbe3e1; }
.grid input.neg { background: #dfe9f7; }
.grid input.bad { border: 2px solid #d33; }
"""

_JS = """
function tint(input) {
  const v = input.value.trim();
  let x = NaN;
  const f = v.match(/^([+-]?[0-9.eE+-]+)\\s*\\/\\s*([0-9.eE+-]+)$/);
  x = f ? Number(f[1]) / Number(f[2]) : Number(v);
  input.classList.toggle("pos", x > 0);
  input.classList.toggle("neg", x < 0);
  input.classList.toggle("bad", v === "" || !Number.isFinite(x));
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const cells = data;
  const n = cells.length, m = cells[0].length;
  const signature = JSON.stringify(cells);
  let grid = parentElement.querySelector(".grid");
  if (grid && grid.dataset.signature === signature) return;
  if (grid) grid.remove();
  grid = document.createElement("div");
  grid.className = "grid";
  grid.dataset.signature = signature;
  grid.style.gridTemplateColumns = `repeat(${m}, auto)`;
  const inputs = [];
  const send = () => {
    const rows = [];
    for (let r = 0; r < n; r++) rows.push(inputs.slice(r * m, r * m + m).map((i) => i.value));
    setStateValue("cells", rows);
  };
  cells.forEach((row, r) => row.forEach((value, c) => {
    const input = document.createElement("input");
    input.value = value;
    input.setAttribute("aria-label", `kernel row ${r + 1}, column ${c + 1}`);
    input.spellcheck = false;
    input.autocomplete = "off";
    input.maxLength = 40;
    tint(input);
    input.addEventListener("input", () => tint(input));
    input.addEventListener("change", send);
    input.addEventListener("keydown", (e) => {
      const i = inputs.indexOf(input), atStart = input.selectionEnd === 0,
            atEnd = input.selectionStart === input.value.length;
      const to = { Enter: (i + 1) % inputs.length, ArrowUp: r > 0 ? i - m : -1, ArrowDown: r < n - 1 ? i + m : -1,
                   ArrowLeft: c > 0 && atStart ? i - 1 : -1, ArrowRight: c < m - 1 && atEnd ? i + 1 : -1 }[e.key];
      if (to === undefined || to < 0) return;
      e.preventDefault();
      inputs[to].focus();
      inputs[to].select();
    });
    inputs.push(input);
    grid.appendChild(input);
  }));
  parentElement.appendChild(grid);
}
"""

_component = st.components.v2.component("cnnviz_kernel_grid", css=_CSS, js=_JS)


def kernel_grid(cells: list[list[str]], key: str):
    """Draw the grid starting from `cells`; return what the browser last sent (rows of text),
    or `cells` until the person edits one. The value is not trusted: callers check it."""
    # data is the rows themselves, not a dict: Streamlit looks for dataframes in a dict's values,
    # which imports pandas (0.3 s on a fresh server's first visit).
    result = _component(key=key, data=cells, default={"cells": cells},
                        on_cells_change=lambda: None, width="content")
    return result.get("cells", cells)
