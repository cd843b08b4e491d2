"""The kernel editor: a preset picker, an editable grid of weights, a bias and "normalise".

Typed cells are validated by cnnviz.kernel_text.parse_kernel; a bad cell gives one st.error line
and the last valid kernel stays in use. State lives in st.session_state under `<key>_...`:

    <key>_preset   the preset selectbox          <key>_size   the size selectbox (1..7)
    <key>_bias     the bias number input         <key>_base   the grid the editor starts from
    <key>_ver      a new one when the grid is replaced (a preset, a new size, normalise: the
                   next number; a link: its token, the same for every student following it)
    <key>_grid_<ver>  the grid of cells (kernel_grid)  <key>_good   the last valid kernel
    <key>_link_preset, <key>_link_cells   what a shared link carries (see link_params)
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import streamlit as st

from cnnviz import kernel_text, kernels
from cnnviz.ui import share, url_state
from cnnviz.ui.plain_text import plain
from cnnviz.ui.kernel_grid import kernel_grid

CUSTOM = "custom"


@dataclass(frozen=True)
class KernelChoice:
    kernel: np.ndarray      # kh×kw float64: exactly the numbers in the grid
    bias: float
    name: str               # preset name, or "custom (edited from <preset>)"


def format_cells(kernel: np.ndarray) -> list[list[str]]:
    """Weights as text for the grid: a shared denominator when one exists ("1/9", "6/256")."""
    k = np.asarray(kernel, dtype=np.float64)
    for den in (1, 2, 3, 4, 5, 6, 8, 9, 10, 16, 25, 32, 49, 64, 100, 128, 256):
        scaled = k * den
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-9):
            ints = np.round(scaled).astype(int)
            if den == 1:
                return [[str(v) for v in row] for row in ints]
            return [["0" if v == 0 else f"{v}/{den}" for v in row] for row in ints]
    out = []
    for row in k:
        cells = []
        for v in row:
            frac = Fraction(float(v)).limit_denominator(1000)
            if frac.denominator > 1 and abs(float(frac) - v) < 1e-12:
                cells.append(f"{frac.numerator}/{frac.denominator}")
            else:
                cells.append(f"{v:.6g}")
        out.append(cells)
    return out


def resize_kernel(kernel: np.ndarray, size: int) -> np.ndarray:
    """Centre the kernel in a size×size grid: pad with zeros or crop the middle."""
    k = np.asarray(kernel, dtype=np.float64)
    out = np.zeros((size, size))
    h, w = k.shape
    # Source and destination windows, both centred.
    sh, dh = max((h - size) // 2, 0), max((size - h) // 2, 0)
    sw, dw = max((w - size) // 2, 0), max((size - w) // 2, 0)
    nh, nw = min(h, size), min(w, size)
    out[dh:dh + nh, dw:dw + nw] = k[sh:sh + nh, sw:sw + nw]
    return out


def _parse_cells(text: str) -> list[list[str]]:
    """'1,0,-1;2,0,-2;1,0,-1' (rows split by ';') -> the grid's cells, checked like typed ones."""
    rows = [[c.strip() for c in row.split(",")] for row in text.split(";")]
    kernel = kernel_text.parse_kernel(rows)          # ValueError names the bad cell
    if kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"the kernel is {kernel.shape[0]}×{kernel.shape[1]}, but the editor "
                         "holds square kernels")
    return rows


def link_params(key: str, default: str) -> list[url_state.Param]:
    """The editor's settings in a shared link: the preset, the edited cells, the bias."""
    return [
        url_state.choice("kernel", f"{key}_link_preset", list(kernels.PRESETS), default,
                         what="preset kernel"),
        url_state.Param("cells", f"{key}_link_cells", None, _parse_cells,
                        encode=lambda rows: ";".join(",".join(r) for r in rows)),
        url_state.number("bias", f"{key}_bias", -kernel_text.MAX_ABS_VALUE, kernel_text.MAX_ABS_VALUE, 0.0),
    ]


def _follow_link(key: str, default: str) -> None:
    state = st.session_state
    name = state[f"{key}_preset"] = state.get(f"{key}_link_preset") or default
    cells = state.get(f"{key}_link_cells")
    kernel = kernel_text.parse_kernel(cells) if cells else kernels.PRESETS[name]
    _start_from(key, name, kernel, bool(cells), url_state.link_token())


def _start_from(key: str, origin: str, kernel: np.ndarray, edited: bool, version: str | None = None) -> None:
    """The editor starts again from `kernel`, which came from preset `origin` (edited or not)."""
    st.session_state[f"{key}_size"] = kernel.shape[0]
    st.session_state[f"{key}_origin"] = origin
    st.session_state[f"{key}_edited"] = edited
    _set_grid(key, kernel, version)


def _set_grid(key: str, kernel: np.ndarray, version: str | None = None) -> None:
    """The grid starts again from `kernel`, in a new grid widget: under `version` (a link's
    token), else the next number."""
    state = st.session_state
    state[f"{key}_base"] = format_cells(kernel)
    state[f"{key}_good"] = kernel_text.parse_kernel(state[f"{key}_base"])
    last = state.get(f"{key}_ver")
    if version is None:
        version = last + 1 if isinstance(last, int) else 1
    elif version == last:              # the same link again (edits since are dropped): a new grid
        version += "+"
    state[f"{key}_ver"] = version
    url_state.discard(f"{key}_msg")


def _on_preset(key: str) -> None:
    name = st.session_state[f"{key}_preset"]
    _start_from(key, name, kernels.PRESETS[name], edited=False)


def _on_size(key: str) -> None:
    size = st.session_state[f"{key}_size"]
    _set_grid(key, resize_kernel(st.session_state[f"{key}_good"], size))
    st.session_state[f"{key}_edited"] = True


def _on_normalise(key: str) -> None:
    try:
        kernel = kernel_text.normalise(st.session_state[f"{key}_good"])
    except ValueError as exc:
        st.session_state[f"{key}_msg"] = str(exc)
        return
    _set_grid(key, kernel)
    st.session_state[f"{key}_edited"] = True


def _on_reset(key: str) -> None:
    st.session_state[f"{key}_preset"] = st.session_state.get(f"{key}_origin", st.session_state[f"{key}_preset"])
    _on_preset(key)


def _checked(typed, size: int) -> np.ndarray:
    """The browser's grid as a kernel: the editor's size, each cell checked by parse_kernel."""
    if not (isinstance(typed, list) and len(typed) == size
            and all(isinstance(row, list) and len(row) == size for row in typed)):
        raise ValueError(f"The grid that came back is not {size} × {size}.")
    return kernel_text.parse_kernel(typed)


def kernel_editor(key: str = "kernel", default: str = "Sobel x", linked: bool = False) -> KernelChoice:
    """Draw the editor and return the kernel to use (always a valid one).

    linked: a shared link was just opened; its preset and cells (link_params) replace the grid.
    """
    state = st.session_state
    if linked:
        _follow_link(key, default)
    elif f"{key}_base" not in state:
        state[f"{key}_preset"] = default
        _on_preset(key)
    state.setdefault(f"{key}_bias", 0.0)

    names = list(kernels.PRESETS)
    st.selectbox("Preset kernel", names, key=f"{key}_preset", on_change=_on_preset, args=(key,),
                 help="Start from a classic image-processing kernel, then edit its numbers below.")
    origin = state[f"{key}_origin"]
    st.info(f"**{origin}**: {kernels.DESCRIPTIONS[origin]}")

    with share.secondary(f"{key}_size_bias"):
        c_size, c_bias = st.columns(2)
        c_size.selectbox("Kernel size", list(range(1, kernel_text.MAX_KERNEL_SIZE + 1)), key=f"{key}_size",
                         format_func=lambda k: f"{k} × {k}", on_change=_on_size, args=(key,),
                         help="Grows or shrinks the grid around its centre (new cells are 0).")
        bias = c_bias.number_input("Bias (added to every sum)", key=f"{key}_bias", step=0.1,
                                   min_value=-kernel_text.MAX_ABS_VALUE, max_value=kernel_text.MAX_ABS_VALUE,
                                   format="%.3f")

    base = state[f"{key}_base"]
    size = len(base)
    st.caption("Type a number in any cell: 2, -0.5 or 1/9 all work.")
    typed = kernel_grid(base, key=f"{key}_grid_{state[f'{key}_ver']}")
    try:
        kernel = _checked(typed, size)
    except ValueError as exc:
        kernel = state[f"{key}_good"]
        st.error(plain(f"{exc} Still using the last valid kernel."), icon="⚠️")
    else:
        if not np.array_equal(kernel, state[f"{key}_good"]):
            state[f"{key}_edited"] = True
        state[f"{key}_good"] = kernel

    with share.secondary(f"{key}_buttons"):
        c_norm, c_reset = st.columns(2)
    c_norm.button("Normalise to sum 1", key=f"{key}_normalise", on_click=_on_normalise, args=(key,),
                  help="Divide every weight by their total, so a blur keeps the brightness.",
                  width="stretch")
    c_reset.button(f"Reset to “{origin}”", key=f"{key}_reset", on_click=_on_reset, args=(key,),
                   width="stretch")
    if f"{key}_msg" in state:
        st.error(plain(state.pop(f"{key}_msg")), icon="⚠️")

    total = float(kernel.sum())
    st.caption(f"Weights add up to {total:.4g}.")
    edited = bool(state.get(f"{key}_edited"))
    name = f"{CUSTOM} (edited from {origin})" if edited else origin
    state[f"{key}_link_preset"] = origin
    state[f"{key}_link_cells"] = format_cells(kernel) if edited else None
    return KernelChoice(np.array(kernel, dtype=np.float64), float(bias), name)
