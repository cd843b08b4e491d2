"""Activations: the nonlinear layer after a convolution, and why ReLU beat sigmoid and tanh."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import activations, describe, images, kernels
from cnnviz.ui import accessible, export, figures, preload, share, st_image, url_state, widgets
from cnnviz.ui.plain_text import plain

COLOURS = {"relu": "#d62728", "sigmoid": "#1f77b4", "tanh": "#2ca02c", "softplus": "#9467bd",
           "leaky_relu": "#ff7f0e", "elu": "#8c564b", "gelu": "#e377c2", "silu": "#17becf"}
FORMULAS = {
    "relu": "max(0, x)",
    "sigmoid": "1 / (1 + e⁻ˣ)",
    "tanh": "(eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)",
    "softplus": "ln(1 + eˣ)",
    "leaky_relu": f"x if x > 0, else {activations.LEAKY_RELU_SLOPE}·x",
    "elu": "x if x > 0, else eˣ − 1",
    "gelu": "x · Φ(x)  (Φ: normal CDF)",
    "silu": "x · sigmoid(x)",
}
NAMES = list(activations.FUNCTIONS)
EXPERIMENT = ["sigmoid", "tanh", "relu", "softplus"]
CURVES = ["relu", "sigmoid", "tanh", "softplus"]
WIDTHS = [16, 32, 64, 128]
PARAMS = [
    url_state.choices("functions", "act_chosen", NAMES, CURVES, what="activation"),
    url_state.number_pair("range", "act_range", -20.0, 20.0, (-6.0, 6.0)),
    url_state.number("x0", "act_x0", -20.0, 20.0, 2.0),
    url_state.flag("slopes", "act_show_df", True),
    url_state.flag("saturation", "act_shade", True),
    url_state.flag("overlay", "act_overlay", True),
    url_state.choice("map_fn", "act_map_fn", NAMES, "relu", what="activation"),
    url_state.integer("depth", "vg_depth", 2, 30, 20),
    url_state.choice("width", "vg_width", WIDTHS, 64, what="layer width"),
    url_state.choice("init", "vg_init", activations.INITIALIZERS, activations.INITIALIZERS[0],
                     what="initializer"),
    url_state.integer("seed", "vg_seed", 0, 10_000, 0),
    url_state.choices("compare", "vg_chosen", NAMES, EXPERIMENT, what="activation"),
]


def label(name: str) -> str:
    return activations.LABELS[name]


def markdown_table(rows: list[dict]) -> str:
    """A small table as Markdown (cheaper to send than a dataframe; these have a few rows)."""
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(r[h]).replace("|", "\\|") for h in head) + " |" for r in rows]
    return "\n".join(lines)


url_state.restore(PARAMS, "activations")
share.page_header("Activation functions")
share.intro(
    "A convolution only multiplies and adds, so a stack of convolutions is still one big linear "
    "operation. The **activation** (nonlinear layer) that follows each convolution bends the "
    "numbers, and that is what lets a deep network describe curved, complicated patterns. "
    "Which function does the bending matters: it decides how well the training signal "
    "(the gradient) reaches the first layers.")


# --------------------------------------------------------------------------- the curves
@url_state.fragment
def curves_section() -> None:
    st.header("1 · The functions and their slopes")
    st.markdown(
        "Solid lines are the functions **f(x)**, dashed lines their slopes **f′(x)** (derivatives). "
        "Where a slope is almost 0 the function is *saturated*: changing the input hardly "
        "changes the output, so hardly any gradient flows back through it.")
    c1, c2, c3 = st.columns([3, 2, 2])
    chosen = c1.multiselect("Functions", NAMES, default=CURVES,
                            format_func=label, key="act_chosen")
    lo, hi = c2.slider("x range", value=(-6.0, 6.0), step=0.5, **url_state.widget(PARAMS, "act_range"))
    x0 = c3.number_input("Look closely at x =", value=2.0, step=0.5, **url_state.widget(PARAMS, "act_x0"))
    t1, t2, t3 = st.columns(3)
    show_df = t1.toggle("Show slopes f′(x)", value=True, key="act_show_df")
    shade = t2.toggle(f"Mark saturation (|f′| < {activations.SATURATION_THRESHOLD})", value=True,
                      key="act_shade")
    overlay = t3.toggle("Overlay sigmoid on softplus′", value=True, key="act_overlay",
                        help="The slope of softplus is exactly the logistic (sigmoid) function.")
    if hi - lo < 0.5:
        st.error("The x range is too narrow: pick a range at least 0.5 wide.")
        return
    if not chosen:
        st.info("Pick at least one function to plot.")
        return

    x = np.linspace(lo, hi, 401)
    curves, rows = [], []
    columns = {"x": x}                                   # the same numbers, for the CSV export
    for name in chosen:
        f, df = activations.FUNCTIONS[name]
        fx, dfx = f(x), df(x)
        columns[f"{name}(x)"], columns[f"{name}'(x)"] = fx, dfx
        curve = {"label": label(name), "f": fx, "df": dfx if show_df else None,
                 "colour": COLOURS[name]}
        if shade:
            curve["saturated"] = activations.saturated(dfx)
        if overlay and name == "softplus" and show_df:
            curve["extra"] = [("sigmoid (on top of softplus′)", activations.sigmoid(x), "dot")]
        curves.append(curve)
        spans = activations.saturated_intervals(x, dfx)
        fx0, dfx0 = f(np.array([x0]))[0], df(np.array([x0]))[0]
        rows.append({"function": label(name), "formula": FORMULAS[name],
                     f"f({x0:g})": f"{fx0:.4g}", f"f′({x0:g})": f"{dfx0:.4g}",
                     f"saturated in [{lo:g}, {hi:g}]":
                         ", ".join(f"{a:.2f} … {b:.2f}" for a, b in spans) or "nowhere"})
    st.plotly_chart(figures.activation_figure(x, curves, x0=x0, height=share.scaled(430)),
                    key="act_curves", config=share.plotly_config("cnnviz-activations"),
                    alt=f"The curves for x from {x[0]:g} to {x[-1]:g}. " + " ".join(
                        f"{r['function']} at x = {x0:g}: {r[f'f({x0:g})']}, slope {r[f'f′({x0:g})']}." for r in rows))
    accessible.chart_numbers("The curves", "x", {k: (x, v) for k, v in columns.items() if k != "x"})
    with share.secondary("act_curves_export"):
        export.download("The curves (CSV)", lambda: export.columns_csv(columns),
                        "cnnviz-activation-curves.csv", export.CSV, "act_export_csv")
    st.markdown(markdown_table(rows))
    notes = []
    if "relu" in chosen:
        notes.append("**ReLU's slope is a step**: 0 for x < 0, 1 for x > 0 (TensorFlow uses 0 at "
                     "exactly x = 0). It never saturates for positive inputs.")
    if "softplus" in chosen:
        notes.append("**Softplus is a smooth ReLU**: ln(1 + eˣ) hugs 0 on the left and x on the "
                     "right, and its slope eˣ/(1 + eˣ) is the logistic function"
                     + (" (the dotted line lies exactly on the dashed one)." if overlay and show_df
                        else "."))
    if "sigmoid" in chosen or "tanh" in chosen:
        notes.append("**Sigmoid and tanh squash** all inputs into (0, 1) or (−1, 1); far from 0 their "
                     "slope is nearly 0. Sigmoid's slope is at most 0.25, so every layer multiplies "
                     "the gradient by a quarter or less.")
    if "leaky_relu" in chosen:
        notes.append(f"Leaky ReLU uses Keras's default slope {activations.LEAKY_RELU_SLOPE} for "
                     "negative inputs (keras.activations.leaky_relu).")
    for note in notes:
        st.markdown("- " + note)


curves_section()


# --------------------------------------------------------------------------- on a feature map
@st.cache_data(max_entries=8, show_spinner=False)
def default_feature_map(pixels: np.ndarray) -> np.ndarray:
    return kernels.convolve(images.to_gray(pixels), kernels.PRESETS["Sobel x"], padding="same")


@url_state.fragment
def feature_map_section() -> None:
    st.header("2 · On a feature map")
    shared = widgets.current_feature_map()
    if shared is not None:
        fmap, fmap_label = shared
        fmap = np.asarray(fmap, dtype=np.float32)
        st.markdown(f"The feature map from the Convolution page: **{plain(fmap_label)}**.")
    else:
        picture = widgets.current_picture()
        fmap = default_feature_map(picture.pixels)
        st.markdown(f"No feature map from the Convolution page yet, so this one is the **Sobel x** "
                    f"edge filter on *{plain(picture.name)}* (grayscale, 'same' padding). Make your own "
                    "on the Convolution page and it appears here.")
    name = st.radio("Activation", NAMES, index=0, format_func=label, horizontal=True,
                    key="act_map_fn")
    f, df = activations.FUNCTIONS[name]
    out = f(fmap)
    vmax = float(max(np.max(np.abs(fmap)), np.max(np.abs(out)), 1e-12))
    left, right = st.columns(2)
    before_img = figures.picture_image(fmap, 360, "diverging", -vmax, vmax)
    after_img = figures.picture_image(out, 360, "diverging", -vmax, vmax)
    st_image.show(figures.display_bytes(before_img, 360), width=360,
                  caption=f"before: the feature map ({fmap.shape[0]}×{fmap.shape[1]})",
                  alt=describe.feature_map(fmap, "The feature map before the activation"), where=left)
    st_image.show(figures.display_bytes(after_img, 360), width=360,
                  caption=f"after {label(name)}", alt=describe.feature_map(out, f"The feature map after {label(name)}"),
                  where=right)
    with left:
        accessible.as_numbers(fmap, "The feature map before")
    with right:
        accessible.as_numbers(out, f"The feature map after {label(name)}")
    negative, positive = figures.sign_colours()
    st.caption(f"Same colours in both: {negative} = −{vmax:.3g}, white = 0, {positive} = +{vmax:.3g}.")
    neg = float(np.mean(fmap < 0))
    zeros_after = float(np.mean(out == 0))
    flat = float(np.mean(activations.saturated(df(fmap))))
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("negative cells before", f"{neg:.0%}")
    m2.metric(f"exactly 0 after {label(name)}", f"{zeros_after:.0%}")
    m3.metric("range after", f"{out.min():.3g} … {out.max():.3g}")
    m4.metric("cells where |f′| < 0.01", f"{flat:.0%}",
              help="Cells in the flat part of the function: a gradient through them is almost 0.")
    if name == "relu":
        st.markdown("ReLU keeps the positive responses (one side of each edge) and sets every "
                    "negative one to exactly 0.")


feature_map_section()


# --------------------------------------------------------------------------- vanishing gradients
@st.cache_data(max_entries=64, show_spinner=False)
def cached_norms(name: str, depth: int, width: int, seed: int, initializer: str) -> np.ndarray:
    preload.import_tensorflow()
    return activations.gradient_norms(name, depth, width, seed=seed, initializer=initializer)


@url_state.fragment
def vanishing_section() -> None:
    st.header("3 · Vanishing gradients")
    st.markdown(
        "Training changes each layer's weights in proportion to the **gradient** of the loss with "
        "respect to those weights. Backpropagation computes it from the last layer to the first, "
        "multiplying by each layer's slope f′ on the way. Slopes below 1 shrink it again and "
        "again, so the first layers get almost no signal and learn very slowly.")
    c1, c2, c3, c4 = st.columns(4)
    depth = c1.slider("Layers (depth)", value=20, **url_state.widget(PARAMS, "vg_depth"))
    width = c2.select_slider("Units per layer", WIDTHS, value=64, key="vg_width")
    initializer = c3.selectbox("Weight initializer", activations.INITIALIZERS, key="vg_init",
                               help="How the starting weights are drawn (Keras names).")
    seed = c4.number_input("Seed", value=0, step=1, **url_state.widget(PARAMS, "vg_seed"))
    chosen = st.multiselect("Activations to compare", NAMES, default=EXPERIMENT, format_func=label,
                            key="vg_chosen")
    if not chosen:
        st.info("Pick at least one activation to compare.")
        return
    norms = {}
    with st.spinner("Running one backward pass per activation (TensorFlow loads on first use)…"):
        for name in chosen:
            norms[label(name)] = cached_norms(name, int(depth), int(width), int(seed), initializer)
    colours = {label(n): COLOURS[n] for n in chosen}
    st.plotly_chart(figures.gradient_norms_figure(norms, colours, height=share.scaled(400)),
                    key="vg_plot", config=share.plotly_config("cnnviz-vanishing-gradients"),
                    alt=" ".join(describe.curve(v, f"Gradient norm with {n}", range(1, len(v) + 1), "layer")
                                 for n, v in norms.items()))
    table = {"layer": list(range(1, int(depth) + 1)), **{f"{n} gradient norm": v for n, v in norms.items()}}
    accessible.chart_numbers("Gradient norm per layer", "layer",
                             {f"{n} gradient norm": (table["layer"], v) for n, v in norms.items()})
    with share.secondary("vg_export"):
        export.download("Gradient norms (CSV)", lambda: export.columns_csv(table),
                        f"cnnviz-gradient-norms-depth-{depth}.csv", export.CSV, "vg_export_csv")
    st.markdown(
        f"Each line is one network: {depth} Dense layers of {width} units with that activation, "
        f"weights from `{initializer}` (seed {seed}), then a 10-class output. One batch of 64 random "
        "inputs with random labels goes forward and back once (tf.GradientTape); each point is the "
        "size (Frobenius norm) of the gradient of the loss with respect to that layer's weights. "
        "The y-axis is logarithmic, so equal steps are equal factors: 10⁻⁶ is a million times smaller "
        "than 1. A line falling steeply towards layer 1 is a **vanishing gradient**.")
    rows = []
    for name in chosen:
        v = norms[label(name)]
        rows.append({"activation": label(name), "layer 1 (first)": f"{v[0]:.3g}",
                     f"layer {depth} (last)": f"{v[-1]:.3g}",
                     "first ÷ last": f"{v[0] / v[-1]:.3g}" if v[-1] > 0 else "—"})
    st.markdown(markdown_table(rows))
    ratios = {n: norms[label(n)][0] / norms[label(n)][-1] for n in chosen if norms[label(n)][-1] > 0}
    if len(ratios) > 1:
        worst, best = min(ratios, key=ratios.get), max(ratios, key=ratios.get)
        st.markdown(f"Here the first layer of the **{label(worst)}** network gets "
                    f"{ratios[worst]:.2g}× the gradient of its last layer; with **{label(best)}** "
                    f"it gets {ratios[best]:.2g}×.")


vanishing_section()
