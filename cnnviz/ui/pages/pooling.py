"""Pooling (max / average / L2) and dropout. Pure NumPy: this page never imports TensorFlow."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnviz import describe, images, pooling
from cnnviz.ui import accessible, export, figures, share, st_image, url_state, widgets
from cnnviz.ui.plain_text import plain

MODE_LABELS = {"max": "max", "avg": "average", "l2": "L2 norm"}
SOURCE_MAP, SOURCE_PICTURE = "the feature map from the Convolution page", "the picture in grayscale"
PARAMS = [
    url_state.choice("pool", "pool_source", {SOURCE_MAP: "feature-map", SOURCE_PICTURE: "picture"},
                     SOURCE_MAP, what="thing to pool"),
    url_state.flag("relu", "pool_relu", True),
    url_state.choice("mode", "pool_mode", list(MODE_LABELS), "max", what="pooling"),
    url_state.integer("size", "pool_size", 1, 4, 2),
    url_state.flag("stride_is_size", "pool_same_stride", True),
    url_state.integer("stride", "pool_stride", 1, 4, 2),
    url_state.choice("padding", "pool_padding", ["valid", "same"], "valid"),
    url_state.integer("row", "pool_row", 0, 4096, None),       # clamped to the pooled map below
    url_state.integer("col", "pool_col", 0, 4096, None),
    url_state.flag("winners", "pool_show_winners", True),
    url_state.integer("shift", "pool_shift", 1, 3, 1),
    url_state.choice("direction", "pool_dir", ["right", "down"], "right"),
    url_state.number("dropout", "drop_rate", 0.0, 0.9, 0.5),
    url_state.choice("dropout_mode", "drop_mode", ["training", "inference"], "training"),
    url_state.integer("mask", "drop_seed", 0, 1_000_000, 0),
]

url_state.restore(PARAMS, "pooling")
share.page_header("Pooling & dropout")
share.intro(
    "After the activation, a **pooling layer** shrinks each feature map: it slides a small window "
    "over the map and keeps one number per window, the **max**, the **average** or the **L2 norm** "
    "(√ of the sum of squares). Once we know a feature is *somewhere around here*, its exact "
    "pixel matters less. A smaller map means fewer numbers for the next layers (fewer "
    "parameters) and less chance to memorise details (overfitting).")

# --------------------------------------------------------------------------- the map and settings
shared = widgets.current_feature_map()
picture = widgets.current_picture()
c_src, c_relu = st.columns([3, 2])
if shared is not None:
    source = c_src.radio("Pool", [SOURCE_MAP, SOURCE_PICTURE], horizontal=True, key="pool_source")
else:
    source = SOURCE_PICTURE
if source == SOURCE_MAP:
    fmap = np.asarray(shared[0], dtype=np.float32)
    relu_first = c_relu.checkbox("ReLU first (convolution → ReLU → pooling)", value=True,
                                 key="pool_relu")
    if relu_first:
        fmap = np.maximum(fmap, 0)
    what = f"feature map “{plain(shared[1])}”" + (" after ReLU" if relu_first else "")
else:
    fmap = images.to_gray(picture.pixels)
    what = f"*{plain(picture.name)}* in grayscale"
    if shared is None:
        c_src.caption("Pooling the sidebar picture in grayscale. Make a feature map on the "
                      "Convolution page to pool that here instead.")

c1, c2, c3, c4 = st.columns(4)
mode = c1.radio("Pooling", list(MODE_LABELS), format_func=MODE_LABELS.get, horizontal=True,
                key="pool_mode")
size = c2.slider("Pool size k (k×k window)", value=2, **url_state.widget(PARAMS, "pool_size"))
same_stride = c3.checkbox("Stride = pool size (Keras default)", value=True, key="pool_same_stride")
stride = size if same_stride else c3.slider("Stride s", value=2, **url_state.widget(PARAMS, "pool_stride"))
padding = c4.radio("Padding", ["valid", "same"], horizontal=True, key="pool_padding",
                   help="valid: only whole windows. same: pad so the output is ⌈size ÷ stride⌉; "
                        "padded cells never win a max and are not counted in an average.")

h, w = fmap.shape
try:
    result = pooling.pool2d(fmap, size, stride, padding, mode)
except ValueError as exc:       # a window larger than the map: 'same' padding always fits
    st.error(plain(f"{exc} Showing 'same' padding instead."), icon="⚠️")
    padding = "same"
    result = pooling.pool2d(fmap, size, stride, padding, mode)
oh, ow = result.output.shape
(pt, pb), (pl, pr) = result.pads


def size_formula(n: int, k: int, s: int, out: int, before: int, after: int) -> str:
    if padding == "valid":
        return f"⌊({n} − {k}) ÷ {s}⌋ + 1 = **{out}**"
    return f"⌈{n} ÷ {s}⌉ = **{out}**  (padding {before} before, {after} after)"


st.markdown(
    f"Pooling {what}: **{h}×{w} → {oh}×{ow}** ({h * w:,} numbers → {oh * ow:,}).  \n"
    + ("Output size = ⌊(input − k) ÷ s⌋ + 1" if padding == "valid" else "Output size = ⌈input ÷ s⌉")
    + f": rows {size_formula(h, size, stride, oh, pt, pb)}, "
      f"columns {size_formula(w, size, stride, ow, pl, pr)}.")


@dataclass(frozen=True)
class Pooled:
    """What the sections below draw from: the map, the pooling settings and their result."""
    fmap: np.ndarray
    result: pooling.PoolResult
    mode: str
    size: int
    stride: int
    padding: str

    @property
    def cmap(self) -> str:
        return "diverging" if float(self.fmap.min()) < 0 else "viridis"

    @property
    def shared_scale(self) -> bool:
        """Max and average stay within the input's range; L2 does not."""
        return self.mode != "l2"

    def colour_range(self, vmax: float) -> tuple[float, float]:
        return (-vmax, vmax) if self.cmap == "diverging" else (0.0, vmax)


# --------------------------------------------------------------------------- one window
@url_state.fragment
def window_view(p: Pooled) -> None:
    fmap, result, mode, size, stride, padding, cmap = p.fmap, p.result, p.mode, p.size, p.stride, p.padding, p.cmap
    h, w = fmap.shape
    oh, ow = result.output.shape
    (pt, _), (pl, _) = result.pads
    vmax_in = float(np.max(np.abs(fmap))) or 1.0
    vmax_out = float(np.max(np.abs(result.output))) or 1.0
    best = np.unravel_index(int(np.argmax(result.output)), result.output.shape)
    st.header("Look inside one window")
    c_row, c_col, c_winners = st.columns(3)
    with c_row:
        row = widgets.clamped_slider("Output row", "pool_row", 0, oh - 1, int(best[0]),
                                     only_one="Output row: 0 (the only one)")
    with c_col:
        col = widgets.clamped_slider("Output column", "pool_col", 0, ow - 1, int(best[1]),
                                     only_one="Output column: 0 (the only one)")
    show_winners = c_winners.checkbox("Mark the winner of every window", value=mode == "max",
                                      disabled=mode != "max", key="pool_show_winners",
                                      help="Only max pooling has winners.")
    rows, cols = result.window(row, col)
    top, left = rows.start, cols.start
    bottom, right = min(rows.stop, h) - 1, min(cols.stop, w) - 1
    lo_in, hi_in = p.colour_range(vmax_in)
    lo_out, hi_out = p.colour_range(vmax_in if p.shared_scale else vmax_out)
    left_col, right_col = st.columns(2)
    winners = None
    if mode == "max" and show_winners:
        # a window whose cells are all equal has no real winner: leave it unmarked
        window_min = -pooling.pool2d(-fmap, size, stride, padding, "max").output
        winners = result.winners[result.output > window_min]
    side = share.scaled(420)
    st_image.show(figures.drawn(figures.pooling_image, fmap, lo_in, hi_in, cmap, side, winners,
                                (top, left, bottom, right), width=side),
                  width=side, caption=f"input {h}×{w}: the framed cells are the window of output ({row}, {col})"
                          + ("; white dots mark each window's winner (none where all values tie)"
                             if winners is not None else ""),
                  alt=describe.feature_map(fmap, "The input map") + " "
                  + describe.window(fmap[top:bottom + 1, left:right + 1], top, left,
                                    f"The framed window of output row {row}, column {col}"), where=left_col)
    st_image.show(figures.drawn(figures.pooling_image, result.output, lo_out, hi_out, cmap, side, None,
                                (row, col, row, col), width=side),
                  width=side, caption=f"{MODE_LABELS[mode]}-pooled output {oh}×{ow}"
                          + ("" if p.shared_scale else " (own colour scale: L2 values can exceed the input's)"),
                  alt=describe.feature_map(result.output, f"The {MODE_LABELS[mode]}-pooled output")
                  + f" Framed: row {row}, column {col}, value {describe.number(result.output[row, col])}.", where=right_col)
    with left_col:
        accessible.as_numbers(fmap, "The input map")
    with right_col:
        accessible.as_numbers(result.output, "The pooled output")
    stem = export.file_stem(MODE_LABELS[mode], "pooled", f"{size}x{size}")
    with share.secondary("pool_export"), st.container(horizontal=True, gap="small"):
        export.download("Pooled map (PNG)", lambda: export.png(figures.pooling_image(
            result.output, lo_out, hi_out, cmap, 512)), f"{stem}.png", export.PNG,
                        "pool_export_png")
        export.download("Pooled values (CSV)", lambda: export.grid_csv(result.output), f"{stem}.csv",
                        export.CSV, "pool_export_csv")
        export.download("Input map (CSV)", lambda: export.grid_csv(fmap), f"{stem}-input.csv",
                        export.CSV, "pool_export_input_csv")

    # the numbers in the window, with padded cells shown as such
    r_idx = np.arange(row * stride - pt, row * stride - pt + size)
    c_idx = np.arange(col * stride - pl, col * stride - pl + size)
    win_r, win_c = (result.winners[row, col] if mode == "max" else (-1, -1))
    lines = ["| | " + " | ".join(f"col {c}" for c in c_idx) + " |", "|---|" + "---:|" * len(c_idx)]
    for r in r_idx:
        cells = []
        for c in c_idx:
            if 0 <= r < h and 0 <= c < w:
                winner = (r, c) == (win_r, win_c)
                cells.append(f"**{fmap[r, c]:.4f} ★**" if winner else f"{fmap[r, c]:.4f}")
            else:
                cells.append("*padding*")
        lines.append(f"| **row {r}** | " + " | ".join(cells) + " |")
    values = fmap[top:bottom + 1, left:right + 1].astype(np.float64)
    out_value = float(result.output[row, col])
    t_col, v_col = st.columns([3, 2])
    t_col.markdown("\n".join(lines))
    if mode == "max":
        v_col.markdown(f"**max** of the {values.size} values = **{out_value:.4f}**, at input "
                       f"row {win_r}, column {win_c} (★). The other values are thrown away.")
    elif mode == "avg":
        v_col.markdown(f"**average** = sum {values.sum():.4f} ÷ {values.size} cells = **{out_value:.4f}**"
                       + (" (padding is not counted, as in Keras)" if values.size < size * size else ""))
    else:
        v_col.markdown(f"**L2** = √(sum of squares {np.square(values).sum():.4f}) = **{out_value:.4f}**")


pooled = Pooled(fmap, result, mode, size, stride, padding)
window_view(pooled)


# --------------------------------------------------------------------------- translation
@url_state.fragment
def translation_view(p: Pooled) -> None:
    h, w = p.fmap.shape
    oh, ow = p.result.output.shape
    st.header("Pooling and small shifts")
    st.markdown("Move the input a few pixels and compare how much each map changes, using the "
                "pooling settings above. Pooling reports *that* a feature is in a window, not exactly "
                "where, so its output usually changes less than the map it came from.")
    c1, c2 = st.columns(2)
    shift = c1.slider("Shift by (pixels)", value=1, **url_state.widget(PARAMS, "pool_shift"))
    direction = c2.radio("Direction", ["right", "down"], horizontal=True, key="pool_dir")
    t = pooling.translation_change(p.fmap, shift, p.size, p.mode, p.stride, p.padding,
                                   axis=1 if direction == "right" else 0)
    m1, m2, m3 = st.columns(3)
    m1.metric("map before pooling changed by", f"{t.map_change:.1%}",
              help="mean |shifted − original| ÷ mean |original|")
    m2.metric("pooled map changed by", f"{t.pooled_change:.1%}")
    if np.isfinite(t.ratio) and t.pooled_change > 0:
        m3.metric("pooled change ÷ map change", f"{t.ratio:.2f}",
                  help="Below 1: the pooled map is steadier than the map it came from.")
    d_map = np.abs(t.shifted - t.original)
    d_pool = np.abs(t.pooled_shifted - t.pooled)
    dmax = float(max(d_map.max(), d_pool.max())) or 1.0
    a, b = st.columns(2)
    st_image.show(figures.drawn(figures.picture_image, d_map, 300, "viridis", 0.0, dmax, width=300), width=300,
                  caption=f"|change| of the {h}×{w} map after shifting {shift} px {direction}",
                  alt=describe.feature_map(d_map, f"How much the map changed after shifting {shift} pixels {direction}"),
                  where=a)
    st_image.show(figures.drawn(figures.picture_image, d_pool, 300, "viridis", 0.0, dmax, width=300), width=300,
                  caption=f"|change| of the {oh}×{ow} pooled map (same colour scale)",
                  alt=describe.feature_map(d_pool, "How much the pooled map changed"), where=b)


translation_view(pooled)


# --------------------------------------------------------------------------- dropout
@url_state.fragment
def dropout_view(p: Pooled) -> None:
    oh, ow = p.result.output.shape
    st.header("Dropout")
    st.markdown(
        "A **dropout layer** sets a random part of the activations to 0 on every training step, so "
        "the network cannot rely on any single unit and overfits less. The survivors are scaled by "
        "1 ÷ (1 − rate) so the total stays about the same. Here it acts on the pooled map above.")
    c1, c2, c3 = st.columns([3, 2, 1])
    rate = c1.slider("Dropout rate (share of units dropped)", value=0.5, step=0.05,
                     **url_state.widget(PARAMS, "drop_rate"))
    training = c2.radio("Mode", ["training", "inference"], horizontal=True, key="drop_mode") == "training"
    st.session_state.setdefault("drop_seed", 0)
    if c3.button("New random mask", key="drop_resample", disabled=not training):
        st.session_state["drop_seed"] += 1
    seed = st.session_state["drop_seed"]
    x = p.result.output
    out = pooling.apply_dropout(x, rate, seed, training)
    mask = pooling.dropout_mask(x.shape, rate, seed) if training else np.ones(x.shape, dtype=bool)
    vmax = float(np.max(np.abs(out))) or 1.0
    lo, hi = p.colour_range(vmax)
    a, b, c = st.columns(3)
    st_image.show(figures.drawn(figures.pooling_image, x, lo, hi, p.cmap, 300, width=300), width=300,
                  caption=f"input: the pooled map {oh}×{ow}", alt=describe.feature_map(x, "Dropout's input, the pooled map"),
                  where=a)
    st_image.show(figures.drawn(figures.picture_image, np.where(mask, 0.85, 0.0), 300, width=300), width=300,
                  caption="mask: grey = kept, black = dropped" if training else "inference: everything is kept",
                  alt=f"The dropout mask, {oh} × {ow}: {int(mask.sum())} kept, {int(mask.size - mask.sum())} dropped.",
                  where=b)
    st_image.show(figures.drawn(figures.pooling_image, out, lo, hi, p.cmap, 300, width=300), width=300,
                  caption=f"output: survivors × {1 / (1 - rate):.3g}" if training else "output = input",
                  alt=describe.feature_map(out, "Dropout's output"), where=c)
    kept = int(mask.sum())
    m1, m2, m3 = st.columns(3)
    m1.metric("units kept", f"{kept} of {mask.size}", f"{kept / mask.size:.0%}", delta_color="off")
    m2.metric("scale for survivors", f"× {1 / (1 - rate):.3g}" if training else "× 1")
    m3.metric("sum before → after", f"{x.sum():.3g} → {out.sum():.3g}")
    st.caption("Only during training: at inference (predicting) every unit is kept and nothing is "
               "scaled, so the same input always gives the same answer. Keras's Dropout layer does "
               "exactly this (training=True / False).")


dropout_view(pooled)
