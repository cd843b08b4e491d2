"""What /train shows of a run: progress, curves, filters, gradient sizes, predictions, results.

Each function draws one part from a cnnviz.live.Run (a copy: nothing here changes a job).
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import describe
from cnnviz.ui import accessible, figures, formats, share, st_image
from cnnviz.ui.figures import training as charts

CONFIG = share.plotly_config("cnnviz-training")
MEMO_KEY = "train_view_memo"


def _memo(what: str, run, step: int, make):
    """A picture of one run at one step, made and encoded once: the live view redraws twice a
    second, but the filters and the gallery only change at measured steps."""
    memo = st.session_state.setdefault(MEMO_KEY, {})
    key = (what, run.id, step, share.presenting())
    if memo.get(what, (None,))[0] != key:
        memo[what] = (key, figures.to_png(make()))   # PNG bytes: not encoded again at every redraw
    return memo[what][1]


def _seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"


def progress(run) -> None:
    info = run.info
    if run.state == "waiting":
        st.info(f"Waiting for a free trainer: your run is number {run.position} in the queue. "
                "It starts by itself.", icon=":material/hourglass_top:")
        return
    if run.state == "starting" or not info:
        st.info("Starting: loading the data and building the network…", icon=":material/hourglass_top:")
        return
    total = max(1, info["total_steps"])
    rate = run.step / run.seconds if run.seconds > 0 else 0.0
    images_per_s = rate * run.settings.batch_size
    left = (total - run.step) / rate if rate > 0 else None
    text = (f"Step {run.step:,} of {total:,} · epoch {min(run.epoch + 1, info['epochs'])} of {info['epochs']}"
            f" · {images_per_s:,.0f} images/s · {_seconds(run.seconds)} so far")
    if run.active and left is not None:
        text += f" · about {_seconds(left)} left"
    if run.state == "paused":
        text += " · paused"
    st.progress(min(1.0, run.step / total), text=text)


def curves(run) -> None:
    if not run.loss:
        return
    val_steps = [m[0] for m in run.measured]
    left, right = st.columns(2)
    with left:
        st.markdown("**Loss** (lower is better)")
        st.plotly_chart(charts.learning_curve(run.loss, val_steps, [m[1] for m in run.measured], "loss"),
                        config=CONFIG, key="train_loss_chart", alt=describe.curve(run.loss, "Training loss"))
    with right:
        st.markdown("**Accuracy** (share of pictures classified right)")
        st.plotly_chart(charts.learning_curve(run.accuracy, val_steps, [m[2] for m in run.measured],
                                              "accuracy", percent=True),
                        config=CONFIG, key="train_acc_chart", alt=describe.curve(run.accuracy, "Training accuracy"))
    accessible.chart_numbers("Learning curves", "step", {
        "training loss": (np.arange(1, len(run.loss) + 1), run.loss),
        "validation loss": (val_steps, [m[1] for m in run.measured]),
        "training accuracy": (np.arange(1, len(run.accuracy) + 1), run.accuracy),
        "validation accuracy": (val_steps, [m[2] for m in run.measured])})
    last = run.measured[-1] if run.measured else None
    if last is not None:
        st.caption(f"Validation at step {last[0]:,}: loss {last[1]:.4f}, accuracy {formats.percent(last[2])} on "
                   f"{run.info.get('validation_images', 0):,} pictures kept out of training. The training "
                   "curve is the mean over the epoch so far, as Keras reports it; it restarts each epoch.")


def filters(run) -> None:
    if not run.snapshots:
        st.caption("This network has no convolution: there are no filters to watch.")
        return
    name = run.info.get("first_conv", "")
    if run.active:
        step, kernel = run.snapshots[-1]
    else:
        steps = [s for s, _ in run.snapshots]
        chosen = st.select_slider("Filters at step", steps, value=steps[-1], key=f"train_snap_{run.id}",
                                  help="Slide back to see the filters as they were earlier in training.")
        step, kernel = run.snapshots[steps.index(chosen)]
    if kernel.shape[2] == 3:
        img = _memo("filters", run, step, lambda: figures.rgb_filter_mosaic(kernel, width=share.scaled(520)))
        how = "each filter's colours scaled on their own; grey = 0"
    else:
        img = _memo("filters", run, step, lambda: figures.mosaic(
            kernel[:, :, 0, :], cmap="diverging", labels="above", width=share.scaled(520), max_tile=96))
        how = "{} < 0 < {}, one scale for all".format(*figures.sign_colours())
    st_image.show(img, caption=f"{name}: {kernel.shape[3]} filters of {kernel.shape[0]} × {kernel.shape[1]} "
                               f"at step {step:,} ({how})",
                  alt=describe.stack(kernel.mean(axis=2), f"The {kernel.shape[3]} filters of {name} at step {step:,}", "filter"))
    accessible.as_numbers(kernel.mean(axis=2) if kernel.shape[2] > 1 else kernel[:, :, 0, :],
                          f"The filters of {name} at step {step:,}"
                          + (" (the mean over the colour channels)" if kernel.shape[2] > 1 else ""))


def gradients(run) -> None:
    if not run.measured or not run.measured[0][3]:
        return
    layers = list(run.measured[0][3])
    steps = [m[0] for m in run.measured]
    sizes = {name: [m[3].get(name, np.nan) for m in run.measured] for name in layers}
    st.plotly_chart(charts.gradient_history(steps, sizes), config=CONFIG, key="train_grad_chart",
                    alt=" ".join(describe.curve(v, f"Gradient size at {n}", steps) for n, v in sizes.items()))
    accessible.chart_numbers("Gradient size per layer", "step", {n: (steps, v) for n, v in sizes.items()})
    first, last = sizes[layers[0]][-1], sizes[layers[-1]][-1]
    if first > 0 and last > 0:
        ratio = last / first
        st.caption(f"Now the gradient reaching **{layers[0]}** (next to the input) is "
                   + (f"{ratio:,.0f} times smaller than" if ratio >= 2 else
                      f"{1 / ratio:,.1f} times the size of" if ratio < 0.5 else "about as large as")
                   + f" the one at **{layers[-1]}** (next to the output). Purple lines are nearer the input, green ones nearer the output.")


def gallery(run) -> None:
    info = run.info
    if run.gallery is None or "gallery_images" not in info:
        return
    step, predictions, confidences = run.gallery
    labels = info["gallery_labels"]
    right = int(np.sum(np.asarray(predictions) == np.asarray(labels)))
    st_image.show(_memo("gallery", run, step, lambda: charts.gallery_image(
                      info["gallery_images"], labels, predictions, confidences, info["class_names"],
                      tile=share.scaled(72))),
                  caption=f"{right} of {len(labels)} test pictures right at step {step:,} "
                          "(green: right; red: wrong, with the true class below).",
                  alt=describe.gallery(labels, predictions, confidences, info["class_names"], f"Test pictures at step {step:,}"))


def results(run) -> None:
    card = run.card
    if card is None:
        return
    accessible.announce("train_result", f"Training finished: test accuracy {formats.percent(card['test_accuracy'])}, "
                        f"test loss {card['test_loss']:.4f}.")
    cols = st.columns(3)
    cols[0].metric("Test accuracy", formats.percent(card["test_accuracy"]),
                   help=f"On all {card['test_samples']:,} test pictures, which training never saw.")
    cols[1].metric("Test loss", f"{card['test_loss']:.4f}")
    cols[2].metric("Training time", _seconds(card["training_seconds"]),
                   help=f"{card['steps']:,} steps of {card['batch_size']} pictures.")
    st.markdown("**Confusion matrix**: each row is the true class, each column the network's answer; "
                "the diagonal holds the right answers.")
    st.plotly_chart(charts.confusion_figure(card["confusion_matrix"], card["class_names"]), config=CONFIG,
                    key=f"train_confusion_{run.id}",
                    alt=describe.confusion(card["confusion_matrix"], card["class_names"]))
    accessible.as_numbers(np.asarray(card["confusion_matrix"]), "Confusion matrix (rows: true class, columns: answer)",
                          card["class_names"], card["class_names"], corner="true \\ answer")
    worst = min(card["per_class_accuracy"].items(), key=lambda kv: kv[1])
    best = max(card["per_class_accuracy"].items(), key=lambda kv: kv[1])
    st.caption(f"Easiest class: {best[0]} ({formats.percent(best[1])} right); hardest: {worst[0]} "
               f"({formats.percent(worst[1])}).")


def curves_text(curves: dict, what: str) -> str:
    """The text alternative of a chart of several runs' curves: {label: (steps, values)}."""
    return " ".join(describe.curve(values, f"{what} of {label}", steps) for label, (steps, values) in curves.items())
