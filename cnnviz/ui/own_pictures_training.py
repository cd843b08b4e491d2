"""/train with "Your own pictures": from scratch or by transfer, the held-out split, and what a
finished run shows of the visitor's classes (per-class accuracy, confusion matrix, the pictures it
gets wrong, scratch against transfer on the same split)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import data, describe, own_pictures
from cnnviz.ui import accessible, formats, own_pictures_store as store, share, st_image, url_state
from cnnviz.ui.figures import training as charts
from cnnviz.ui.plain_text import plain

PictureError = own_pictures.PictureError   # what Start on unusable pictures raises (one line)
OWN = "own"                        # the dataset's key on /train and in links
TITLE = "Your own pictures"
TRANSFER_KEY = "train_transfer"
TRANSFER = url_state.flag("transfer", TRANSFER_KEY, False)
HELD_OUT = 0.2
DIGESTS_KEY = "own_run_digests"     # {job id: the fingerprint of the pictures it learnt from}
HELD_OUT_KEY = "own_held_out"      # the held-out pictures of the run opened in the explorer
DEFAULTS_KEY = "own_defaults_used"
SETTING_KEYS = {"epochs": "train_epochs", "batch_size": "train_batch", "learning_rate": "train_lr",
                "optimizer": "train_optimizer", "augment": "train_augment"}
SHAPE = (own_pictures.SIZE, own_pictures.SIZE, 3)
WAYS = {False: "From scratch: the network you build below",
        True: "Transfer: CIFAR-10's trained convolution blocks, frozen, and a new head"}
WHY_TRANSFER = ("Why transfer needs fewer pictures: its convolution blocks already learnt edges, "
                "colours and textures from tens of thousands of CIFAR-10 photos and stay as they are; only the "
                "new head (a few thousand weights) learns from your pictures. From scratch, every "
                "weight starts as noise and must learn from your few pictures alone. Train both "
                "ways with the same seed to see the difference on the same held-out pictures.")


def is_own(dataset: str) -> bool:
    return dataset == OWN


def input_shape(dataset: str) -> tuple[int, int, int]:
    from cnnviz import models
    return SHAPE if is_own(dataset) else models.INPUT_SHAPES[dataset]


def n_classes(dataset: str) -> int:
    """The network's outputs: the visitor's classes (at least 2, so a network can be shown)."""
    if is_own(dataset):
        return max(own_pictures.MIN_CLASSES, len(store.current().class_names))
    return len(data.CLASS_NAMES[dataset])


def adopt_defaults(params) -> None:
    """The first time this session picks own pictures: the settings that train a few dozen
    pictures per class in seconds (own_pictures.training.defaults), for each setting still at the
    page's default; a link's or the visitor's own choice is kept."""
    s = st.session_state
    if s.get(DEFAULTS_KEY):
        return
    s[DEFAULTS_KEY] = True
    from cnnviz.own_pictures import training
    page_default = {p.key: p.default for p in params}
    for field, value in training.defaults(bool(s.get(TRANSFER_KEY))).items():
        key = SETTING_KEYS.get(field)
        if key is not None and s.get(key, page_default[key]) == page_default[key]:
            s[key] = value


def way() -> bool:
    """From scratch (False) or transfer (True), chosen in section 2; the line on why."""
    transfer = st.radio("How the network learns", list(WAYS), format_func=WAYS.get, key=TRANSFER_KEY,
                        horizontal=True)
    st.caption(WHY_TRANSFER)
    return bool(transfer)


def transfer_summary(classes: int) -> None:
    from cnnviz import models
    card = models.PRETRAINED.get("cifar10", {})
    st.markdown(f"**The network**: the convolution blocks of the CIFAR-10 network in the explorer "
                f"({card.get('architecture', 'small VGG')}, trained on {card.get('train_samples', 50_000):,} "
                f"photos), frozen: their weights do not change. On top, a new head that ends in "
                f"`Dense({classes}, softmax)`, one probability per class of yours, learns from your "
                "pictures. The layer editor is for training from scratch.")


def problem(pictures: own_pictures.PictureSet) -> str | None:
    """Why this set cannot be trained yet, in one line (None: it can)."""
    try:
        pictures.check_trainable()
    except own_pictures.PictureError as e:
        return str(e)
    return None


def split_text(pictures: own_pictures.PictureSet, seed: int) -> str:
    """The held-out part, stated: how many of each class, chosen by the seed."""
    if problem(pictures):
        return f"{HELD_OUT:.0%} of each class's pictures (at least one) will be held out to test the network."
    _, held = pictures.split(HELD_OUT, seed)
    per_class = np.bincount(pictures.labels[held], minlength=len(pictures.class_names))
    each = ", ".join(f"{n} of ‘{plain(name)}’" for name, n in zip(pictures.class_names, per_class))
    return (f"Held out: {HELD_OUT:.0%} of each class, {len(held)} pictures ({each}), chosen by the seed "
            f"{seed}: the network never trains on them; they are its test. It learns from the other "
            f"{len(pictures) - len(held)}.")


def start_blocked(dataset: str, no_network: bool) -> bool:
    """Whether Start is off: no valid network (transfer needs none), or pictures not ready."""
    if not is_own(dataset):
        return no_network
    transfer = bool(st.session_state.get(TRANSFER_KEY))
    return problem(store.current()) is not None or (no_network and not transfer)


def training_notes(dataset: str, seed: int) -> None:
    """Under the Start button: why it is off, the held-out part and the augmentation switch."""
    if not is_own(dataset):
        return
    pictures = store.current()
    why = problem(pictures)
    if why:
        st.caption(f":material/photo_library: Start needs more pictures: {plain(why)}")
    st.caption(split_text(pictures, seed) + " **Augment** flips and shifts your training pictures a "
               "little at random each time: more variety from few pictures.")


def remember_submitted(dataset: str) -> None:
    """After Start: which pictures the new run learns from (a fingerprint; runs on the same
    pictures, held-out share and seed are tested on the same held-out pictures)."""
    if is_own(dataset):
        from cnnviz.ui import training_service
        st.session_state.setdefault(DIGESTS_KEY, {})[training_service.current()] = store.digest(store.current())


def job_fields(transfer: bool) -> dict:
    """The JobSettings fields of a run on this session's pictures."""
    return {"pictures": store.current(), "transfer": bool(transfer), "held_out": HELD_OUT}


# ----------------------------------------------------------------------------- during and after a run

def gallery_title(run) -> str:
    pictures = "Held-out pictures" if is_own(run.settings.dataset) else "Test pictures"
    return f"**{pictures} and the network's answers now**"


def watch_note(run) -> None:
    """While a transfer run learns: what stays as it was."""
    frozen = run.info.get("frozen") or []
    if is_own(run.settings.dataset) and run.settings.transfer and frozen:
        st.caption(f"Transfer: {', '.join(frozen)} are CIFAR-10's and frozen, so the first layer's filters "
                   "below stay as CIFAR-10 learnt them; only the new head learns, so only its gradient "
                   "sizes are drawn.")

def held_out(run) -> tuple[np.ndarray, np.ndarray]:
    """The run's held-out pictures (uint8) and labels, as its worker sent them back (the Trainer
    keeps no copy of the visitor's set)."""
    return np.asarray(run.info["held_out_images"]), np.asarray(run.info["held_out_labels"], dtype=int)


def results(run) -> None:
    """Held-out accuracy, per class, the confusion matrix and the pictures it gets wrong."""
    card = run.card
    if card is None:
        return
    names = list(card["class_names"])
    confusion = np.asarray(card["confusion_matrix"], dtype=int)
    per_class = np.asarray([card["per_class_accuracy"][n] for n in names], dtype=float)
    n = card["test_samples"]
    accessible.announce("train_result", f"Training finished: {formats.percent(card['test_accuracy'])} of the "
                        f"{n} held-out pictures right.")
    cols = st.columns(3)
    cols[0].metric("Held-out accuracy", formats.percent(card["test_accuracy"]),
                   help=f"On the {n} held-out pictures, which training never saw.")
    cols[1].metric("Way", "Transfer" if card.get("transfer") else "From scratch",
                   help=f"Learnt from {sum(card['learned_from'].values())} pictures.")
    cols[2].metric("Training time", f"{card['training_seconds']:.0f} s",
                   help=f"{card['steps']:,} steps of {card['batch_size']} pictures.")
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Right per class**: the share of each class's held-out pictures")
        from cnnviz.ui import figures
        st.plotly_chart(figures.vector_bars(per_class, "", labels=names, height=280,
                                            highlight=int(np.argmin(per_class)) if np.ptp(per_class) > 0 else None,
                                            hover="%{x}: %{y:.0%} right<extra></extra>"),
                        config=share.plotly_config("cnnviz-own-per-class"), key=f"own_per_class_{run.id}",
                        alt=describe.bars(per_class, names, "Share of held-out pictures right, per class"))
        accessible.as_numbers(per_class[None, :], "Share right per class", ["share right"], names, corner="class")
        st.caption("; ".join(f"‘{plain(name)}’: {int(confusion[c, c])} of {int(confusion[c].sum())} right"
                             for c, name in enumerate(names)) + ".")
    with right:
        st.markdown("**Confusion matrix**: rows are the true class, columns the network's answer.")
        st.plotly_chart(charts.confusion_figure(confusion, names, height=240 + 24 * len(names)),
                        config=share.plotly_config("cnnviz-own-confusion"), key=f"own_confusion_{run.id}",
                        alt=describe.confusion(confusion, names))
        accessible.as_numbers(confusion, "Confusion matrix (rows: true class, columns: answer)", names, names,
                              corner="true \\ answer")
    wrong_pictures(run)


def wrong_pictures(run) -> None:
    card = run.card
    names = list(card["class_names"])
    wrong = card.get("wrong") or []
    if not wrong:
        st.success(f"All {card['test_samples']} held-out pictures are answered right.", icon=":material/check_circle:")
        return
    held_images, held_labels = held_out(run)
    index = np.asarray([w["held_out"] for w in wrong], dtype=int)
    predicted = np.asarray([names.index(w["predicted"]) for w in wrong], dtype=int)
    sure = np.asarray([w["probability"] for w in wrong], dtype=float)
    labels = held_labels[index]
    st.markdown(f"**The pictures it gets wrong**: {card['wrong_count']} of {card['test_samples']} held out"
                + (f", the {len(wrong)} surest shown" if len(wrong) < card["wrong_count"] else "")
                + ". Do they have something in common?")
    gallery = charts.gallery_image(held_images[index] / 255.0, labels, predicted, sure, names,
                                   tile=share.scaled(64), cols=min(10, len(wrong)))
    st_image.show(gallery, width=gallery.width, caption="Each with the network's answer (red) and, below, the true class.",
                  alt=describe.gallery(labels, predicted, sure, names, "Held-out pictures answered wrong"))


def comparison(runs: list) -> None:
    """Scratch against transfer on the same pictures and split, when both have been run."""
    own = [r for r in runs if r.settings.dataset == OWN and r.card is not None]
    if not own:
        return
    latest = own[-1]
    digests = st.session_state.get(DIGESTS_KEY, {})
    same_split = lambda r: (digests.get(r.id), r.settings.held_out, r.settings.seed)   # noqa: E731
    same = [r for r in own if digests.get(r.id) is not None and same_split(r) == same_split(latest)]
    best = {}
    for r in same:
        best[bool(r.settings.transfer)] = r
    if len(best) < 2:
        other = "from scratch" if latest.settings.transfer else "by transfer"
        st.caption(f"To compare, train again {other} (section 2) with the same pictures and seed: both "
                   "are then tested on the same held-out pictures.")
        return
    st.markdown("**From scratch against transfer, on the same held-out pictures**")
    rows = []
    for transfer in (False, True):
        r = best[transfer]
        m = np.asarray(r.card["confusion_matrix"])
        rows.append({"way": WAYS[transfer].split(":")[0], "run": r.id,
                     "held-out accuracy": formats.percent(r.card["test_accuracy"]),
                     "right": f"{int(np.trace(m))} of {int(m.sum())}",
                     "training time": f"{r.card['training_seconds']:.0f} s"})
    st.table(rows)


def for_explorer(run, card: dict) -> dict:
    """The card the network explorer gets for a run on own pictures, its held-out pictures kept
    in this session as the explorer's test set. The class names come as plain text: the
    explorer writes them into Markdown (a name with Markdown characters shows them escaped)."""
    images, labels = held_out(run)
    names = [plain(n) for n in card["class_names"]]
    st.session_state[HELD_OUT_KEY] = data.TestImages(
        full=True, description=f"Your own pictures: the {len(labels)} held out from training (run {run.id})",
        class_names=names, x_test=images, y_test=labels)
    return {**card, "class_names": names}


def explorer_test_set():
    """The held-out pictures of the run opened in the explorer (its test set), or None."""
    found = st.session_state.get(HELD_OUT_KEY)
    if found is None:
        st.caption("The pictures this network was tested on are gone with the session that trained it.")
    return found


def data_title(dataset: str | None) -> str:
    return TITLE.lower() if is_own(dataset) else data.TABLE[dataset].title if dataset in data.TABLE else "its"


def explorer_note(card: dict) -> None:
    """Under the explorer's network choice, for a network trained on own pictures."""
    if not is_own(card.get("dataset")):
        return
    st.caption(f"Your classes: {', '.join(f'‘{n}’' for n in card['class_names'])}. Its test set below is "
               f"your {card['test_samples']} held-out pictures. Hold something up to the sidebar's "
               "**Camera** or **Draw** it to see its answer and why.")
