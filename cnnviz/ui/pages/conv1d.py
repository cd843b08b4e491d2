"""Conv1D: a kernel sliding along a signal; padding valid / same / causal, stride, dilation."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import conv1d, describe, kernel_text, typed
from cnnviz.ui import accessible, export, figures, share, tensor_shapes, url_state, widgets
from cnnviz.ui.plain_text import plain

MAX_SIGNAL = 200
MAX_VALUE = 1e6
MAX_TEXT = 4_000     # characters: room for MAX_SIGNAL typed numbers, refused before parsing
SIGNALS = ["noisy sine", "sine", "steps", "noise", "type your own"]
KERNELS = {
    "smoothing [1, 1, 1] / 3": [1 / 3, 1 / 3, 1 / 3],
    "difference [−1, 1]": [-1.0, 1.0],
    "edge [−1, 0, 1]": [-1.0, 0.0, 1.0],
    "identity [1]": [1.0],
    "type your own": None,
}
KERNEL_NAMES = {"smoothing [1, 1, 1] / 3": "smoothing", "difference [−1, 1]": "difference",
                "edge [−1, 0, 1]": "edge", "identity [1]": "identity", "type your own": "own"}
PARAMS = [
    url_state.choice("signal", "c1d_signal_kind", SIGNALS, SIGNALS[0], what="signal"),
    url_state.text("values", "c1d_signal_text", "0, 0, 1, 3, 1, 0, 0, 2, 2, 2, 0, 0"),
    url_state.integer("length", "c1d_length", 8, 64, 24),
    url_state.choice("kernel", "c1d_kernel_kind", KERNEL_NAMES, list(KERNELS)[0], what="kernel"),
    url_state.text("weights", "c1d_kernel_text", "1, 2, 1"),
    url_state.choice("padding", "c1d_padding", ["valid", "same", "causal"], "causal"),
    url_state.integer("stride", "c1d_stride", 1, 4, 1),
    url_state.integer("dilation", "c1d_dilation", 1, 4, 1),
    url_state.integer("t", "c1d_t", 0, 10_000, None),          # clamped to the output's length
    tensor_shapes.data_format_param(url_state, "c1d_data_format"),
]
PADDING_HELP = {
    "valid": "no padding: only positions where the whole kernel fits, so the output is shorter.",
    "same": "zeros on both ends so there are ⌈N ÷ stride⌉ outputs; the kernel is centred, so it also "
            "looks at later inputs.",
    "causal": "zeros only at the start, so output t sees input t and earlier inputs, never later ones "
              "(for time series: no peeking into the future).",
}


def parse_numbers(text: str, what: str, lo: int, hi: int) -> np.ndarray:
    """Comma- or space-separated numbers (fractions like 1/3 allowed) -> float array, or ValueError."""
    accepted = (f"Type {lo} to {hi} numbers separated by commas, like 0, 1, 2.5, -1 "
                f"(fractions like 1/3 are fine; |value| ≤ {MAX_VALUE:g}).")
    if len(text) > MAX_TEXT:
        raise ValueError(f"The {what} is {len(text):,} characters long. {accepted}")
    parts = [p for p in re.split(r"[,\s;]+", text.strip()) if p]
    if not lo <= len(parts) <= hi:
        raise ValueError(f"The {what} has {len(parts)} values. {accepted}")
    return np.array([typed.parse_number(p, f"Value {i} of the {what}", accepted, MAX_VALUE)
                     for i, p in enumerate(parts, 1)], dtype=np.float64)


def make_signal(kind: str, n: int) -> np.ndarray:
    i = np.arange(n)
    if kind == "sine":
        return np.sin(2 * np.pi * i / 12)
    if kind == "noisy sine":
        return np.sin(2 * np.pi * i / 12) + np.random.default_rng(0).normal(0, 0.35, n)
    if kind == "steps":
        return np.select([i < n // 4, i < n // 2, i < 3 * n // 4], [0.0, 1.0, -0.5], 0.5)
    return np.random.default_rng(1).normal(0, 1, n)


url_state.restore(PARAMS, "conv1d")
share.page_header("Conv1D: convolution along a line")
share.intro(
    "A **1-D convolution** slides a short kernel along a sequence (a sound, a sensor reading, "
    "a sentence's word vectors) exactly as a 2-D kernel slides over an image: at each position it "
    "multiplies the kernel with the values under it and adds them up. Keras calls this layer "
    "`Conv1D`; with one filter, this page computes what it computes.")

# --------------------------------------------------------------------------- inputs
c_sig, c_ker = st.columns(2)
with c_sig:
    kind = st.selectbox("Signal", SIGNALS, key="c1d_signal_kind")
    if kind == "type your own":
        typed_signal = st.text_input("Signal values", "0, 0, 1, 3, 1, 0, 0, 2, 2, 2, 0, 0",
                                     key="c1d_signal_text")
    else:
        length = st.slider("Length N", value=24, **url_state.widget(PARAMS, "c1d_length"))
with c_ker:
    preset = st.selectbox("Kernel", list(KERNELS), key="c1d_kernel_kind")
    if KERNELS[preset] is None:
        typed_kernel = st.text_input("Kernel values", "1, 2, 1", key="c1d_kernel_text",
                                     help=f"1 to {kernel_text.MAX_KERNEL_SIZE} numbers, e.g. 1/4, 1/2, 1/4")
c_pad, c_stride, c_dil = st.columns([2, 1, 1])
padding = c_pad.radio("Padding", ["valid", "same", "causal"], index=2, horizontal=True, key="c1d_padding")
c_pad.caption(PADDING_HELP[padding])
stride = c_stride.slider("Stride", value=1, **url_state.widget(PARAMS, "c1d_stride"))
dilation = c_dil.slider("Dilation", value=1, **url_state.widget(PARAMS, "c1d_dilation"), help="Gaps between the kernel's taps.")


def current_setup() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate everything; returns (signal, kernel, output, taps) or raises ValueError."""
    if kind == "type your own":
        signal = parse_numbers(typed_signal, "signal", 2, MAX_SIGNAL)
    else:
        signal = make_signal(kind, int(length))
    if KERNELS[preset] is None:
        if len(typed_kernel) > MAX_TEXT:
            raise ValueError(f"The kernel is {len(typed_kernel):,} characters long: type 1 to "
                             f"{kernel_text.MAX_KERNEL_SIZE} numbers, e.g. 1/4, 1/2, 1/4.")
        kernel = kernel_text.parse_kernel([[p for p in re.split(r"[,\s;]+", typed_kernel.strip()) if p]])[0]
    else:
        kernel = np.array(KERNELS[preset], dtype=np.float64)
    if stride > 1 and dilation > 1:
        raise ValueError("Keras's Conv1D does not allow stride > 1 together with dilation > 1: "
                         "set one of them back to 1.")
    output = conv1d.convolve1d(signal, kernel, stride, padding, dilation)
    taps = conv1d.receptive_field_1d(signal.size, kernel.size, stride, padding, dilation)
    return signal, kernel, output, taps


try:
    setup = current_setup()
    st.session_state["c1d_last_good"] = setup
except ValueError as exc:
    st.error(plain(f"{exc} Showing the last setting that worked."))
    setup = st.session_state.get("c1d_last_good")
    if setup is None:   # nothing worked yet in this session: fall back to the defaults
        signal0 = make_signal("noisy sine", 24)
        kernel0 = np.array(KERNELS["smoothing [1, 1, 1] / 3"])
        setup = (signal0, kernel0, conv1d.convolve1d(signal0, kernel0, 1, "causal"),
                 conv1d.receptive_field_1d(24, 3, 1, "causal"))


# --------------------------------------------------------------------------- picture + numbers
@url_state.fragment
def output_view(signal: np.ndarray, kernel: np.ndarray, output: np.ndarray, taps: np.ndarray,
                stride: int, padding: str, dilation: int) -> None:
    n, k, m = signal.size, kernel.size, output.size
    t = widgets.clamped_slider("Look at output y[t], t =", "c1d_t", 0, m - 1, m // 2,
                               only_one="The output has a single value, y[0].")
    row = taps[t]
    st.plotly_chart(figures.conv1d_figure(signal, output, row, kernel, t, int(stride),
                                          height=share.scaled(520)),
                    key="c1d_plot", config=share.plotly_config("cnnviz-conv1d"),
                    alt=describe.curve(signal, "The signal x", unit="position") + " "
                    + describe.curve(output, "The output y", unit="position")
                    + f" Shown: y[{t}] = {describe.number(output[t])}, from x at positions "
                    + ", ".join(str(int(i)) if 0 <= i < n else "padding" for i in np.atleast_1d(row)) + ".")
    accessible.chart_numbers("The signal and the output", "i (for x), t (for y)",
                             {"signal x[i]": (np.arange(n), signal), "output y[t]": (np.arange(m), output)})
    with share.secondary("c1d_export"), st.container(horizontal=True, gap="small"):
        export.download("Signal x (CSV)", lambda: export.columns_csv({"i": np.arange(n), "x": signal}),
                        "cnnviz-conv1d-signal.csv", export.CSV, "c1d_export_signal")
        export.download("Output y (CSV)", lambda: export.columns_csv({"t": np.arange(m), "y": output}),
                        "cnnviz-conv1d-output.csv", export.CSV, "c1d_export_output")
        export.download("Kernel (CSV)", lambda: export.grid_csv(kernel), "cnnviz-conv1d-kernel.csv",
                        export.CSV, "c1d_export_kernel")
    names = " + ".join(f"{w:.3g}·x[{i}]" for w, i in zip(kernel, row))
    values = " + ".join(f"{w:.3g}·({signal[i]:.3g})" if 0 <= i < n else f"{w:.3g}·0"
                        for w, i in zip(kernel, row))
    st.markdown(f"**y[{t}]** = {names} = {values} = **{output[t]:.4g}**"
                + ("  \n(x at a negative index or past the end is padding, i.e. 0)"
                   if np.any((row < 0) | (row >= n)) else ""))
    span = (k - 1) * dilation + 1
    formula = (f"⌊({n} − {span}) ÷ {stride}⌋ + 1" if padding == "valid" else f"⌈{n} ÷ {stride}⌉")
    st.caption(f"{n} inputs, a kernel of {k} taps spanning {span} inputs (dilation {dilation}), "
               f"stride {stride}, {padding} padding → {formula} = {m} outputs.")
    with share.secondary("c1d_tensors"):
        tensor_shapes.tensor_box("Conv1D", (n, 1), (m, 1), "c1d_data_format", sample=signal[:, None])

    st.header("Which inputs each output sees")
    row_max = taps.max(axis=1)
    positions = np.arange(m) * stride
    future = row_max > positions
    table = pd.DataFrame({
        "output t": np.arange(m),
        "inputs used (padding in brackets)": [
            ", ".join(str(i) if 0 <= i < n else f"({i})" for i in r) for r in taps],
        "latest input": row_max,
        "uses inputs after t·stride?": np.where(future, "yes", "no"),
    })
    st.dataframe(table, hide_index=True, height=min(35 * (m + 1) + 3, 300), width="stretch")
    if not future.any():
        st.success(f"With **{padding}** padding no output y[t] uses an input after position "
                   f"t·stride: each output depends only on the present and the past.")
    else:
        ahead = int((row_max - positions).max())
        st.info(f"With **{padding}** padding {int(future.sum())} of {m} outputs use inputs after "
                f"position t·stride (up to {ahead} step{'s' if ahead > 1 else ''} ahead). "
                "Choose **causal** padding to forbid that.")


output_view(*setup, stride, padding, dilation)
