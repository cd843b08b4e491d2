"""The architecture builder of /train: a list of layers to add, remove, reorder and edit.

Each layer has a stable id, so its widgets keep their values when it moves. The widgets come
from the ranges and choices that cnnviz.builder declares for each field, so nothing out of range
can be typed. What the widgets cannot rule out (a Dense before Flatten, a map shrinking to 0,
strides with dilation, too many parameters) spec_check.check() finds by arithmetic; the shapes
and parameter counts shown come from the same arithmetic (layer_summary, tested against Keras's
model.summary(); the server builds no model as a visitor edits), and the last valid network is
the one trained and shown as code.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import streamlit as st

from cnnviz import architectures, layer_specs, layer_summary, spec_check, spec_links

LAYERS_KEY = "train_layers"          # [{"uid": int, "spec": dict}, ...]
NEXT_UID_KEY = "train_next_uid"
VALID_KEY = "train_valid_layers"     # the last valid list of spec dicts
PRESET_KEY = "train_preset"
ADD_KIND_KEY = "train_add_kind"
DEFAULT_PRESET = "tiny"
PRESET_TITLES = {
    "tiny": "Tiny: two small convolutions (trains in seconds)",
    "lenet5": "LeNet-5 (LeCun et al., 1998)",
    "digits_cnn": "The pretrained digits network",
    "wide_vgg": "The pretrained photos network",
    "small_vgg": "A small VGG (three conv-conv-pool blocks)",
    "deep_sigmoid": "Deep and all sigmoid: gradients vanish",
}
KIND_HELP = {
    "Conv2D": "slides filters over the map",
    "MaxPooling2D": "keeps the largest value of each window",
    "AveragePooling2D": "keeps the mean of each window",
    "BatchNormalization": "rescales each channel",
    "Activation": "applies a function to every value",
    "Dropout": "zeroes random values while training",
    "Flatten": "lays the map out as one long vector",
    "GlobalAveragePooling2D": "one mean per channel",
    "Dense": "every input connected to every unit",
}
NONE_LABELS = {"activation": "none (linear)", "strides": "= pool size", "kernel_regularizer": "none"}


@dataclass(frozen=True)
class Checked:
    """The editor's verdict on the current layers."""
    specs: list                      # the layers as edited (spec objects)
    rows: tuple | None               # Keras's summary rows when valid (one per layer, then the output)
    total_params: int | None
    error: layer_specs.BuildError | None


def _new_uid() -> int:
    st.session_state[NEXT_UID_KEY] = st.session_state.get(NEXT_UID_KEY, 0) + 1
    return st.session_state[NEXT_UID_KEY]


def set_layers(spec_dicts) -> None:
    """Replace the list (a preset, a link): new ids, so no old widget value leaks in."""
    st.session_state[LAYERS_KEY] = [{"uid": _new_uid(), "spec": dict(d)} for d in spec_dicts]


def preset_dicts(name: str) -> list[dict]:
    return [layer_specs.to_dict(s) for s in architectures.PRESETS[name]]


def link_text() -> str:
    """The last valid network as link text (spec_links.to_link)."""
    valid = last_valid() or preset_dicts(DEFAULT_PRESET)
    return spec_links.to_link([layer_specs.from_dict(d) for d in valid])


def apply_link(text: str, input_shape, n_classes: int) -> str | None:
    """Show the network a link carries; a line saying why not, or None when it was applied."""
    try:
        specs = spec_links.from_link(text)
        spec_check.check(specs, input_shape, n_classes)
    except (ValueError, layer_specs.BuildError) as e:
        return f"The network in this link cannot be used ({e}), so the default network is shown."
    dicts = [layer_specs.to_dict(s) for s in specs]
    set_layers(dicts)
    st.session_state[VALID_KEY] = dicts
    match = next((n for n in PRESET_TITLES if n in architectures.PRESETS and preset_dicts(n) == dicts), None)
    if match:
        st.session_state[PRESET_KEY] = match
    return None


def _layers() -> list[dict]:
    if LAYERS_KEY not in st.session_state:
        set_layers(preset_dicts(DEFAULT_PRESET))
    return st.session_state[LAYERS_KEY]


def _key(uid: int, name: str) -> str:
    return f"tl_{uid}_{name}"


def _field_widget(uid: int, f: dataclasses.Field, value):
    """One widget for one field of a spec, limited to what the builder allows; returns its value."""
    meta, key = f.metadata, _key(uid, f.name)
    label = f.name
    if meta["type"] == "bool":
        st.session_state.setdefault(key, bool(value))
        return st.checkbox(label, key=key)
    if meta["type"] == "choice":
        options = ([None] if meta.get("optional") else []) + list(meta["choices"])
        st.session_state.setdefault(key, value if value in options else options[0])
        return st.selectbox(label, options, key=key,
                            format_func=lambda o: NONE_LABELS.get(f.name, "none") if o is None else o)
    lo, hi = meta["range"]
    if meta["type"] == "int":
        if meta.get("optional"):
            options = [None, *range(lo, hi + 1)]
            st.session_state.setdefault(key, value if value in options else None)
            return st.selectbox(label, options, key=key,
                                format_func=lambda o: NONE_LABELS.get(f.name, "none") if o is None else str(o))
        st.session_state.setdefault(key, int(value))
        return int(st.number_input(label, min_value=lo, max_value=hi, step=1, key=key))
    if meta.get("optional"):   # an L2 factor: 0 means none
        st.session_state.setdefault(key, float(value or 0.0))
        number = st.number_input(f"{label} (L2, 0 = none)", min_value=0.0, max_value=float(hi),
                                 step=1e-4, format="%.4f", key=key)
        return float(number) if number > 0 else None
    st.session_state.setdefault(key, float(value))
    return float(st.number_input(label, min_value=float(lo), max_value=float(hi), step=0.05, key=key))


def _arguments_text(spec) -> str:
    """The layer's non-default arguments, short: Conv2D(16, 3, relu)."""
    parts = []
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if value == f.default and f.name not in ("filters", "kernel_size", "units", "rate", "pool_size",
                                                 "activation"):
            continue
        if value is None:
            continue
        parts.append(str(value) if f.name in ("filters", "kernel_size", "units", "pool_size", "rate",
                                              "activation") else f"{f.name}={value}")
    return f"{layer_specs.kind(spec)}({', '.join(parts)})"


def _move(index: int, delta: int) -> None:
    layers = st.session_state[LAYERS_KEY]
    j = index + delta
    if 0 <= j < len(layers):
        layers[index], layers[j] = layers[j], layers[index]


def _remove(index: int) -> None:
    st.session_state[LAYERS_KEY].pop(index)


def _add() -> None:
    layers = st.session_state[LAYERS_KEY]
    kind = st.session_state.get(ADD_KIND_KEY, "Conv2D")
    if len(layers) >= layer_specs.MAX_LAYERS:
        return
    new = {"uid": _new_uid(), "spec": layer_specs.to_dict(layer_specs.KINDS[kind]())}
    # Before Flatten / GlobalAveragePooling2D for map layers, at the end otherwise.
    spot = len(layers)
    if kind in ("Conv2D", "MaxPooling2D", "AveragePooling2D", "BatchNormalization"):
        for i, layer in enumerate(layers):
            if layer["spec"]["kind"] in ("Flatten", "GlobalAveragePooling2D"):
                spot = i
                break
    layers.insert(spot, new)


def _load_preset() -> None:
    set_layers(preset_dicts(st.session_state[PRESET_KEY]))


def summary(spec_dicts, input_shape, n_classes: int) -> tuple[tuple, int]:
    """model.summary()'s rows and total by arithmetic (layer_summary: nothing is built here, tests
    compare it with Keras); BuildError for a list that check() refuses."""
    result = layer_summary.summarise([layer_specs.from_dict(d) for d in spec_dicts], tuple(input_shape), n_classes)
    return result.rows, result.total_params


def check_layers(spec_dicts, input_shape, n_classes: int) -> Checked:
    specs = [layer_specs.from_dict(d) for d in spec_dicts]
    try:
        rows, total = summary(spec_dicts, input_shape, n_classes)
    except layer_specs.BuildError as e:
        return Checked(specs, None, None, e)
    return Checked(specs, rows, total, None)


def preset_picker() -> None:
    names = [n for n in PRESET_TITLES if n in architectures.PRESETS]
    st.session_state.setdefault(PRESET_KEY, DEFAULT_PRESET)
    st.selectbox("Start from", names, key=PRESET_KEY, format_func=PRESET_TITLES.get, on_change=_load_preset,
                 help="Replaces the layers below with a ready-made network; edit it from there.")


def layer_list(input_shape, n_classes: int) -> Checked:
    """The editable list; returns the verdict on it (and remembers the last valid list)."""
    layers = _layers()
    rows_out = []
    for i, layer in enumerate(layers):
        spec_cls = layer_specs.KINDS[layer["spec"]["kind"]]
        with st.container(border=True, key=f"train_layer_{layer['uid']}"):
            cols = st.columns([2.4, 1.25, 0.5, 0.5, 0.5], vertical_alignment="center", gap="small")
            text = cols[0].empty()
            fields = dataclasses.fields(spec_cls)
            if fields:
                with cols[1].popover("Edit", use_container_width=True):
                    st.caption(f"{spec_cls.__name__}: {KIND_HELP[spec_cls.__name__]}.")
                    values = {f.name: _field_widget(layer["uid"], f, layer["spec"].get(f.name, f.default))
                              for f in fields}
                layer["spec"] = {"kind": spec_cls.__name__, **values}
            cols[2].button("", icon=":material/arrow_upward:", key=f"tl_up_{layer['uid']}", help="Move up",
                           on_click=_move, args=(i, -1), disabled=i == 0)
            cols[3].button("", icon=":material/arrow_downward:", key=f"tl_down_{layer['uid']}",
                           help="Move down", on_click=_move, args=(i, 1), disabled=i == len(layers) - 1)
            cols[4].button("", icon=":material/close:", key=f"tl_del_{layer['uid']}", help="Remove",
                           on_click=_remove, args=(i,))
            rows_out.append(text)
    spec_dicts = [layer["spec"] for layer in layers]
    checked = check_layers(spec_dicts, input_shape, n_classes) if spec_dicts else Checked(
        [], None, None, layer_specs.BuildError(0, "The network has no layers: add at least one (for example Flatten)."))
    for i, (text, spec) in enumerate(zip(rows_out, checked.specs)):
        line = f"**{i + 1}.** `{_arguments_text(spec)}`"
        if checked.rows is not None:
            row = checked.rows[i]
            line += f" → {_shape(row.output_shape)} · {row.params:,} parameters"
        with text.container():
            st.markdown(line)
            if checked.error is not None and checked.error.index == i + 1:
                st.error(checked.error.message, icon=":material/error:")
    if checked.error is None:
        st.session_state[VALID_KEY] = spec_dicts
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.selectbox("Add a layer", list(layer_specs.KINDS), key=ADD_KIND_KEY,
                     format_func=lambda k: f"{k}: {KIND_HELP[k]}")
        st.button("Add", icon=":material/add:", on_click=_add, key="tl_add",
                  disabled=len(layers) >= layer_specs.MAX_LAYERS)
    out_row = checked.rows[-1] if checked.rows is not None else None
    st.caption(f"**{len(layers) + 1}.** `Dense({n_classes}, softmax)` → one probability per class, "
               "added by the builder" + (f" · {out_row.params:,} parameters" if out_row else ""))
    if checked.error is not None and checked.error.index in (0, len(layers) + 1):
        st.error(checked.error.message, icon=":material/error:")
    return checked


def _shape(shape) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(str(n) for n in shape) + ")"


def last_valid() -> list[dict] | None:
    return st.session_state.get(VALID_KEY)


def summary_table(rows, total: int) -> str:
    """model.summary() as Markdown: layer name (type), output shape with the batch axis, parameters."""
    lines = ["| Layer (type) | Output shape | Param # |", "|---|---|---:|"]
    for row in rows:
        lines.append(f"| {row.name} ({row.kind}) | (None, {', '.join(str(n) for n in row.output_shape)}) "
                     f"| {row.params:,} |")
    lines.append(f"| **Total** | | **{total:,}** |")
    return "\n".join(lines)
