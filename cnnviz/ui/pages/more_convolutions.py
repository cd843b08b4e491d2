"""More convolutions: transposed (upsampling), 3D (over frames) and depthwise separable."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import conv3d, describe, kernels, model_input, separable, transposed
from cnnviz.ui import accessible, figures, formats, preload, share, st_image, url_state, widgets

SIDE = 8          # the transposed convolution's input: the picture shrunk to 8 x 8
FRAMES = 5        # the 3D convolution's volume: the picture moving right, one pixel a frame
VOLUME_SIDE = 24
SEPARABLE_SIDE = 32
T_KERNELS = {
    "ones 3 × 3": np.ones((3, 3), np.float32),
    "ones 2 × 2": np.ones((2, 2), np.float32),
    "bilinear 4 × 4": np.outer([0.25, 0.75, 0.75, 0.25], [0.25, 0.75, 0.75, 0.25]).astype(np.float32),
}
V_KERNELS = {"motion (this frame − the one before)": "motion", "blur in space and time": "blur"}
PARAMS = [
    url_state.choice("t_kernel", "mc_t_kernel", list(T_KERNELS), "ones 3 × 3", what="kernel"),
    url_state.integer("t_stride", "mc_t_stride", 1, 3, 2),
    url_state.choice("t_padding", "mc_t_padding", ["valid", "same"], "valid"),
    url_state.choice("v_kernel", "mc_v_kernel", list(V_KERNELS), list(V_KERNELS)[0], what="kernel"),
    url_state.integer("v_stride", "mc_v_stride", 1, 2, 1),
    url_state.choice("v_padding", "mc_v_padding", ["valid", "same"], "same"),
    url_state.integer("k", "mc_k", 1, 7, 3),
    url_state.integer("c", "mc_c", 1, 1024, 64),
    url_state.integer("f", "mc_f", 1, 1024, 128),
]


def grey_picture(side: int) -> np.ndarray:
    pic = widgets.current_picture()
    x, _ = model_input.fit_input(pic.pixels, side, side, 1)
    return x[..., 0]


def map_image(values: np.ndarray, size: int):
    return figures.picture_image(values, share.scaled(size), cmap="viridis")


# ----------------------------------------------------------------------------- transposed

def transposed_section() -> None:
    st.header("1 · Transposed convolution: making maps bigger")
    st.markdown("A convolution with stride 2 halves a map. A **transposed convolution** goes the other "
                "way: every input number **stamps** a copy of the kernel, scaled by that number, onto a "
                "bigger output, one stamp every *stride* pixels; where stamps overlap they add up. "
                "Decoders, image generators and segmentation networks use it to grow maps back "
                "(`keras.layers.Conv2DTranspose`).")
    c1, c2, c3 = st.columns(3)
    name = c1.selectbox("Kernel", list(T_KERNELS), key="mc_t_kernel")
    stride = c2.slider("Stride", **url_state.widget(PARAMS, "mc_t_stride"))
    padding = c3.radio("Padding", ["valid", "same"], key="mc_t_padding", horizontal=True)
    kernel = T_KERNELS[name]
    k = kernel.shape[0]
    x = grey_picture(SIDE)
    out = transposed.conv_transpose2d(x, kernel, stride, padding)
    counts = transposed.stamp_counts(x.shape, k, stride, padding)
    size = transposed.conv_transpose_output_size(SIDE, k, stride, padding)
    a, b, c = st.columns(3, gap="medium")
    with a:
        st_image.show(map_image(x, 240), caption=f"Input: your picture shrunk to {SIDE} × {SIDE}",
                      alt=describe.feature_map(x, "Input, your picture shrunk"))
        accessible.as_numbers(x, "Input")
    with b:
        st_image.show(map_image(out, 240), caption=f"Output: {out.shape[0]} × {out.shape[1]}",
                      alt=describe.feature_map(out, "Output of the transposed convolution"))
        accessible.as_numbers(out, "Output")
    with c:
        st_image.show(figures.picture_image(counts.astype(np.float32), share.scaled(240), cmap="viridis"),
                      caption=f"How many stamps cover each output pixel: {int(counts.min())} to {int(counts.max())}",
                      alt=describe.feature_map(counts, "How many stamps cover each output pixel"))
        accessible.as_numbers(counts, "Stamps per output pixel")
    formula = (f"(n − 1)·s + max(k, s) = ({SIDE} − 1)·{stride} + max({k}, {stride}) = {size}"
               if padding == "valid" else f"n·s = {SIDE}·{stride} = {size}")
    st.markdown(f"**Output size** ({padding}): `{formula}`; Keras's `Conv2DTranspose` gives the "
                "same (tested).")
    if transposed.checkerboard(k, stride):
        st.warning(f"Checkerboard: the kernel size {k} is not a multiple of the stride {stride}, so some "
                   "output pixels get more stamps than their neighbours (the right picture). Images "
                   "made this way show a faint grid; a kernel size divisible by the stride avoids it.",
                   icon=":material/grid_4x4:")
    else:
        st.success(f"No checkerboard: {k} is a multiple of {stride}, so away from the borders every "
                   "output pixel gets the same number of stamps.", icon=":material/check:")
    with share.secondary("mc_t_stamp"):
        r, col = st.columns(2)
        row = r.slider("Input row", 0, SIDE - 1, SIDE // 2, key="mc_t_row")
        column = col.slider("Input column", 0, SIDE - 1, SIDE // 2, key="mc_t_col")
        value = float(x[row, column])
        crop = transposed.conv_transpose_crop(k, stride, padding)
        top, left = row * stride - crop, column * stride - crop
        stamp = value * kernel
        st.markdown(f"Input value **{value:.3f}** at ({row}, {column}) stamps `{value:.3f} × kernel` "
                    f"with its top-left corner at output ({top}, {left})"
                    + (" (partly cut off at the border)" if min(top, left) < 0 or max(top, left) + k > size
                       else "") + ":")
        st.code(np.array2string(stamp, precision=3, floatmode="fixed"), language=None)


# ----------------------------------------------------------------------------- 3D

def volume_kernel(kind: str) -> np.ndarray:
    if kind == "blur":
        return np.full((3, 3, 3), 1 / 27, np.float32)
    ker = np.zeros((3, 3, 3), np.float32)
    ker[1, 1, 1], ker[0, 1, 1] = 1.0, -1.0   # this frame minus the one before, at the same pixel
    return ker


def frames_image(volume: np.ndarray, width: int):
    return figures.mosaic(np.moveaxis(volume, 0, -1), scale="layer", cmap="auto", cols=volume.shape[0],
                          width=share.scaled(width), labels="above")


def volume_section() -> None:
    st.header("2 · 3D convolution: a kernel that also slides through time")
    st.markdown("A video is a stack of frames: depth × height × width. A **3D kernel** (k × k × k) "
                "looks at a small cube (a few neighbouring pixels in a few neighbouring frames) and "
                "slides along all three axes, so it can find things that only exist in time, such as "
                "movement (`keras.layers.Conv3D`). Here the volume is your picture moving right by "
                "one pixel per frame.")
    c1, c2, c3 = st.columns(3)
    kind = V_KERNELS[c1.selectbox("Kernel (3 × 3 × 3)", list(V_KERNELS), key="mc_v_kernel")]
    stride = c2.slider("Stride (every axis)", **url_state.widget(PARAMS, "mc_v_stride"))
    padding = c3.radio("Padding", ["valid", "same"], key="mc_v_padding", horizontal=True)
    still = grey_picture(VOLUME_SIDE)
    volume = np.stack([np.roll(still, t, axis=1) for t in range(FRAMES)])
    kernel = volume_kernel(kind)
    out = conv3d.convolve3d(volume, kernel, stride, padding)
    st_image.show(frames_image(volume, 700), caption=f"Input: {FRAMES} frames of {VOLUME_SIDE} × {VOLUME_SIDE} "
                  "(frame number above each)",
                  alt=describe.stack(np.moveaxis(volume, 0, -1), "The input volume", "frame"))
    st_image.show(frames_image(out, 700), caption=f"Output: {out.shape[0]} frames of {out.shape[1]} × "
                  f"{out.shape[2]}" + (" ({} < 0 < {}: edges that moved)".format(*figures.sign_colours()) if kind == "motion" else ""),
                  alt=describe.stack(np.moveaxis(out, 0, -1), "The output volume", "frame"))
    sizes = conv3d.output_size3d(volume.shape, 3, stride, padding)
    lines = [f"{axis}: " + (f"⌊({n} − 3) / {stride}⌋ + 1 = {o}" if padding == "valid" else f"⌈{n} / {stride}⌉ = {o}")
             for axis, n, o in zip(("depth (frames)", "height", "width"), volume.shape, sizes)]
    st.markdown("**Output size**, the same rule as in 2D on each of the three axes:  \n"
                + "  \n".join(f"`{line}`" for line in lines))
    if kind == "motion":
        st.caption("The motion kernel subtracts the frame before from this one at each pixel: still "
                   "parts cancel to 0, edges that moved light up. A 2D kernel sees one frame and "
                   "cannot tell."
                   + (" With 'same' padding the first frame has only zeros before it, so it shows "
                      "the whole picture." if padding == "same" else ""))


# ----------------------------------------------------------------------------- separable

DEPTHWISE = np.stack([kernels.PRESETS["Sobel x"], kernels.PRESETS["Sobel y"],
                      kernels.PRESETS["box blur"]], axis=-1).astype(np.float32)
POINTWISE = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]], np.float32)


# The server asks Keras only about layers this small (a visitor chooses k, C and F, up to 51 M
# weights, 200 MB); the formula covers the rest, and tests compare it with Keras up to that size.
KERAS_CHECK_MAX_WEIGHTS = 250_000


@st.cache_data(max_entries=64, show_spinner=False)
def keras_counts(k: int, c: int, f: int) -> tuple[int, int] | None:
    """count_params() of SeparableConv2D(f, k) and Conv2D(f, k) on c channels, from Keras itself,
    or None when Conv2D(f, k) would hold more than KERAS_CHECK_MAX_WEIGHTS weights."""
    if separable.separable_param_counts(k, c, f)["conv2d"] > KERAS_CHECK_MAX_WEIGHTS:
        return None
    preload.import_tensorflow()
    import keras
    sep = keras.layers.SeparableConv2D(f, k)
    full = keras.layers.Conv2D(f, k)
    sep.build((None, 16, 16, c))
    full.build((None, 16, 16, c))
    return int(sep.count_params()), int(full.count_params())


def separable_section() -> None:
    st.header("3 · Depthwise separable convolution: cheaper filters")
    st.markdown("A full Conv2D filter looks at every input channel with its own k × k weights. A "
                "**depthwise separable** convolution splits the work: first one k × k filter per "
                "channel (**depthwise**), then a 1 × 1 convolution that mixes the channels "
                "(**pointwise**) into the outputs. Nearly as expressive, far fewer weights "
                "(`keras.layers.SeparableConv2D`, the building block of MobileNet and Xception).")
    pic = widgets.current_picture()
    x, _ = model_input.fit_input(pic.pixels, SEPARABLE_SIDE, SEPARABLE_SIDE, 3)
    depth = kernels.convolve(x, DEPTHWISE, 1, "same", depthwise=True)
    out = separable.separable_convolve(x, DEPTHWISE, POINTWISE, padding="same")
    a, b = st.columns(2, gap="large")
    with a:
        st_image.show(figures.mosaic(depth, cmap="diverging", width=share.scaled(420)),
                      caption="Depthwise: Sobel x on red, Sobel y on green, a blur on blue (one map each)",
                      alt=describe.stack(depth, "Depthwise output", "map"))
    with b:
        st_image.show(figures.mosaic(out, cmap="diverging", width=share.scaled(280)),
                      caption="Pointwise: output 0 = red map + ½ blue map; output 1 = green map − ½ blue map",
                      alt=describe.stack(out, "Pointwise output", "map"))
    st.markdown("**What it saves.** Choose a layer's size:")
    c1, c2, c3 = st.columns(3)
    k = int(c1.number_input("Kernel size k", **url_state.widget(PARAMS, "mc_k")))
    c = int(c2.number_input("Input channels", **url_state.widget(PARAMS, "mc_c")))
    f = int(c3.number_input("Filters (output channels)", **url_state.widget(PARAMS, "mc_f")))
    counts = separable.separable_param_counts(k, c, f)
    with st.spinner("Asking Keras…"):
        asked = keras_counts(k, c, f)
    full_keras, sep_keras = ("not asked", "not asked") if asked is None else (f"{n:,}" for n in asked[::-1])
    st.markdown(
        "| | weights | formula | Keras's count_params() |\n|---|---:|---|---:|\n"
        f"| Conv2D({f}, {k}) | {counts['conv2d']:,} | k·k·C·F + F = {k}·{k}·{c}·{f} + {f} | {full_keras} |\n"
        f"| SeparableConv2D({f}, {k}) | {counts['separable']:,} | k·k·C + C·F + F = {k}·{k}·{c} + {c}·{f} + {f} "
        f"| {sep_keras} |")
    if asked is None:
        st.caption(f"Keras is asked here only for layers up to {KERAS_CHECK_MAX_WEIGHTS:,} weights, as it "
                   "builds them in this server's memory; tests compare the formula with Keras up to this page's "
                   "largest layer.")
    st.caption(f"The separable layer needs {formats.percent(counts['ratio'])} of the weights "
               f"(about 1/F + 1/k² = {1 / f + 1 / (k * k):.3f} of them, biases aside).")


# ----------------------------------------------------------------------------- page

url_state.restore(PARAMS, "more_convolutions")
url_state.set_defaults(PARAMS)
share.page_header("More convolutions")
share.intro("Keras has more convolution layers than Conv2D. Three of them, each worked out on your "
            "picture with NumPy and checked against the Keras layer: one that makes maps bigger, one "
            "that also slides through time, and one that does the same job with far fewer weights.")
transposed_section()
st.divider()
volume_section()
st.divider()
separable_section()
