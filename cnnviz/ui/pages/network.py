"""Network explorer: follow one picture through a trained CNN, layer by layer, and ask why."""
from __future__ import annotations

import hashlib
import html

import numpy as np
import streamlit as st

from cnnviz import data, describe, images, model_input
from cnnviz.ui import (accessible, class_session, figures, formats, preload, share, tensor_shapes, training_service,
                       url_state, widgets)
from cnnviz.ui.plain_text import plain
from cnnviz.ui import own_pictures_training
from cnnviz.ui.own_model import own_model_picker

with st.spinner("Starting TensorFlow (only the first visit waits)…"):
    preload.import_tensorflow()   # the gate: what needs TensorFlow is imported below it
    from cnnviz import probe
    from cnnviz.ui import evidence_view, explain_views, model_cache, result_cache
    from cnnviz.ui.layer_views import VIEWS, maps, vectors
    from cnnviz.ui.layer_views.common import CONFIG, ShownLayer, png_image
    from cnnviz.ui.layer_views.explanations import layer_text

KIND_LABEL = {"input": "Input", "conv": "Convolution", "batchnorm": "Batch norm",
              "activation": "Activation", "pool": "Pooling", "flatten": "Flatten",
              "dense": "Dense", "dropout": "Dropout", "softmax": "Softmax", "other": "Layer"}
KIND_COLOUR = {"input": "#7f7f7f", "conv": "#1f77b4", "batchnorm": "#17becf",
               "activation": "#2ca02c", "pool": "#ff7f0e", "flatten": "#9467bd",
               "dense": "#d62728", "dropout": "#a0a0a0", "softmax": "#bcbd22", "other": "#7f7f7f"}
DEFAULT_LAYER = "conv1"
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
    tensor_shapes.data_format_param(url_state, "net_data_format"),
    url_state.choice("baseline", "net_ig_baseline", ["black", "blur"], "black", what="baseline"),
    url_state.choice("square", "net_occ_patch", [2, 3, 4, 6, 8], 4, what="occlusion square"),
    url_state.choice("step", "net_occ_stride", [1, 2, 3, 4], 2, what="occlusion step"),
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


def trained_model_switch():
    """The network trained on /train in this session, when there is one and the switch is on."""
    trained = st.session_state.get(training_service.TRAINED_KEY)
    if trained is None:
        return None
    on = st.toggle("Use the network you trained", key="net_use_trained",
                   help=f"{trained.card['name']}; for {own_pictures_training.data_title(trained.card['dataset'])} pictures.")
    return trained if on else None


def models_pretrained() -> dict:
    from cnnviz import models
    return models.PRETRAINED


def model_label(name: str) -> str:
    card = models_pretrained().get(name)
    if not card:
        return name
    ds = data.TABLE.get(card.get("dataset"))
    return f"{ds.kind} ({ds.title})" if ds and name == ds.key else f"{name} ({card.get('dataset', '?')})"


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
            f'<div class="cz-kind">{KIND_LABEL[s.kind]}</div>'   # text in the text colour: 4.5:1
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
    st.warning(plain(f"The link asks for {what} {url_state.quote(str(value))}, which "
                     f"{loaded_name()} does not have; showing the default instead."),
               icon=":material/link_off:")


def loaded_name() -> str:
    return model_label(st.session_state.get("net_model", ""))


def step_layer(key: str, names: list[str], delta: int) -> None:
    i = names.index(st.session_state.get(key, names[0]))
    st.session_state[key] = names[int(np.clip(i + delta, 0, len(names) - 1))]


# ----------------------------------------------------------------------------- layer by layer

def channel_picker(c: int) -> int:
    if st.session_state.get("net_channel", 0) >= c:
        st.session_state["net_channel"] = 0
    return widgets.clamped_slider("Channel", "net_channel", 0, c - 1, 0,
                                  help="Pick one map to see it large, with its numbers on hover.")


def choose_layer(network: probe.Probe) -> str:
    """The layer selectbox between "previous" and "next" buttons; a link's layer or the last one
    seen is chosen first."""
    names = [s.name for s in network.specs]
    label = {n: f"{network.index[n]} · {n} — {KIND_LABEL[network.spec(n).kind]}, "
                f"{images.shape_text(network.spec(n).output_shape)}" for n in names}
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
    return name


def describe_layer(act: probe.LayerActivation, network: probe.Probe) -> tuple[str, int]:
    """What the layer does and reads; for maps, the colour scale and channel controls.
    Returns the colour scale ("layer" or "map") and the chosen channel."""
    st.markdown(layer_text(act, network))
    facts = []
    if act.input_name:
        facts.append(f"Reads **{act.input_name}** ({images.shape_text(network.spec(act.input_name).output_shape)}).")
    facts.append(f"{act.params:,} parameters." if act.params else "No parameters to learn.")
    st.caption(" ".join(facts))
    if not act.is_spatial:
        return "layer", 0
    scale = "layer"
    if act.output.shape[-1] > 1:
        scale = st.radio("Colour scale", ["layer", "map"], key="net_scale", persist_state="session",
                         format_func={"layer": "same for all maps",
                                      "map": "each map its own"}.get,
                         help="One scale lets you compare channels; its own scale shows the "
                              "pattern inside a faint map.")
    return scale, channel_picker(act.output.shape[-1])


def show_layer(loaded: model_cache.Loaded, x: np.ndarray, acts: list, pred: int,
               act: probe.LayerActivation) -> None:
    """The words, the maps (or numbers) and the chosen map of one layer, then its kind's view."""
    if act.is_spatial:
        text_col, mosaic_col, heat_col = st.columns([1, 1.9, 1.15], gap="medium")
    else:
        text_col, mosaic_col = st.columns([1, 3.05], gap="medium")
    with text_col:
        scale, channel = describe_layer(act, loaded.probe)
    layer = ShownLayer(act=act, acts=acts, loaded=loaded, x=x, pred=pred, channel=channel,
                       scale=scale, network_label=loaded_name())
    if act.is_spatial:
        with mosaic_col:
            maps.mosaic_view(layer)
        with heat_col:
            maps.channel_view(layer)
    else:
        with mosaic_col:
            vectors.vector_view(layer)
    kind_view = VIEWS.get(act.kind)
    if kind_view:
        kind_view(layer)
    if vectors.pushes_class_scores(layer):
        vectors.contributions_view(layer)


@url_state.fragment
def layer_explorer(loaded: model_cache.Loaded, x: np.ndarray, acts: list, pred: int) -> None:
    specs = loaded.probe.specs
    name = choose_layer(loaded.probe)
    st.markdown(strip_html(specs, name), unsafe_allow_html=True)
    with st.expander("All layers as a table"):
        layer_table(specs)
    act = acts[loaded.probe.index[name]]
    st.subheader(f"{act.index} · {act.name} — {KIND_LABEL[act.kind]}, output {images.shape_text(act.shape)}")
    spec = loaded.probe.spec(name)
    before = loaded.probe.spec(spec.input_name).output_shape if spec.input_name else None
    if act.is_spatial and before is not None and len(before) == 3:
        with share.secondary("net_tensors"):
            tensor_shapes.tensor_box(type(spec.layer).__name__, before, act.shape, "net_data_format")
    show_layer(loaded, x, acts, pred, act)


# ----------------------------------------------------------------------------- why this prediction

def choose_class(names: list[str], pred: int, probs: np.ndarray) -> int:
    labels = [f"{n} ({formats.percent(q)})" + (" — predicted" if i == pred else "")
              for i, (n, q) in enumerate(zip(names, probs))]
    # a new picture or network gives new labels, a new widget, and the predicted class again
    class_key = labels_key("net_why_class", labels)
    follow_link("net_class", class_key, range(len(names)), "class")
    cls = st.selectbox("Class to explain", list(range(len(names))), index=pred,
                       key=class_key, format_func=labels.__getitem__)
    st.session_state["net_class"] = None if cls == pred else cls
    return cls


def smoothgrad_controls(network: probe.Probe) -> tuple[int, float]:
    """How many noisy copies SmoothGrad averages (0: a plain gradient) and how much noise."""
    smooth = st.toggle("SmoothGrad (average over noisy copies)", True, key="net_smooth",
                       help="Plain gradients are speckled. SmoothGrad adds random noise to the "
                            "picture many times and averages the maps: the shared part stays.")
    most = explain_views.smoothgrad_copies(network)
    samples = widgets.clamped_slider("Noisy copies", "net_smooth_n", 5, most, explain_views.SMOOTHGRAD_COPIES, step=5,
                                     disabled=not smooth, only_one=f"{most} noisy copies.")
    if most < 50:
        st.caption(f"At most {most} copies (not 50): a network this size costs more per copy.")
    noise = st.slider("Noise (fraction of the pixel range)", value=explain_views.SMOOTHGRAD_NOISE, step=0.05,
                      **url_state.widget(PARAMS, "net_smooth_noise"), disabled=not smooth)
    return (samples if smooth else 0), noise


def choose_cam_layer(loaded: model_cache.Loaded, spatial: list[str]) -> str:
    default_cam = probe.default_cam_layer(loaded.probe)
    follow_link("net_cam", f"net_cam_layer:{loaded.name}", spatial, "Grad-CAM layer")
    cam_layer = st.selectbox("Grad-CAM layer", spatial, index=spatial.index(default_cam),
                             key=f"net_cam_layer:{loaded.name}",
                             help="Grad-CAM weighs the maps of this layer by how much they "
                                  "raise the class score. Late layers know most about the "
                                  "class but have coarse maps.")
    st.session_state["net_cam"] = None if cam_layer == default_cam else cam_layer
    return cam_layer


def saliency_picture(network: probe.Probe, x: np.ndarray, cls: int, class_name: str,
                     copies: int, noise: float, size: int) -> None:
    sal = result_cache.shared(network, "saliency", x, (cls, copies, noise))
    # a few extreme pixels would leave the rest dark: the top 1% are drawn at full brightness
    smax = float(np.percentile(sal, 99))
    sal_n = np.clip(sal / smax, 0, 1) if smax > 0 else sal
    png_image(figures.overlay_heat(x, sal_n, 0.75, size),
              caption=f"Saliency{' (SmoothGrad, ' + str(copies) + ' copies)' if copies else ''}: "
                      f"|∂ score / ∂ pixel| (brightest: the top 1%), bright = changing this "
                      f"pixel moves the “{class_name}” score most", width="stretch",
              alt=describe.heat_map(sal, f"Saliency for class {class_name}"))


def grad_cam_picture(network: probe.Probe, x: np.ndarray, cls: int, class_name: str,
                     cam_layer: str, size: int) -> None:
    cam = result_cache.shared(network, "grad_cam", x, (cls, cam_layer))
    png_image(figures.overlay_heat(x, cam, 0.55, size),
              caption=f"Grad-CAM at {cam_layer}: its {images.shape_text(network.spec(cam_layer).output_shape[:2])} "
                      f"positions, each placed on the part of the picture it sees. Bright = "
                      f"where the maps that favour “{class_name}” light up", width="stretch",
              alt=describe.heat_map(cam, f"Grad-CAM for class {class_name} at {cam_layer}"))


def gradient_layer(loaded: model_cache.Loaded, class_name: str):
    """The heading, layer choice and words of "the gradient inside"; returns the layer and the
    column its picture goes in."""
    st.markdown("### The gradient inside the network")
    g_layers, first = explain_views.gradient_layers(loaded.probe)
    left, right = st.columns([1, 2.7], gap="large")
    with left:
        follow_link("net_grad", f"net_grad_layer:{loaded.name}", g_layers, "gradient layer")
        gl = st.selectbox("Layer", g_layers, index=first, key=f"net_grad_layer:{loaded.name}",
                          help="Pick any layer up to the logits.")
        st.session_state["net_grad"] = None if gl == g_layers[first] else gl
        negative, positive = figures.sign_colours()
        st.markdown(f"How much the “{class_name}” logit would change per unit change of each "
                    f"number in **{gl}**. {positive.capitalize()}: raising that number raises the score; "
                    f"{negative}: lowers it; white: no effect (often a ReLU that is switched off).")
    return gl, right


def gradient_picture(network: probe.Probe, x: np.ndarray, cls: int, class_name: str, gl: str) -> None:
    """The gradient of the class score with respect to one layer's numbers."""
    g = result_cache.shared(network, "layer_gradients", x, (cls, gl))
    if g.ndim == 3:
        picture, note = maps.fitted_mosaic(g, 640, scale="layer", cmap="diverging")
        png_image(picture,
                  caption=f"∂ logit(“{class_name}”) / ∂ {gl}: every channel, one colour scale "
                          f"(largest |value| {np.abs(g).max():.2e}).{note}",
                  alt=describe.stack(g, f"The gradient of the {class_name} logit in {gl}", "channel"))
    else:
        st.plotly_chart(vectors.fitted_bars(g, f"∂ logit / ∂ {gl}", height=280), config=CONFIG,
                        key="net_grad_vec", alt=describe.bars(g, None, f"The gradient of the {class_name} logit in {gl}"))
        accessible.chart_numbers(f"The gradient of the {class_name} logit in {gl}", "unit",
                                 {f"∂ logit / ∂ {gl}": (np.arange(g.size), g)})


@url_state.fragment
def why_prediction(loaded: model_cache.Loaded, x: np.ndarray, pred: int, probs: np.ndarray) -> None:
    names = loaded.card["class_names"]
    st.markdown("Which pixels made the network say this? Four ways to ask. Saliency, Grad-CAM and "
                "integrated gradients follow the gradient of the class's logit (its score before "
                "the softmax): how much would the logit change if a pixel or a map value changed "
                "a little. Occlusion simply hides part of the picture and runs the network again.")
    spatial = explain_views.spatial_layers(loaded.probe)
    c1, c2, c3 = st.columns(3)
    with c1:
        cls = choose_class(names, pred, probs)
        st.caption(f"Every map here explains {loaded.probe.class_score.describe(f'“{names[cls]}”')}.")
    with c2:
        copies, noise = smoothgrad_controls(loaded.probe)
    with c3:
        cam_layer = choose_cam_layer(loaded, spatial)
    size = 300
    network = loaded.probe
    i1, i2, i3 = st.columns(3)
    j1, j2, j3 = st.columns(3)
    # every setting first, then the maps that are missing computed side by side, then the pictures
    with j1:
        st.session_state.setdefault("net_ig_baseline", "black")
        baseline = explain_views.ig_controls()
    with j2:
        window = explain_views.occlusion_controls(network, x)
    with j3:
        st.markdown(explain_views.GUIDE)
    gl, gradient_column = gradient_layer(loaded, names[cls])
    requests = [("saliency", (cls, copies, noise)), ("grad_cam", (cls, cam_layer)),
                ("integrated_gradients", (cls, baseline, explain_views.ig_steps(network, x))),
                ("layer_gradients", (cls, gl))] + ([("occlusion", (cls, *window))] if window else [])
    with i1:
        png_image(figures.picture_image(x, size), caption="What the network sees", width="stretch",
                  alt=describe.picture(x, "What the network sees"))
        result_cache.prepare(network, x, requests)
    with i2:
        saliency_picture(network, x, cls, names[cls], copies, noise, size)
    with i3:
        grad_cam_picture(network, x, cls, names[cls], cam_layer, size)
    with j1:
        explain_views.integrated_gradients_picture(network, x, cls, names[cls], size, baseline)
    if window:
        with j2:
            explain_views.occlusion_picture(network, x, cls, names[cls], size, *window)
    with gradient_column:
        gradient_picture(network, x, cls, names[cls], gl)


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
    trained = trained_model_switch()
    loaded = own or trained or model_cache.load(name)
    card = loaded.card
    if own or trained:
        class_session.private_network_note(model_label(name))
    if card.get("trained_here"):
        st.caption(f"The network you trained on /train: {card['parameters']:,} parameters, "
                   f"**{card['test_accuracy']:.1%}** right on {card['test_samples']:,} test images. "
                   "It stays in this browser session: links to this view open the network chosen above.")
        own_pictures_training.explorer_note(card)
    elif card.get("own"):
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
    x, steps = model_input.network_input(pic, loaded.probe.input_shape, card.get("dataset"))
    acts = loaded.probe.run(x)
except ValueError as e:
    st.error(f"This picture cannot be given to the network: {plain(e)}")
    st.stop()

probs = acts[-1].output if acts[-1].kind == "softmax" else loaded.probe.probabilities(x)
pred = int(np.argmax(probs))
class_names = card["class_names"]

with top[1]:
    st.markdown("**Your picture**")
    png_image(figures.picture_image(pic.pixels, 220),
              caption=f"{pic.name} · {images.shape_text(pic.pixels.shape)}",
              alt=describe.picture(pic.pixels, f"Your picture {pic.name}"))
with top[2]:
    st.markdown("**The network's input**")
    png_image(figures.picture_image(x, 220),
              caption=f"{images.shape_text(x.shape)} numbers, 0 (black) to 1 (white)",
              alt=describe.picture(x, "The network's input"))
    st.caption("How it was prepared:  \n" + ("  \n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
                                              or "used as it is."))
with top[3]:
    st.header(f"Prediction: {class_names[pred]} ({formats.percent(probs[pred])})")
    st.plotly_chart(figures.vector_bars(probs, "", labels=class_names, highlight=pred, height=250,
                                        hover="%{x}: %{y:.2%}<extra></extra>"),
                    config=CONFIG, key="net_probs", alt=describe.bars(probs, class_names, "Probability per class"))
    accessible.announce("net_prediction", describe.prediction(probs, class_names))
numbers = st.columns(2)   # the tables open across the page, not in the pictures' narrow columns
with numbers[0]:
    accessible.as_numbers(x[..., 0] if x.shape[-1] == 1 else x, "The network's input")
with numbers[1]:
    accessible.as_numbers(np.asarray(probs)[None, :], "Probability per class", ["probability"], class_names,
                          corner="class")

st.divider()
st.header("Layer by layer")
layer_explorer(loaded, x, acts, pred)

st.divider()
st.header("Why this prediction?")
why_prediction(loaded, x, pred, probs)

st.divider()
st.header("What does one channel look for?")
st.fragment(explain_views.channel_section)(loaded, explain_views.spatial_layers(loaded.probe))

st.divider()
st.header("The test set as evidence")
st.fragment(evidence_view.test_set_evidence)(loaded)
st.session_state.pop(LINK_PENDING, None)

