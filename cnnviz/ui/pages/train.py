"""Train a CNN: build a network from the lesson's layers, train it on real data, watch it learn."""
from __future__ import annotations

import json
import pathlib

import streamlit as st

from cnnviz import data, live
from cnnviz.ui import accessible, formats, motion, preload, share, training_service, training_views, url_state
from cnnviz.ui import own_pictures_training as own
from cnnviz.ui.plain_text import plain
from cnnviz.ui.figures import training as charts

with st.spinner("Loading TensorFlow (once per server)…"):
    preload.import_tensorflow()   # the gate: what needs TensorFlow is imported below it
    from cnnviz import architectures, layer_specs, spec_code, spec_links
    from cnnviz.ui import layer_editor

LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1]
BATCH_SIZES = [16, 32, 64, 128, 256]
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD with momentum 0.9"}
PARAMS = [
    url_state.choice("data", "train_dataset", [*data.DATASETS, own.OWN], "mnist", what="dataset"),
    url_state.text("net", "train_net", spec_links.to_link(architectures.PRESETS[layer_editor.DEFAULT_PRESET]),
                   max_chars=spec_links.MAX_LINK_CHARS, check=spec_links.from_link),
    url_state.choice("optimizer", "train_optimizer", list(OPTIMIZERS), "adam", what="optimizer"),
    url_state.choice("lr", "train_lr", LEARNING_RATES, 3e-3, what="learning rate"),
    url_state.choice("batch", "train_batch", BATCH_SIZES, 128, what="batch size"),
    url_state.integer("epochs", "train_epochs", 1, 50, 2),
    url_state.flag("augment", "train_augment", False),
    url_state.integer("seed", "train_seed", 0, 10_000, 0),
    own.TRANSFER,
]


def data_section() -> str:
    st.header("1 · The data")
    dataset = st.segmented_control("Dataset", [*data.DATASETS, own.OWN], key="train_dataset",
                                   format_func=lambda k: own.TITLE if own.is_own(k) else
                                   f"{data.TABLE[k].title} ({data.TABLE[k].kind.lower()})",
                                   required=True) or data.DATASETS[0]
    if own.is_own(dataset):
        from cnnviz.ui import own_pictures_view
        own.adopt_defaults(PARAMS)
        own_pictures_view.pictures_section()
        return dataset
    try:
        found = data.describe_for_training(dataset)   # the worker reads the images, not the server
    except data.DataError as e:
        st.error(str(e), icon=":material/database_off:")
        return dataset
    st.caption(found.description)
    return dataset


def network_section(dataset: str) -> layer_editor.Checked:
    st.header("2 · The network")
    shape, n_classes = own.input_shape(dataset), own.n_classes(dataset)
    if own.is_own(dataset) and own.way():
        own.transfer_summary(n_classes)
        return layer_editor.Checked([], None, None, None)
    left, right = st.columns([1.15, 1], gap="large")
    with left:
        layer_editor.preset_picker()
        st.caption(f"The input: {shape[0]} × {shape[1]} pixels with {shape[2]} channel"
                   f"{'s' if shape[2] > 1 else ''} (`{shape}`). Open **Edit** to change a layer.")
        checked = layer_editor.layer_list(shape, n_classes)
    with right:
        valid = layer_editor.last_valid()
        summary, code = st.tabs(["Summary (as model.summary() prints it)", "Keras code"])
        specs = [layer_specs.from_dict(d) for d in valid] if valid else None
        note = ("" if checked.error is None else
                "The layers on the left have a problem, so this is the last network that worked.")
        with summary:
            if specs:
                rows, total = layer_editor.summary(valid, shape, n_classes)
                if note:
                    st.warning(note, icon=":material/history:")
                st.markdown(layer_editor.summary_table(rows, total))
                st.caption("Shapes and counts by Keras's rules, worked out as you edit (tests compare "
                           "them with Keras's own model.summary()). `None` is the batch axis (any "
                           "number of pictures).")
        with code:
            if specs:
                if note:
                    st.warning(note, icon=":material/history:")
                st.code(spec_code.keras_code(specs, shape, n_classes), language="python")
    return checked


def settings_from_page(dataset: str) -> live.JobSettings:
    s = st.session_state
    return live.JobSettings(
        dataset=dataset, layers=tuple(layer_editor.last_valid() or ()), optimizer=s["train_optimizer"],
        learning_rate=float(s["train_lr"]), batch_size=int(s["train_batch"]), epochs=int(s["train_epochs"]),
        augment=bool(s["train_augment"]), seed=int(s["train_seed"]),
        **(own.job_fields(s[own.TRANSFER_KEY]) if own.is_own(dataset) else {}))


def _start(dataset: str) -> None:
    try:
        training_service.start(settings_from_page(dataset))
        own.remember_submitted(dataset)
    except (live.Busy, own.PictureError) as e:
        st.session_state["train_error"] = str(e)


def controls(dataset: str, checked: layer_editor.Checked, run) -> None:
    st.header("3 · Training")
    s = st.session_state
    cols = st.columns([1.3, 1.2, 1, 0.9, 0.8, 0.9], vertical_alignment="bottom")
    cols[0].selectbox("Optimizer", list(OPTIMIZERS), key="train_optimizer", format_func=OPTIMIZERS.get)
    cols[1].select_slider("Learning rate", LEARNING_RATES, key="train_lr", format_func=lambda v: f"{v:g}")
    cols[2].selectbox("Batch size", BATCH_SIZES, key="train_batch",
                      help="Pictures per training step; the weights change once per step.")
    cols[3].number_input("Epochs", **url_state.widget(PARAMS, "train_epochs"), help="Passes over all training pictures.")
    cols[4].number_input("Seed", **url_state.widget(PARAMS, "train_seed"),
                         help="Same seed and settings: the same starting weights, order and curves.")
    cols[5].toggle("Augment", key="train_augment",
                   help="Shift, turn or flip the training pictures a little at random each time.")
    active = run is not None and run.active
    with st.container(horizontal=True):
        st.button("Start", type="primary", icon=":material/play_arrow:", key="train_start",
                  disabled=active or own.start_blocked(dataset, layer_editor.last_valid() is None),
                  on_click=_start, args=(dataset,))
        paused = run is not None and run.state == "paused"
        st.button("Resume" if paused else "Pause", icon=":material/play_circle:" if paused else ":material/pause:",
                  key="train_pause", disabled=not (run is not None and run.state in ("running", "paused")),
                  on_click=lambda: training_service.trainer().pause(run.id, training_service.owner(), not paused))
        st.button("Stop", icon=":material/stop:", key="train_stop", disabled=not active,
                  on_click=lambda: training_service.trainer().stop(run.id, training_service.owner()),
                  help="Ends training now; the network keeps what it has learnt and is tested.")
        st.button("Reset", icon=":material/restart_alt:", key="train_reset", disabled=run is None,
                  on_click=lambda: training_service.forget(run.id),
                  help="Forget this run: its curves, its network and its files.")
    error = s.pop("train_error", None)
    if error:
        st.error(plain(error), icon=":material/block:")
    if checked.error is not None and layer_editor.last_valid() is not None:
        st.caption("Start trains the last network that worked (see the summary).")
    limits = training_service.trainer().limits
    st.caption(f"This server trains {limits.max_running} network{'s' if limits.max_running > 1 else ''} at a "
               f"time, each for at most {limits.max_seconds:.0f} s; others wait in a queue.")
    own.training_notes(dataset, int(s["train_seed"]))


def watch(job_id: int) -> None:
    run = training_service.view(job_id)
    if run is None:
        st.info("This run is gone: it was not looked at for a while, so the server let it go.")
        return
    if st.session_state.get("train_was_active") == job_id and not run.active:
        st.session_state.pop("train_was_active")
        st.rerun()   # the whole page: buttons and results follow the finished run
    if run.active:
        st.session_state["train_was_active"] = job_id
    training_views.progress(run)
    if run.state == "failed":
        st.error(f"Training failed: {plain(run.message)}", icon=":material/error:")
    elif run.message:
        st.info(plain(run.message), icon=":material/info:")
    if not run.info:   # waiting, starting, or failed before training began
        return
    st.caption(f"Data: {run.info['data'].rstrip('.')}. Training on {run.info['train_images']:,} pictures, "
               f"{run.info['parameters']:,} parameters.")
    training_views.curves(run)
    own.watch_note(run)
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**The first layer's filters**: they start as noise and become detectors of edges, "
                    "spots and strokes.")
        training_views.filters(run)
    with right:
        st.markdown("**How big the gradients are, layer by layer**: when the early layers get tiny "
                    "gradients, they barely learn (vanishing gradients).")
        training_views.gradients(run)
    st.markdown(own.gallery_title(run))
    training_views.gallery(run)


def result_section(run) -> None:
    st.header("5 · The trained network")
    if own.is_own(run.settings.dataset):
        own.results(run)
        own.comparison(training_service.keep_alive())
    else:
        training_views.results(run)
    if not run.model_file or not pathlib.Path(run.model_file).is_file():
        return
    stem = f"cnnviz-{run.settings.dataset}-run{run.id}"
    with st.container(horizontal=True):
        if st.button("Explore in the network explorer", icon=":material/hub:", type="primary",
                     key="train_explore"):
            with st.spinner("Opening the network…"):
                from cnnviz.ui import model_cache
                card = {**run.card, "name": f"trained in this session (run {run.id})"}
                if own.is_own(run.settings.dataset):
                    card = own.for_explorer(run, card)
                st.session_state[training_service.TRAINED_KEY] = model_cache.load_trained(run.model_file, card)
                st.session_state["net_use_trained"] = True
            st.switch_page("cnnviz/ui/pages/network.py")
        st.download_button("Download the model (.keras)", pathlib.Path(run.model_file).read_bytes(),
                           file_name=f"{stem}.keras", mime="application/octet-stream", on_click="ignore",
                           icon=":material/download:", key="train_download_model")
        st.download_button("Download its model card (.json)", json.dumps(run.card, indent=1),
                           file_name=f"{stem}.json", mime="application/json", on_click="ignore",
                           icon=":material/download:", key="train_download_card")
    st.caption("The network stays on this server for this browser session only: other visitors never "
               "see it. Download it to keep it.")


def run_label(run) -> str:
    if getattr(run.settings, "transfer", False):
        return f"Run {run.id}: transfer from CIFAR-10, seed {run.settings.seed}"
    layers = run.settings.layers
    acts = sorted({d.get("activation") for d in layers if d.get("activation")} - {"softmax"})
    s = run.settings
    return (f"Run {run.id}: {len(layers)} layers, {'/'.join(acts) or 'linear'}, "
            f"{OPTIMIZERS[s.optimizer].split()[0]} {s.learning_rate:g}, seed {s.seed}")


def reading(finished: list) -> str:
    """One line on what the overlaid curves say."""
    best = max(finished, key=lambda r: r.measured[-1][2])
    text = (f"Run {best.id} ends with the best validation accuracy, "
            f"{formats.percent(best.measured[-1][2])}")
    others = [r for r in finished if r is not best]
    if others:
        text += " (" + "; ".join(f"run {r.id}: {formats.percent(r.measured[-1][2])}" for r in others) + ")"
    target = 0.9
    reached = {r.id: next((m[0] for m in r.measured if m[2] >= target), None) for r in finished}
    fast = [(steps, rid) for rid, steps in reached.items() if steps is not None]
    if fast:
        steps, rid = min(fast)
        text += f". Run {rid} was first past {target:.0%}, after {steps:,} steps"
        never = [str(rid) for rid, s in reached.items() if s is None]
        if never:
            text += f"; run{'s' if len(never) > 1 else ''} {', '.join(never)} never got there"
    return text + "."


def compare_section(runs: list) -> None:
    finished = [r for r in runs if not r.active and r.measured]
    if len(finished) < 2:
        return
    st.header("6 · Compare runs")
    st.caption("Your last runs in this session. Try the same network with ReLU, then sigmoid, with the "
               "same seed: the only difference is then the activation.")
    labels = {run_label(r): r for r in finished}
    chosen = st.multiselect("Runs", list(labels), default=list(labels), key="train_compare")
    picked = [labels[c] for c in chosen if c in labels]
    if not picked:
        return
    left, right = st.columns(2)
    acc = {run_label(r): ([m[0] for m in r.measured], [m[2] for m in r.measured]) for r in picked}
    loss = {run_label(r): ([m[0] for m in r.measured], [m[1] for m in r.measured]) for r in picked}
    with left:
        st.plotly_chart(charts.compare_curves(acc, "validation accuracy", percent=True),
                        config=training_views.CONFIG, key="train_compare_acc",
                        alt=training_views.curves_text(acc, "Validation accuracy"))
    with right:
        st.plotly_chart(charts.compare_curves(loss, "validation loss"), config=training_views.CONFIG,
                        key="train_compare_loss", alt=training_views.curves_text(loss, "Validation loss"))
    accessible.chart_numbers("Validation of the compared runs", "step", {
        **{f"{name}: accuracy": line for name, line in acc.items()},
        **{f"{name}: loss": line for name, line in loss.items()}})
    st.markdown(reading(picked))


# ----------------------------------------------------------------------------- page

linked = url_state.restore(PARAMS, "train")
url_state.set_defaults(PARAMS)
share.page_header("Train a CNN")
share.intro("Build a convolutional network from the layers of the lesson, train it on real pictures "
            "and watch it learn: the loss falls, the first layer's filters turn from noise into "
            "detectors, and the answers on test pictures go from guesses to mostly right. Then open "
            "your network in the network explorer.")
dataset = data_section()
if linked and st.session_state.get("train_net") != layer_editor.link_text():
    problem = layer_editor.apply_link(st.session_state["train_net"], own.input_shape(dataset),
                                      own.n_classes(dataset))
    if problem:
        st.warning(plain(problem), icon=":material/link_off:")
checked = network_section(dataset)
st.session_state["train_net"] = layer_editor.link_text()
runs = training_service.keep_alive()
current = training_service.view(training_service.current())
controls(dataset, checked, current)
job_id = training_service.current()
if job_id is not None and current is not None:
    st.header("4 · Watching it learn")
    if current.active:
        refresh = motion.every(0.5)
        st.caption("The charts move while it trains: Pause (above) holds the run and its charts, Stop ends it."
                   + (f" Your device asks for reduced motion, so they are redrawn every {refresh:g} s."
                      if refresh > 0.5 else ""))
        st.fragment(watch, run_every=refresh)(job_id)
    else:
        watch(job_id)
        result_section(current)
compare_section(runs)
url_state.publish()
