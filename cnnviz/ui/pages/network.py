"""Network explorer: follow one picture through a trained CNN, layer by layer, and ask why."""
from __future__ import annotations

import hashlib
import html

import numpy as np
import streamlit as st

from cnnviz import data, images, pooling
from cnnviz.ui import export, figures, formats, preload, share, url_state, widgets
from cnnviz.ui.own_model import own_model_picker

with st.spinner("Starting TensorFlow (only the first visit waits)…"):
    preload.import_tensorflow()
    from cnnviz import probe
    from cnnviz.ui import model_cache

KIND_LABEL = {"input": "Input", "conv": "Convolution", "batchnorm": "Batch norm",
              "activation": "Activation", "pool": "Pooling", "flatten": "Flatten",
              "dense": "Dense", "dropout": "Dropout", "softmax": "Softmax", "other": "Layer"}
KIND_COLOUR = {"input": "#7f7f7f", "conv": "#1f77b4", "batchnorm": "#17becf",
               "activation": "#2ca02c", "pool": "#ff7f0e", "flatten": "#9467bd",
               "dense": "#d62728", "dropout": "#a0a0a0", "softmax": "#bcbd22", "other": "#7f7f7f"}
DEFAULT_LAYER = "conv1"
CONFIG = {"displayModeBar": False}
LINK_PENDING = "net_link_pending"   # a shared link was opened: its layer/class/... still to apply
PARAMS = [
    url_state.choice("net", "net_model", model_cache.available(), None, what="network"),
    url_state.identifier("layer", "net_layer_last", None, "layer"),
    url_state.integer("channel", "net_channel", 0, 4096, 0),
    url_state.choice("scale", "net_scale", ["layer", "map"], "layer", what="colour scale"),
    url_state.flag("dropout_training", "net_dropout_show", False),
    url_state.integer("mask", "net_dropout_seed", 0, 10_000, 0),
    url_state.integer("class", "net_class", 0, 999, None),          # None: the predicted class
    url_state.flag("smoothgrad", "net_smooth", True),
    url_state.integer("copies", "net_smooth_n", 5, 50, 20),
    url_state.number("noise", "net_smooth_noise", 0.05, 0.5, 0.15),
    url_state.identifier("cam", "net_cam", None, "layer"),          # None: the last conv block
    url_state.identifier("gradient", "net_grad", None, "layer"),    # None: the first spatial layer
]


# ----------------------------------------------------------------------------- helpers

def sample_dataset(pic: images.Picture) -> str | None:
    """The dataset whose network suits the picture: a sample's own dataset; "mnist" for
    drawings (most people draw digits); None for uploads, photos and shapes."""
    return "mnist" if pic.source == "drawing" else pic.dataset


def choose_model(pic: images.Picture, names: list[str]) -> str:
    """The model selectbox; a new sample picture pre-selects its dataset's model."""
    key = "net_model"
    if st.session_state.get(LINK_PENDING) and st.session_state.get(key) in names:
        st.session_state["net_last_picture"] = pic.name
    if st.session_state.get("net_last_picture") != pic.name:
        st.session_state["net_last_picture"] = pic.name
        ds = sample_dataset(pic)
        match = [n for n in names if n in models_pretrained() and models_pretrained()[n].get("dataset") == ds]
        if match:
            st.session_state[key] = match[0]
    if st.session_state.get(key) not in names:
        st.session_state[key] = names[0]
    return st.selectbox("Network", names, key=key, format_func=model_label, persist_state="session",
                        help="Each network was trained on one dataset. Pick the one that matches "
                             "your picture: digits, clothes or small photos.")


def models_pretrained() -> dict:
    from cnnviz import models
    return models.PRETRAINED


def model_label(name: str) -> str:
    card = models_pretrained().get(name)
    if not card:
        return name
    ds = data.TABLE.get(card.get("dataset"))
    return f"{ds.kind} ({ds.title})" if ds and name == ds.key else f"{name} ({card.get('dataset', '?')})"


def model_input(loaded: model_cache.Loaded, pic: images.Picture) -> tuple[np.ndarray, list[str]]:
    """The exact tensor the model receives (H x W x C) and the preprocessing steps."""
    shape = loaded.probe.input_shape
    px = pic.pixels
    same_data = pic.dataset is not None and pic.dataset == loaded.card.get("dataset")
    if same_data and (px.shape == shape or (shape[-1] == 1 and px.shape == shape[:2])):
        return px.reshape(shape).astype(np.float32), [
            f"a test image of the dataset this network learned from, already "
            f"{images.shape_text(shape)}: used as it is"]
    if shape == (28, 28, 1):
        x, steps = images.to_mnist_input(pic.pixels)
        return x[..., None], steps
    x, steps = images.fit_input(pic.pixels, *shape)
    if shape[-1] == 1:
        return x.reshape(shape), steps
    return x, steps


def png_image(img, caption: str | None = None, width="content") -> None:
    """Show a PIL image as lightly compressed PNG (Streamlit would turn it into JPEG)."""
    st.image(figures.to_png(img), caption=caption, output_format="PNG", width=width)


def explain(text: str) -> None:
    st.markdown(text)


# ----------------------------------------------------------------------------- architecture strip

def strip_html(specs, selected: str) -> str:
    boxes = []
    for s in specs:
        colour = KIND_COLOUR.get(s.kind, "#7f7f7f")
        sel = s.name == selected
        style = (f"border:{'3px' if sel else '1px'} solid {colour};"
                 f"background:{colour + '33' if sel else colour + '12'};"
                 f"box-shadow:{'0 0 0 2px ' + colour + '55' if sel else 'none'};")
        params = f"{s.params:,} params" if s.params else "no params"
        boxes.append(
            f'<div class="cz-box" style="{style}" title="{html.escape(KIND_LABEL[s.kind])}: '
            f'{html.escape(s.name)}, output {images.shape_text(s.output_shape)}, {params}">'
            f'<div class="cz-name">{html.escape(s.name)}</div>'
            f'<div class="cz-kind" style="color:{colour}">{KIND_LABEL[s.kind]}</div>'
            f'<div class="cz-shape">{images.shape_text(s.output_shape)}</div>'
            f'<div class="cz-params">{params}</div></div>')
    css = ("<style>.cz-strip{display:flex;flex-wrap:wrap;gap:6px;align-items:stretch;margin:4px 0 10px}"
           ".cz-box{border-radius:8px;padding:4px 7px;min-width:70px;line-height:1.15;text-align:center}"
           ".cz-name{font-weight:700;font-size:0.92rem}.cz-kind{font-size:0.75rem;font-weight:600}"
           ".cz-shape{font-size:0.8rem;font-family:monospace}.cz-params{font-size:0.7rem;opacity:0.7}"
           "</style>")
    return css + '<div class="cz-strip">' + "".join(boxes) + "</div>"


def layer_table(specs) -> None:
    import pandas as pd
    df = pd.DataFrame({"#": [s.index for s in specs], "layer": [s.name for s in specs],
                       "type": [KIND_LABEL[s.kind] + f" ({s.info['class']})" for s in specs],
                       "output shape": [images.shape_text(s.output_shape) for s in specs],
                       "numbers out": [int(np.prod(s.output_shape)) for s in specs],
                       "parameters": [s.params for s in specs]})
    st.dataframe(df, hide_index=True, width="stretch")
    st.caption(f"Total: {sum(s.params for s in specs):,} parameters (weights, biases and batch-norm statistics).")


def labels_key(base: str, labels) -> str:
    """A widget key that changes whenever the option labels change.

    A keyed selectbox keeps showing its old label when only format_func's text changes
    (seen with Streamlit 1.67), e.g. "conv1 ... 28 × 28 × 32" after switching to a network
    whose conv1 is 32 × 32 × 32. A new key gives a new widget with the right labels.
    """
    digest = hashlib.blake2b(repr(list(labels)).encode(), digest_size=6).hexdigest()
    return f"{base}:{digest}"


def follow_link(key: str, widget_key: str, allowed, what: str) -> None:
    """A just-opened link set `key`: hand its value to the widget under `widget_key` (whose key
    changes with the network or picture), or say in one line that this network lacks it."""
    value = st.session_state.get(key)
    if not st.session_state.get(LINK_PENDING) or value is None:
        return
    if value in allowed:
        st.session_state[widget_key] = value
        return
    st.session_state[key] = None
    st.warning(f"The link asks for {what} {url_state.quote(str(value))}, which "
               f"{loaded_name()} does not have; showing the default instead.", icon=":material/link_off:")


def loaded_name() -> str:
    return model_label(st.session_state.get("net_model", ""))


def step_layer(key: str, names: list[str], delta: int) -> None:
    i = names.index(st.session_state.get(key, names[0]))
    st.session_state[key] = names[int(np.clip(i + delta, 0, len(names) - 1))]


# ----------------------------------------------------------------------------- layer views

TEXT = {
    "input": "**The input.** This is the picture exactly as the network receives it: a grid of "
             "numbers from 0 (dark) to 1 (bright), one grid per colour channel. Everything after "
             "this is arithmetic on these numbers.",
    "conv": "**Convolution.** The layer slides {n} small learned filters ({k}) over the "
            "{cin} map(s) of the layer before. At each position a filter multiplies the patch under "
            "it by its weights, adds everything up (over all {cin} input maps){bias} and writes one "
            "number. Where the patch looks like the filter, the number is large. One filter → one "
            "output map (a *channel*), so {cin} maps become {n}. "
            "Blue is negative, red positive, white zero.",
    "batchnorm": "**Batch normalisation.** Each channel is rescaled to a typical size: subtract "
                 "the channel's average (measured during training), divide by its spread, then "
                 "multiply by a learned γ and add a learned β. While predicting these numbers are "
                 "fixed, so the same picture always gives the same result. It makes training "
                 "faster and steadier.",
    "activation": "**Activation (ReLU).** Every negative number becomes 0, positive ones pass "
                  "unchanged: f(x) = max(0, x). This bend is what lets stacked layers learn more "
                  "than one big linear sum. ReLU is cheap and its slope is 1 for positive inputs, "
                  "so gradients do not fade as they travel back through many layers (sigmoid and "
                  "tanh squash them).",
    "pool": "**{mode} pooling.** Each {k} window of a map is replaced by its {what}, and the "
            "window jumps {s} pixels: the maps become smaller, the number of channels stays. The "
            "network keeps *that* a feature was found and roughly where, not its exact pixel. "
            "Fewer numbers also mean fewer weights later and less over-fitting.",
    "flatten": "**Flatten.** The {shape} block of maps is laid out as one long list of {n} numbers "
               "(row by row, the channel changing fastest) so that a dense layer can look at all of "
               "them at once. Nothing is computed: the numbers are the same as before.",
    "dropout": "**Dropout (rate {rate}).** While the network *trains*, this layer switches off a "
               "random {pct} of the numbers each time, so no unit can be relied on alone and the "
               "network over-fits less. While *predicting* (now) it does nothing: the output "
               "equals the input.",
    "dense": "**Dense (fully connected).** Every output unit multiplies each of the {nin} input "
             "numbers by its own weight, adds them up and adds a bias: {nin} × {units} weights + "
             "{units} biases = {params:,} parameters.",
    "logits": "**Class scores (logits).** The last dense layer gives one score per class. The "
              "units of the layer before vote: each one's value times its weight for a class is "
              "its push for that class. The largest score wins.",
    "softmax": "**Softmax.** Turns the scores into probabilities: e^score divided by the sum of "
               "e^score over all classes. They are all positive and add up to 1; the order of the "
               "classes stays the same.",
    "other": "**{cls}.**",
}


def channel_picker(c: int) -> int:
    if st.session_state.get("net_channel", 0) >= c:
        st.session_state["net_channel"] = 0
    return widgets.clamped_slider("Channel", "net_channel", 0, c - 1, 0,
                                  help="Pick one map to see it large, with its numbers on hover.")


def map_cmap(out: np.ndarray) -> str:
    return "diverging" if float(out.min()) < 0 else "viridis"


def mosaic_view(act, scale: str, ch: int) -> None:
    """Every channel of the layer as one image."""
    out = act.output
    c = out.shape[-1]
    cmap = map_cmap(out)
    picture = figures.mosaic(out, scale=scale, cmap=cmap, highlight=ch if c > 1 else None,
                             width=share.scaled(640 if c > 3 else 420), labels=c > 1)
    png_image(picture,
              caption=(f"All {c} channels, " if c > 1 else "The only channel, ")
                      + ("one colour scale for the layer" if scale == "layer" else "each map on its own scale")
                      + (f"; orange frame: channel {ch}" if c > 1 else "")
                      + (". Blue < 0 < red, white = 0." if cmap == "diverging"
                         else ". Dark = 0, yellow = largest."))
    stem = export.file_stem(loaded_name(), act.name)
    with share.secondary("net_export"), st.container(horizontal=True, gap="small"):
        export.download("This picture (PNG)", lambda: export.png(picture), f"{stem}-mosaic.png",
                        export.PNG, "net_export_mosaic")
        export.download(f"All {c} maps (ZIP: PNGs + .npy)",
                        lambda: export.feature_maps_zip(out, stem, cmap, scale), f"{stem}-maps.zip",
                        export.ZIP, "net_export_zip")


def channel_view(act, scale: str, ch: int) -> None:
    """The chosen channel as a heatmap with its numbers on hover."""
    out = act.output
    cmap = map_cmap(out)
    zmin = zmax = None
    if scale == "layer":
        lo, hi = figures.value_range(out, cmap)
        zmin, zmax = float(lo), float(hi)
    st.plotly_chart(figures.map_heatmap(out[..., ch], f"channel {ch} (hover for values)", cmap,
                                        zmin, zmax, height=340),
                    config=CONFIG, key="net_map_heat")
    m = out[..., ch]
    st.caption(f"min {m.min():.3f} · max {m.max():.3f} · mean {m.mean():.3f} · "
               f"{np.mean(m == 0):.0%} zeros")


def conv_view(act, acts_by_name, ch: int) -> None:
    k = act.info["kernel"]
    kh, kw, cin, cout = k.shape
    bias = act.info["bias"]
    b = float(bias[ch]) if bias is not None else 0.0
    st.markdown(f"##### The learned filter of channel {ch}")
    left, right = st.columns([1.35, 1], gap="medium")
    if cin == 1:
        with left:
            png_image(figures.mosaic(k.reshape(kh, kw, cout), scale="layer", cmap="diverging",
                                     highlight=ch, width=560, labels="above"),
                      caption=f"All {cout} filters ({kh} × {kw}), one colour scale; orange frame: "
                              f"channel {ch}")
        with right:
            st.plotly_chart(figures.map_heatmap(k[:, :, 0, ch], f"filter {ch} weights", "diverging",
                                                height=300, text=True),
                            config=CONFIG, key="net_kernel_heat")
    elif cin == 3:
        with left:
            png_image(figures.rgb_filter_mosaic(k, width=560, highlight=ch),
                      caption=f"All {cout} filters as colour pictures ({kh} × {kw}; grey = 0, each "
                              f"on its own scale): a filter answers most to patches that look like "
                              f"it. Orange frame: channel {ch}.")
        with right:
            png_image(figures.mosaic(k[:, :, :, ch], scale="layer", cmap="diverging", width=360,
                                     labels="above"),
                      caption=f"Filter {ch}, one {kh} × {kw} slice per colour: 0 = red, 1 = green, "
                              f"2 = blue")
    else:
        with left:
            png_image(figures.mosaic(k[:, :, :, ch], scale="layer", cmap="diverging",
                                     width=560, labels="above"),
                      caption=f"Filter {ch} has one {kh} × {kw} slice for each of the {cin} input "
                              f"channels (tile i is applied to input channel i); one colour scale.")
        with right:
            strength = np.abs(k[:, :, :, ch]).sum(axis=(0, 1))
            top = np.argsort(-strength)[:5]
            st.markdown("The input channels this filter weighs most: " +
                        ", ".join(f"**{i}**" for i in top) + ".")
    st.markdown(f"Bias of channel {ch}: **{b:+.4f}**" if bias is not None else
                "This layer has **no bias**: the batch normalisation after it adds its own (β).")


def batchnorm_view(act, acts_by_name, ch: int) -> None:
    info = act.info
    g, be, mu, var, eps = (float(info["gamma"][ch]), float(info["beta"][ch]), float(info["mean"][ch]),
                           float(info["variance"][ch]), info["epsilon"])
    a = g / np.sqrt(var + eps)
    x_in = acts_by_name[act.input_name].output[..., ch]
    r, q = np.unravel_index(np.argmax(np.abs(x_in)), x_in.shape)
    x = float(x_in[r, q])
    y_formula = a * (x - mu) + be
    y_keras = float(act.output[r, q, ch])
    st.markdown(f"##### Channel {ch} in numbers")
    st.latex(r"y = \gamma\,\frac{x-\mu}{\sqrt{\sigma^2+\varepsilon}}+\beta = "
             f"{g:.3f}\\cdot\\frac{{x-({mu:.3f})}}{{\\sqrt{{{var:.3f}+{eps:g}}}}}+({be:.3f})"
             f" = {a:.3f}\\,x {'+' if be - a * mu >= 0 else '-'} {abs(be - a * mu):.3f}")
    st.markdown(f"Check at row {r}, column {q}: x = {x:.4f} → formula {y_formula:.4f}, "
                f"Keras {y_keras:.4f}.")


def activation_view(act, acts_by_name, ch: int) -> None:
    before = acts_by_name[act.input_name].output
    after = act.output
    if before.ndim == 3:
        b, a = before[..., ch], after[..., ch]
        m = float(max(np.abs(b).max(), np.abs(a).max()))
        st.markdown(f"##### Channel {ch} before and after {act.name}")
        c1, c2 = st.columns(2)
        with c1:
            st.plotly_chart(figures.map_heatmap(b, f"before ({act.input_name})", "diverging", -m, m,
                                                height=360), config=CONFIG, key="net_act_before")
        with c2:
            st.plotly_chart(figures.map_heatmap(a, f"after ({act.name})", "diverging", -m, m,
                                                height=360), config=CONFIG, key="net_act_after")
    st.markdown(f"In this layer **{np.mean(after == 0):.0%}** of the {after.size:,} numbers are 0 "
                f"after the activation ({np.mean(before < 0):.0%} were negative before).")


def pool_view(act, acts_by_name, ch: int) -> None:
    info = act.info
    before = acts_by_name[act.input_name].output[..., ch]
    res = pooling.pool2d(before, info["pool_size"], info["strides"], info["padding"], info["mode"])
    diff = float(np.abs(res.output - act.output[..., ch]).max())
    marks = None
    if res.winners is not None:
        # a window that is all zeros (common after ReLU) has no real winner: not marked
        real = res.output.reshape(-1) > 0
        marks = res.winners.reshape(-1, 2)[real]
    st.markdown(f"##### Channel {ch}: the input map and the pooled map")
    c1, c2 = st.columns(2)
    m = float(max(before.max(), 1e-6))
    with c1:
        st.plotly_chart(figures.map_heatmap(before, f"input ({act.input_name}), white lines: the windows",
                                            "viridis", 0.0, m, height=380, marks=marks,
                                            grid=info["strides"] if info["strides"] == info["pool_size"] else None),
                        config=CONFIG, key="net_pool_in")
    with c2:
        st.plotly_chart(figures.map_heatmap(act.output[..., ch], f"output ({act.name})", "viridis",
                                            0.0, m, height=380), config=CONFIG, key="net_pool_out")
    if marks is not None:
        st.caption(f"Orange rings: the cell that won each window ({len(marks)} of {res.output.size} "
                   f"windows; windows that are all 0 have no real winner). Winners found by "
                   f"cnnviz.pooling.pool2d, whose output differs from Keras's by at most {diff:.2g}.")
    else:
        st.caption(f"cnnviz.pooling.pool2d's output differs from Keras's by at most {diff:.2g}.")


def vector_view(act, loaded, acts, pred: int) -> None:
    v = act.output.reshape(-1)
    names = loaded.card["class_names"]
    if act.kind == "flatten":
        src = act.input_name
        shp = loaded.probe.spec(src).output_shape
        rr, cc, kk = np.unravel_index(np.arange(v.size), shp) if len(shp) == 3 else (None, None, None)
        custom = np.stack([rr, cc, kk], axis=1) if rr is not None else None
        fig = figures.vector_bars(v, f"{act.name}: {v.size} numbers", height=300, customdata=custom,
                                  hover="position %{x}<br>= row %{customdata[0]}, column "
                                        "%{customdata[1]}, channel %{customdata[2]}<br>"
                                        "value %{y:.4f}<extra></extra>" if custom is not None else
                                        "position %{x}<br>value %{y:.4f}<extra></extra>")
        st.plotly_chart(fig, config=CONFIG, key="net_vec")
    elif act.name == loaded.probe.score_layer or act.kind == "softmax":
        st.plotly_chart(figures.vector_bars(v, f"{act.name}", labels=names, highlight=pred,
                                            height=320, hover="%{x}<br>%{y:.4f}<extra></extra>"),
                        config=CONFIG, key="net_vec")
    else:
        st.plotly_chart(figures.vector_bars(v, f"{act.name}: {v.size} units", height=300),
                        config=CONFIG, key="net_vec")
    st.caption(f"min {v.min():.3f} · max {v.max():.3f} · {np.mean(v == 0):.0%} zeros")


def contributions_view(loaded, x, acts, cls: int, layer: str | None) -> None:
    names = loaded.card["class_names"]
    con = probe.contributions(loaded.probe, x, cls, layer, activations=acts)
    n = 12
    top = con.contributions[:n]
    st.markdown(f"##### Which units of {con.layer_name} push “{names[cls]}” the most")
    fig = figures.vector_bars(top, "", labels=[f"unit {u}" for u in con.units[:n]], height=280,
                              color="#2ca02c",
                              hover="%{x}<br>push %{y:.4f}<extra></extra>")
    st.plotly_chart(fig, config=CONFIG, key="net_contrib")
    if con.exact:
        st.caption(f"Push = the unit's value × its weight to “{names[cls]}”. All {con.contributions.size} "
                   f"pushes ({con.contributions.sum():+.3f}) plus the bias ({con.bias:+.3f}) make the "
                   f"score {con.logit:+.3f}. The most negative push is {con.contributions[-1]:+.3f}.")
    else:
        st.caption("Estimated push = the unit's value × how much the class score changes per unit "
                   "change of it (the gradient). A first-order estimate: the layers after this one "
                   "are not straight lines.")


def dropout_view(act, acts_by_name) -> None:
    before = acts_by_name[act.input_name].output
    same = float(np.abs(before - act.output).max())
    rate = act.info["rate"]
    st.markdown(f"Output minus input, largest difference: **{same:g}**. While predicting, the "
                f"layer passes the numbers through untouched.")
    if not st.toggle("Show what it does during training", key="net_dropout_show"):
        return
    left, right = st.columns([1, 3.05], gap="medium")
    with left:
        seed = st.number_input("Random mask number", 0, 10_000, 0, key="net_dropout_seed",
                               help="Each training step draws a new random mask; change the "
                                    "number to draw another.")
    scale, out = probe.dropout_sample(before, rate, int(seed))
    kept = scale > 0
    with left:
        st.markdown(f"This mask drops **{np.mean(~kept):.0%}** of the {scale.size:,} numbers "
                    f"(about {rate:.0%} expected) and multiplies the kept ones by "
                    f"1 / (1 − {rate:g}) = **{1 / (1 - rate):.3f}**, so their total stays about "
                    f"the same on average.")
    v_in, v_out = before.reshape(-1), out.reshape(-1)
    show = min(v_in.size, 64)
    idx = list(range(show))
    dropped = [i for i in idx if not kept.reshape(-1)[i]]
    fig = figures.vector_bars(v_in[:show], f"The first {show} numbers: input (light) and after "
                              f"dropout in training (red); × = dropped", height=320,
                              color="#9ecae1")
    fig.add_bar(x=idx, y=v_out[:show].tolist(), marker_color="#d62728", name="training",
                hovertemplate="unit %{x}<br>after dropout %{y:.4f}<extra></extra>")
    fig.add_scatter(x=dropped, y=[0] * len(dropped), mode="markers", hoverinfo="skip",
                    marker={"symbol": "x", "size": 9, "color": "#333"})
    fig.update_layout(barmode="group", showlegend=False)
    with right:
        st.plotly_chart(fig, config=CONFIG, key="net_dropout_fig")


def layer_text(act, loaded) -> str:
    info = act.info
    if act.kind == "conv":
        k = info["kernel"]
        return TEXT["conv"].format(n=k.shape[3], k=f"{k.shape[0]} × {k.shape[1]}", cin=k.shape[2],
                                   bias=", adds a bias" if info["bias"] is not None else "")
    if act.kind == "pool":
        mode = info["mode"]
        return TEXT["pool"].format(mode="Max" if mode == "max" else "Average",
                                   k=images.shape_text(info["pool_size"]),
                                   what="largest value" if mode == "max" else "average",
                                   s=images.shape_text(info["strides"]))
    if act.kind == "flatten":
        src = loaded.probe.spec(act.input_name).output_shape if act.input_name else act.shape
        return TEXT["flatten"].format(shape=images.shape_text(src), n=act.output.size)
    if act.kind == "dropout":
        return TEXT["dropout"].format(rate=f"{info['rate']:g}", pct=f"{info['rate']:.0%}")
    if act.kind == "dense":
        base = TEXT["dense"].format(nin=info["kernel"].shape[0], units=info["units"], params=act.params)
        return (TEXT["logits"] + " " + base.split("** ", 1)[1]) if act.name == loaded.probe.score_layer else base
    if act.kind == "activation" and info.get("function") != "relu":
        return f"**Activation ({info.get('function')}).** Applies the same function to every number."
    return TEXT.get(act.kind, TEXT["other"]).format(cls=info.get("class", "Layer"))


@url_state.fragment
def layer_explorer(loaded: model_cache.Loaded, x: np.ndarray, acts: list, pred: int) -> None:
    specs = loaded.probe.specs
    names = [s.name for s in specs]
    label = {n: f"{loaded.probe.index[n]} · {n} — {KIND_LABEL[loaded.probe.spec(n).kind]}, "
                f"{images.shape_text(loaded.probe.spec(n).output_shape)}" for n in names}
    key = labels_key("net_layer", label.values())
    follow_link("net_layer_last", key, names, "layer")
    if st.session_state.get(key) not in names:            # first time with this network
        last = st.session_state.get("net_layer_last")
        st.session_state[key] = last if last in names else (
            DEFAULT_LAYER if DEFAULT_LAYER in names else names[0])
    nav = st.columns([1, 4, 1], vertical_alignment="bottom")
    with nav[0]:
        st.button("◀ Previous layer", on_click=step_layer, args=(key, names, -1), width="stretch",
                  disabled=st.session_state[key] == names[0], key="net_prev")
    with nav[2]:
        st.button("Next layer ▶", on_click=step_layer, args=(key, names, 1), width="stretch",
                  disabled=st.session_state[key] == names[-1], key="net_next")
    with nav[1]:
        name = st.selectbox("Layer", names, key=key, persist_state="session", format_func=label.get)
    st.session_state["net_layer_last"] = name
    st.markdown(strip_html(specs, name), unsafe_allow_html=True)
    with st.expander("All layers as a table"):
        layer_table(specs)

    act = acts[loaded.probe.index[name]]
    by_name = {a.name: a for a in acts}
    st.subheader(f"{act.index} · {act.name} — {KIND_LABEL[act.kind]}, output {images.shape_text(act.shape)}")
    if act.is_spatial:
        text_col, mosaic_col, heat_col = st.columns([1, 1.9, 1.15], gap="medium")
    else:
        text_col, mosaic_col = st.columns([1, 3.05], gap="medium")
    with text_col:
        explain(layer_text(act, loaded))
        facts = []
        if act.input_name:
            facts.append(f"Reads **{act.input_name}** ({images.shape_text(loaded.probe.spec(act.input_name).output_shape)}).")
        facts.append(f"{act.params:,} parameters." if act.params else "No parameters to learn.")
        st.caption(" ".join(facts))
        ch = 0
        scale = "layer"
        if act.is_spatial and act.output.shape[-1] > 1:
            scale = st.radio("Colour scale", ["layer", "map"], key="net_scale", persist_state="session",
                             format_func={"layer": "same for all maps",
                                          "map": "each map its own"}.get,
                             help="One scale lets you compare channels; its own scale shows the "
                                  "pattern inside a faint map.")
        if act.is_spatial:
            ch = channel_picker(act.output.shape[-1])
    if act.is_spatial:
        with mosaic_col:
            mosaic_view(act, scale, ch)
        with heat_col:
            channel_view(act, scale, ch)
    else:
        with mosaic_col:
            vector_view(act, loaded, acts, pred)
    if act.kind == "conv":
        conv_view(act, by_name, ch)
    elif act.kind == "batchnorm" and "gamma" in act.info:
        batchnorm_view(act, by_name, ch)
    elif act.kind == "activation" and act.input_name:
        activation_view(act, by_name, ch)
    elif act.kind == "pool" and act.input_name:
        pool_view(act, by_name, ch)
    elif act.kind == "dropout":
        dropout_view(act, by_name)
    elif act.kind == "softmax":
        st.markdown(f"The probabilities add up to {act.output.sum():.4f}. "
                    f"**Prediction: {loaded.card['class_names'][pred]} ({formats.percent(act.output[pred])})**")
    if (not act.is_spatial and act.kind in ("flatten", "dense", "activation", "dropout")
            and act.index <= loaded.probe.index[loaded.probe.score_layer]):
        contributions_view(loaded, x, acts, pred,
                           None if act.name == loaded.probe.score_layer else act.name)


# ----------------------------------------------------------------------------- why this prediction

@url_state.fragment
def why_prediction(loaded: model_cache.Loaded, x: np.ndarray, pred: int, probs: np.ndarray) -> None:
    names = loaded.card["class_names"]
    p = loaded.probe
    st.markdown("Which pixels made the network say this? Two ways to ask, both from the gradient of "
                "a class score (the logit, before softmax): how much would the score change if a "
                "pixel or a map value changed a little.")
    spatial = [s.name for s in p.specs if len(s.output_shape) == 3 and s.kind != "input"
               and s.index < p.index[p.score_layer]]
    c1, c2, c3 = st.columns(3)
    with c1:
        labels = [f"{n} ({formats.percent(q)})" + (" — predicted" if i == pred else "")
                  for i, (n, q) in enumerate(zip(names, probs))]
        # a new picture or network gives new labels, a new widget, and the predicted class again
        class_key = labels_key("net_why_class", labels)
        follow_link("net_class", class_key, range(len(names)), "class")
        cls = st.selectbox("Class to explain", list(range(len(names))), index=pred,
                           key=class_key, format_func=labels.__getitem__)
        st.session_state["net_class"] = None if cls == pred else cls
    with c2:
        smooth = st.toggle("SmoothGrad (average over noisy copies)", True, key="net_smooth",
                           help="Plain gradients are speckled. SmoothGrad adds random noise to the "
                                "picture many times and averages the maps: the shared part stays.")
        samples = st.slider("Noisy copies", 5, 50, 20, 5, key="net_smooth_n", disabled=not smooth)
        noise = st.slider("Noise (fraction of the pixel range)", 0.05, 0.5, 0.15, 0.05,
                          key="net_smooth_noise", disabled=not smooth)
    with c3:
        default_cam = probe.default_cam_layer(p)
        follow_link("net_cam", f"net_cam_layer:{loaded.name}", spatial, "Grad-CAM layer")
        cam_layer = st.selectbox("Grad-CAM layer", spatial, index=spatial.index(default_cam),
                                 key=f"net_cam_layer:{loaded.name}",
                                 help="Grad-CAM weighs the maps of this layer by how much they "
                                      "raise the class score. Late layers know most about the "
                                      "class but have coarse maps.")
    st.session_state["net_cam"] = None if cam_layer == default_cam else cam_layer
    sal = probe.saliency(p, x, cls, smoothgrad_samples=samples if smooth else 0, noise=noise, seed=0)
    cam = probe.grad_cam(p, x, cls, cam_layer)
    # a few extreme pixels would leave the rest dark: the top 1% are drawn at full brightness
    smax = float(np.percentile(sal, 99))
    sal_n = np.clip(sal / smax, 0, 1) if smax > 0 else sal
    size = 300
    i1, i2, i3 = st.columns(3)
    with i1:
        png_image(figures.picture_image(x, size), caption="What the network sees", width="stretch")
    with i2:
        png_image(figures.overlay_heat(x, sal_n, 0.75, size),
                  caption=f"Saliency{' (SmoothGrad, ' + str(samples) + ' copies)' if smooth else ''}: "
                          f"|∂ score / ∂ pixel| (brightest: the top 1%), bright = changing this "
                          f"pixel moves the “{names[cls]}” score most", width="stretch")
    with i3:
        png_image(figures.overlay_heat(x, cam, 0.55, size),
                  caption=f"Grad-CAM at {cam_layer}: its {images.shape_text(p.spec(cam_layer).output_shape[:2])} "
                          f"positions, each placed on the part of the picture it sees. Bright = "
                          f"where the maps that favour “{names[cls]}” light up", width="stretch")

    st.markdown("##### The gradient inside the network")
    g_layers = [s.name for s in p.specs if s.kind != "input" and s.index <= p.index[p.score_layer]]
    first = g_layers.index(spatial[0]) if spatial else 0
    left, right = st.columns([1, 2.7], gap="large")
    with left:
        follow_link("net_grad", f"net_grad_layer:{loaded.name}", g_layers, "gradient layer")
        gl = st.selectbox("Layer", g_layers, index=first, key=f"net_grad_layer:{loaded.name}",
                          help="Pick any layer up to the class scores.")
        st.session_state["net_grad"] = None if gl == g_layers[first] else gl
        st.markdown(f"How much the “{names[cls]}” score would change per unit change of each "
                    f"number in **{gl}**. Red: raising that number raises the score; blue: lowers "
                    f"it; white: no effect (often a ReLU that is switched off).")
    g = probe.layer_gradients(p, x, cls, gl)
    with right:
        if g.ndim == 3:
            png_image(figures.mosaic(g, scale="layer", cmap="diverging", width=640),
                      caption=f"∂ score(“{names[cls]}”) / ∂ {gl}: every channel, one colour scale "
                              f"(largest |value| {np.abs(g).max():.2e})")
        else:
            st.plotly_chart(figures.vector_bars(g, f"∂ score / ∂ {gl}", height=280), config=CONFIG,
                            key="net_grad_vec")


# ----------------------------------------------------------------------------- page

if url_state.restore(PARAMS, "network"):
    st.session_state[LINK_PENDING] = True
share.page_header("Network explorer")
share.intro("Follow one picture through a trained convolutional network. Each layer turns a stack "
            "of maps into a new stack; at the end, a list of class scores becomes probabilities. "
            "Pick a layer to see what it computed from **your** picture, then ask the network "
            "**why** it answered as it did.")

pic = widgets.current_picture()
names = model_cache.available()
top = st.columns([1.1, 0.9, 0.9, 1.6], gap="medium")
with top[0]:
    name = choose_model(pic, names)
    with share.secondary("net_own_model"):
        own = own_model_picker()     # local mode only: a visitor's .keras file, checked as data first
    loaded = own or model_cache.load(name)
    card = loaded.card
    if card.get("own"):
        st.caption(f"Your own model: {card['architecture']}, {card['parameters']:,} parameters. "
                   "Its classes are numbered because the file does not name them. Links to this "
                   "view open the network chosen above: your file stays on this server.")
    else:
        acc = card.get("test_accuracy")
        st.caption(f"{card.get('architecture', '')}, {card.get('parameters', 0):,} parameters, trained on "
                   f"{card.get('train_samples', 0):,} images; "
                   + (f"**{acc:.1%}** right on {card.get('test_samples', 0):,} test images it never saw."
                      if acc is not None else ""))

try:
    x, steps = model_input(loaded, pic)
    acts = loaded.probe.run(x)
except ValueError as e:
    st.error(f"This picture cannot be given to the network: {e}")
    st.stop()

probs = acts[-1].output if acts[-1].kind == "softmax" else loaded.probe.probabilities(x)
pred = int(np.argmax(probs))
class_names = card["class_names"]

with top[1]:
    st.markdown("**Your picture**")
    png_image(figures.picture_image(pic.pixels, 220),
              caption=f"{pic.name} · {images.shape_text(pic.pixels.shape)}")
with top[2]:
    st.markdown("**The network's input**")
    png_image(figures.picture_image(x, 220),
              caption=f"{images.shape_text(x.shape)} numbers, 0 (black) to 1 (white)")
    st.caption("How it was prepared:  \n" + ("  \n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
                                              or "used as it is."))
with top[3]:
    st.subheader(f"Prediction: {class_names[pred]} ({formats.percent(probs[pred])})")
    st.plotly_chart(figures.vector_bars(probs, "", labels=class_names, highlight=pred, height=250,
                                        hover="%{x}: %{y:.2%}<extra></extra>"),
                    config=CONFIG, key="net_probs")

st.divider()
st.header("Layer by layer")
layer_explorer(loaded, x, acts, pred)

st.divider()
st.header("Why this prediction?")
why_prediction(loaded, x, pred, probs)
st.session_state.pop(LINK_PENDING, None)

