"""Convolution lab: slide a kernel over the current picture and watch the feature map appear.

Every number comes from cnnviz.kernels (tested against keras.layers.Conv2D / DepthwiseConv2D).
This page never imports TensorFlow.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz import conv_arithmetic, describe, images, kernels
from cnnviz.ui import (accessible, export, figures, formats, motion, number_grids, session_memo, share, st_image,
                       tensor_shapes, url_state, widgets)
from cnnviz.ui.conv_slide import Slide
from cnnviz.ui.figures import colours
from cnnviz.ui.plain_text import plain
from cnnviz.ui.clickable_picture import Cells, clickable_picture, data_url
from cnnviz.ui.kernel_editor import kernel_editor, link_params

MODES = {
    "gray": "Grayscale first: one channel",
    "depthwise": "Each colour on its own (like DepthwiseConv2D)",
    "sum": "One filter across all 3 colours, summed (like Conv2D)",
}
CHANNELS = ("red", "green", "blue")
PADDINGS = {"valid": "valid: none", "same": "same: output size = input size ÷ stride",
            "explicit": "p zeros on every side (you choose p)"}
PLAY_SECONDS = 0.8
PICTURE_SIDE = 400       # px: pictures are drawn this big, then fitted to their column
HEATMAP_SIDE = 256       # larger maps are drawn at every n-th row/column (hover stays exact)
state = st.session_state
PARAMS = [
    *link_params("conv_kernel", "Sobel x"),
    url_state.integer("stride", "conv_stride", 1, 5, 1),
    url_state.integer("dilation", "conv_dilation", 1, 4, 1),
    url_state.choice("padding", "conv_padding", list(PADDINGS), "valid"),
    url_state.integer("p", "conv_p", 0, 10, 1),
    url_state.choice("colour", "conv_mode", list(MODES), "sum"),
    url_state.choice("channel", "conv_channel", CHANNELS, "red", what="colour channel"),
    url_state.integer("row", "conv_row", 0, 4096, None),      # the page clamps to the map's size
    url_state.integer("col", "conv_col", 0, 4096, None),
    tensor_shapes.data_format_param(url_state, "conv_data_format"),
]


def _memo(name: str, source, params: tuple, compute):
    """Keep the last result per session: recomputed only when the picture object, params or the
    map colours (the palette in the sidebar) change."""
    return session_memo.remembered("conv_memo", name, source, (*params, colours.palette("diverging")), compute)


def _encoded(fitted: tuple[np.ndarray, float]) -> bytes:
    """A fitted picture (RGB, scale) encoded: enlarged ones as PNG (crisp), shrunk ones as JPEG
    (quicker to encode). Encoded once per change, so reruns reuse the bytes."""
    rgb, f = fitted
    return figures.encode_picture(Image.fromarray(rgb), lossy=f < 1)


def _picture_bytes(pixels: np.ndarray, size: int = PICTURE_SIDE) -> bytes:
    """A picture in [0, 1], drawn about `size` px across."""
    return _encoded(figures.fit_rgb(figures.rgb8(pixels), size))


def _map_bytes(values: np.ndarray, size: int = PICTURE_SIDE) -> bytes:
    """A feature map in the diverging colours (0 white), drawn about `size` px across."""
    return _encoded(figures.map_picture(values, size))


def export_buttons(feature_map: np.ndarray, kernel: np.ndarray, stem: str) -> None:
    with share.secondary("conv_export"), st.container(horizontal=True, gap="small"):
        export.download("Feature map (PNG)", lambda: export.map_png(feature_map), f"{stem}.png",
                        export.PNG, "conv_export_png")
        export.download("Feature map (CSV)", lambda: export.grid_csv(feature_map), f"{stem}.csv",
                        export.CSV, "conv_export_csv")
        export.download("Kernel (CSV)", lambda: export.grid_csv(kernel), f"{stem}-kernel.csv",
                        export.CSV, "conv_export_kernel")


# --------------------------------------------------------------------------- the page

linked = url_state.restore(PARAMS, "convolution")
share.page_header("Convolution: sliding a kernel over an image")
share.intro(
    "A **kernel** (or filter) is a small grid of numbers. It slides across the image; at every "
    "stop each weight is multiplied by the pixel under it, the products are **added up** (plus a "
    "bias) and that one number is written into the **feature map**. Where the image looks like "
    "the kernel, the sum is large.")
with share.secondary("conv_note"):
    st.caption("Strictly speaking this is *cross-correlation*: the kernel is not flipped before it "
               "slides. Keras's Conv2D does exactly the same, and so does this page.")

picture = widgets.current_picture()
pixels = np.asarray(picture.pixels, dtype=np.float32)
is_rgb = pixels.ndim == 3

left, right = st.columns([1, 1.6], gap="large")
with left:
    st.header("1 · The kernel")
    choice = kernel_editor("conv_kernel", default="Sobel x", linked=linked)
    st.header("2 · How it slides")
    c_stride, c_dilation = st.columns(2)
    c_stride.slider("Stride (jump size)", value=1, **url_state.widget(PARAMS, "conv_stride"),
                    help="How many pixels the window moves between two outputs.")
    c_dilation.slider("Dilation (tap spacing)", value=1, **url_state.widget(PARAMS, "conv_dilation"),
                      help="Dilation d spreads the taps d pixels apart, so a 3×3 kernel covers a "
                           "(2d+1)×(2d+1) area.")
    st.radio("Padding (zeros around the image)", list(PADDINGS), format_func=PADDINGS.get,
             key="conv_padding")
    if state["conv_padding"] == "explicit":
        st.number_input("p (zeros added on every side)", value=1, step=1, **url_state.widget(PARAMS, "conv_p"))
    if is_rgb:
        st.radio("This is a colour image. Filter…", list(MODES), format_func=MODES.get, key="conv_mode",
                 index=2)
    else:
        st.caption("This image is grayscale: the kernel slides over its single channel.")
    slide_message = st.empty()

mode = state.get("conv_mode", "sum") if is_rgb else "gray"
padding = state["conv_padding"] if state["conv_padding"] != "explicit" else int(state.get("conv_p", 1))
wanted = Slide(int(state["conv_stride"]), padding, int(state["conv_dilation"]))
kernel = choice.kernel
try:
    wanted.check(pixels.shape, kernel.shape)
    slide = wanted
    state["conv_last_slide"] = wanted
except ValueError as exc:
    slide = None
    for fallback in (state.get("conv_last_slide"), Slide(1, "same", 1)):
        try:
            if fallback is not None:
                fallback.check(pixels.shape, kernel.shape)
                slide = fallback
                break
        except ValueError:
            continue
    slide_message.error(plain(f"{exc} Showing {slide.describe()} instead."), icon="⚠️")

x = _memo("input", picture.pixels, (mode,), lambda: pixels if mode != "gray" else images.to_gray(pixels))
depthwise = mode == "depthwise"
params = (mode, kernel.tobytes(), kernel.shape, choice.bias, slide.stride, slide.padding, slide.dilation)
out = _memo("output", picture.pixels, params, lambda: kernels.convolve(
    x, kernel, slide.stride, slide.padding, slide.dilation, bias=choice.bias, depthwise=depthwise))
out2d = out.sum(axis=2) if out.ndim == 3 else out
widgets.set_feature_map(out2d, f"{choice.name} on {picture.name}" + (
    " (the 3 colour maps added)" if depthwise else ""))

# --------------------------------------------------------------------------- the feature map

kh, kw = kernel.shape
h, w = x.shape[:2]
oh, ow = out.shape[:2]
pads_h = conv_arithmetic.pad_amounts(h, kh, slide.stride, slide.padding, slide.dilation)
pads_w = conv_arithmetic.pad_amounts(w, kw, slide.stride, slide.padding, slide.dilation)
with right:
    st.header("3 · The feature map")
    channels_text = " × 3 channels" if depthwise else ""
    st.markdown(f"### Input {h} × {w} → kernel {kh} × {kw} → output **{oh} × {ow}**{channels_text}")
    c_in, c_out = st.columns([0.6, 1.5], gap="small")
    with c_in:
        st.markdown("**Input**" + (" (as grayscale)" if mode == "gray" and is_rgb else ""))
        st_image.show(_memo("input_png", picture.pixels, (mode,), lambda: _picture_bytes(x)), caption=plain(picture.name),
                      alt=_memo("input_alt", x, (picture.name,),
                                lambda: describe.picture(x, f"The input {plain(picture.name)}")))
        if depthwise:
            st.markdown("**Output as colours**")
            st_image.show(_memo("output_png", picture.pixels, params, lambda: _picture_bytes(out)),
                          caption="the 3 filtered channels (clipped to 0…1)",
                          alt=_memo("output_alt", out, (), lambda: describe.picture(
                              np.clip(out, 0, 1), "The 3 filtered channels as colours")))
    with c_out:
        if depthwise:
            channel = st.radio("Channel in the heatmap", CHANNELS, horizontal=True, key="conv_channel")
            shown = out[..., CHANNELS.index(channel)]
            what = f"the {channel} channel"
        else:
            shown = out2d
            what = "the feature map"
        negative, positive = figures.sign_colours()
        st.markdown(f"**Output: {what}**  \n:gray[{positive} > 0 > {negative}, white = 0 · the numbers: step "
                    "through below]")
        lo, hi = figures.value_range(shown, "diverging")   # the colours map_picture uses
        shown_channel = (state.get("conv_channel") if depthwise else None,)
        map_alt = _memo("map_alt", out, shown_channel, lambda: describe.feature_map(shown, f"Output: {what}"))
        st_image.show(_memo("map_png", out, shown_channel, lambda: _map_bytes(shown)), width="stretch", alt=map_alt)
        st.html(number_grids.colour_scale_html(float(lo), float(hi)))
        accessible.as_numbers(shown, f"Output: {what}")
        with share.secondary("conv_hover"):
            if st.toggle("Interactive chart: hover for every value", key="conv_hover_chart"):
                fig, step = _memo("heatmap", out, (*shown_channel, share.presenting()),
                                  lambda: figures.feature_map_figure(shown, max_side=HEATMAP_SIDE,
                                                                     height=share.scaled(460)))
                st.plotly_chart(fig, key="conv_heatmap", config={"displaylogo": False}, alt=map_alt)
                if step > 1:
                    st.caption(f"Large map: drawn with one row and column in every {step} "
                               f"({math.ceil(oh / step)} × {math.ceil(ow / step)} of {oh} × {ow}) "
                               "to keep the page quick. Hovered values are exact.")
        export_buttons(shown, kernel, export.file_stem(choice.name, "on", picture.name))

    with st.container(border=True):
        st.markdown("**Why this size?** For each side: "
                    "o = ⌊(i + 2p − k − (k−1)(d−1)) / s⌋ + 1, with input i, padding p, kernel k, "
                    "dilation d and stride s.")
        st.markdown(f"`{slide.formula('height', h, kh, pads_h, oh)}`  \n"
                    f"`{slide.formula('width', w, kw, pads_w, ow)}`")
        if slide.padding == "same":
            st.caption(f"'same' pads just enough that o = ⌈i / s⌉ (here {pads_h[0]} above, "
                       f"{pads_h[1]} below, {pads_w[0]} left, {pads_w[1]} right; an odd extra zero "
                       "goes below/right, as in Keras).")
    with share.secondary("conv_tensors"):
        x3 = x if x.ndim == 3 else x[..., None]
        tensor_shapes.tensor_box("DepthwiseConv2D" if depthwise else "Conv2D", x3.shape,
                                 (oh, ow, 3 if depthwise else 1), "conv_data_format", sample=x3)

# --------------------------------------------------------------------------- step-through

st.header("4 · One step at a time")
st.markdown("Pick an output position (sliders, or click either picture) and see the sum that "
            "produced it.")
playing = st.toggle("▶ Play: slide the window automatically", key="conv_play")
play_every = motion.every(PLAY_SECONDS)
st.caption("Switch Play off to pause; the sliders, a click or the arrow keys on a picture step by hand."
           + (f" Your device asks for reduced motion, so Play takes one step every {play_every:g} s."
              if play_every > PLAY_SECONDS else ""))


def _advance(oh: int, ow: int) -> None:
    jump_c, jump_r = max(1, math.ceil(ow / 24)), max(1, math.ceil(oh / 24))
    r, c = state.get("conv_row", 0), state.get("conv_col", 0) + jump_c
    if c >= ow:
        r, c = r + jump_r, 0
    if r >= oh:
        r = 0
    state["conv_row"], state["conv_col"] = r, c


def _on_click_input(geometry, val) -> None:
    """A click on the input picks the output whose window is centred nearest the click."""
    f, natural_width, stride, eff_h, eff_w, oh, ow = geometry
    browser = val["width"] / natural_width if val.get("width") else 1.0  # shown vs drawn size
    row_p = val["y"] / (f * browser)
    col_p = val["x"] / (f * browser)
    state["conv_row"] = int(np.clip(round((row_p - 0.5 - (eff_h - 1) / 2) / stride), 0, oh - 1))
    state["conv_col"] = int(np.clip(round((col_p - 0.5 - (eff_w - 1) / 2) / stride), 0, ow - 1))


def _on_click_output(geometry, val) -> None:
    f, natural_width, oh, ow = geometry
    f = f * (val["width"] / natural_width if val.get("width") else 1.0)
    state["conv_row"] = int(np.clip(val["y"] // f, 0, oh - 1))
    state["conv_col"] = int(np.clip(val["x"] // f, 0, ow - 1))


def _channel_map(out: np.ndarray, mode: str, channel: int | None) -> np.ndarray:
    """The 2-D map the step-through shows: one channel (depthwise) or the channels summed."""
    if mode == "depthwise":
        return out[..., channel]
    return out.sum(axis=2) if out.ndim == 3 else out


def _position_controls(out: np.ndarray, mode: str, playing: bool) -> tuple[int, int, int | None]:
    """Row and column sliders (and the colour channel whose numbers to show): (row, col, channel)."""
    oh, ow = out.shape[:2]
    if "conv_row" not in state:   # start somewhere interesting: the strongest response
        r, c = np.unravel_index(int(np.argmax(np.abs(_channel_map(out, "sum", None)))), (oh, ow))
        state["conv_row"], state["conv_col"] = int(r), int(c)
    if playing:
        _advance(oh, ow)
    row = widgets.clamped_slider("Output row", "conv_row", 0, oh - 1, oh // 2,
                                 only_one="Output row: 0 (the only one)")
    col = widgets.clamped_slider("Output column", "conv_col", 0, ow - 1, ow // 2,
                                 only_one="Output column: 0 (the only one)")
    if mode == "sum":
        st.radio("Show the numbers of channel", CHANNELS, horizontal=True, key="conv_channel")
    channel = CHANNELS.index(state.get("conv_channel", "red")) if mode != "gray" else None
    return row, col, channel


def _sum_lines(win, mode: str, channel: int | None, taps: int) -> tuple[list[tuple[str, float]], float]:
    """The parts of the sum (label, value) and the output value they make."""
    if mode == "depthwise":
        name = CHANNELS[channel]
        return [(f"sum of the {taps} {name} products", float(win.total[channel])),
                (f"\\+ {name} bias", float(np.broadcast_to(win.bias, (3,))[channel]))], float(win.value[channel])
    if mode == "sum":
        per = win.products.sum(axis=(0, 1))
        lines = [(f"sum of the {taps} {n} products", float(p)) for n, p in zip(CHANNELS, per)]
    else:
        lines = [(f"sum of the {taps} products", float(win.total))]
    return lines + [("\\+ bias", float(win.bias))], float(win.value)


def _sum_table(win, expected, mode: str, channel: int | None, row: int, col: int) -> None:
    lines, value = _sum_lines(win, mode, channel, win.kernel.shape[0] * win.kernel.shape[1])
    target = float(expected[channel]) if mode == "depthwise" else float(expected)
    table = "| the sum | value |\n|:--|--:|\n" + "".join(f"| {t} | {formats.value(v)} |\n" for t, v in lines)
    st.markdown(table)
    st.markdown(f"### Output value &nbsp; **{formats.value(value)}**")
    ok = "✓ the same number" if abs(value - target) <= 1e-4 * max(1.0, abs(target)) else "✗ differs"
    st.caption(f"The feature map holds {formats.value(target)} at row {row}, column {col}: {ok}.")


def _pickable(drawn: tuple) -> tuple[str, tuple[int, int], float]:
    """A drawn (picture, scale) as what clickable_picture shows: (data URL, size, scale)."""
    img, f = drawn
    return data_url(img, smooth=f < 1), img.size, f


def _window_picture(x: np.ndarray, out: np.ndarray, win, kernel: np.ndarray, slide: Slide, row: int,
                    col: int) -> None:
    """The input with its padding and the window's taps; a click picks the output there.
    Drawn, encoded and described once per window position (`out` stands for every setting)."""
    pads = tuple(conv_arithmetic.pad_amounts(n, k, slide.stride, slide.padding, slide.dilation)
                 for n, k in zip(x.shape[:2], kernel.shape))
    st.markdown("**The window on the input**" + (" (slate = padding, value 0)" if any(sum(pads, ())) else ""))

    def draw():
        base = _memo("rf_base", x, (pads,), lambda: figures.padded_picture(x, pads, PICTURE_SIDE))
        return _pickable(figures.receptive_field_image(x, win.rows, win.cols, pads, PICTURE_SIDE, base=base))
    src, size, f = _memo("window_picture", out, (row, col), draw)
    alt = _memo("window_alt", out, (row, col), lambda: describe.picture(x, "The input") + (
        f" The window covers rows {win.rows[0]} to {win.rows[-1]}, columns {win.cols[0]} to {win.cols[-1]}. "
        "Click to pick an output position."))
    eff_h, eff_w = ((k - 1) * slide.dilation + 1 for k in kernel.shape)
    oh, ow = out.shape[:2]
    geometry = (f, size[0], slide.stride, eff_h, eff_w, oh, ow)
    keys = Cells(oh, ow, row, col, *size, pitch_y=f * slide.stride, pitch_x=f * slide.stride,
                 box_h=f * eff_h, box_w=f * eff_w, name="window")
    clickable_picture(src, "conv_click_in", functools.partial(_on_click_input, geometry), smooth=f < 1,
                      alt=alt, cells=keys)


def _output_picture(out: np.ndarray, mode: str, channel: int | None, row: int, col: int) -> None:
    """The feature map with the chosen output outlined; a click picks another."""
    shown = _channel_map(out, mode, channel)
    which = f" ({CHANNELS[channel]})" if mode == "depthwise" else ""
    st.markdown(f"**Output** at row {row}, column {col}{which}")

    def draw():
        base = _memo("map_base", out, (channel,), lambda: figures.map_picture(shown, PICTURE_SIDE))
        return _pickable(figures.marked_map_image(shown, row, col, PICTURE_SIDE, base=base))
    src, size, f = _memo("output_picture", out, (channel, row, col), draw)
    alt = _memo("output_picture_alt", out, (channel, row, col), lambda: describe.feature_map(
        shown, f"The output{which}") + f" Outlined: row {row}, column {col}, value "
        f"{describe.number(shown[row, col])}. Click to pick another.")
    keys = Cells(*shown.shape, row, col, *size, pitch_y=f, pitch_x=f, box_h=f, box_w=f, name="output")
    clickable_picture(src, "conv_click_out", functools.partial(_on_click_output, (f, size[0], *shown.shape)),
                      smooth=f < 1, alt=alt, cells=keys)


def _window_grids(win, channel: int | None) -> str:
    """The numbers under the window, the weights and their products, for one channel (HTML)."""
    if win.patch.ndim == 3:
        patch, kern, prods = win.patch[..., channel], win.kernel[..., channel], win.products[..., channel]
        title = f"{CHANNELS[channel]} values under the window"
    else:
        patch, kern, prods = win.patch, win.kernel, win.products
        title = "input values under the window"
    return number_grids.STYLE + number_grids.window_sum_html(patch, kern, prods, win.in_image, win.rows,
                                                             win.cols, patch_title=title)


def step_through(x, out, kernel, bias, slide, mode, playing):
    """One output position at a time: where its window sits, and the sum that makes it."""
    c_ctrl, c_in, c_out = st.columns([1, 1.1, 1.1], gap="medium")
    with c_ctrl:
        row, col, channel = _position_controls(out, mode, playing)
    win = _memo("window", out, (row, col), lambda: kernels.window(
        x, kernel, row, col, slide.stride, slide.padding, slide.dilation, bias=bias, depthwise=mode == "depthwise"))
    with c_ctrl:
        _sum_table(win, out[row, col], mode, channel, row, col)
    with c_in:
        _window_picture(x, out, win, kernel, slide, row, col)
    with c_out:
        _output_picture(out, mode, channel, row, col)
    st.html(_memo("window_grids", out, (row, col, channel), lambda: _window_grids(win, channel)))


url_state.fragment(step_through, run_every=play_every if playing else None)(
    x, out, kernel, choice.bias, slide, mode, playing)
