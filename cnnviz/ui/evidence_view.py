"""The network explorer's test-set section: per-class accuracy, the confusion matrix to click,
the most confident mistakes, right and wrong answers per class (cnnviz.evidence computes them)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import data, describe, evidence, images, model_cards
from cnnviz.ui import accessible, figures, formats, own_pictures_training, share, st_image
from cnnviz.ui.clickable_picture import Cells, clickable_picture
from cnnviz.ui.figures import training as charts

GALLERY = 16


def test_set(dataset: str):
    """The dataset's images for judging a network (full set or starter subset), or None with one
    line saying why there are none."""
    try:
        return data.load_test_images(dataset)
    except data.DataError as e:
        st.info(f"No test images to show: {e}")
        return None


def test_set_for(loaded):
    """test_set of the network's dataset, or None with one line saying why there is none: its
    card names no dataset, or the network takes pictures of another shape than the dataset's."""
    dataset = loaded.card.get("dataset")
    if own_pictures_training.is_own(dataset):
        return own_pictures_training.explorer_test_set()
    if not dataset:
        st.caption("This model's file does not say which data it learned from, so there is no test "
                   "set to judge it on.")
        return None
    shape = data.IMAGE_SHAPES.get(dataset)
    wanted = tuple(loaded.probe.input_shape)
    if shape is not None and (shape if len(shape) == 3 else (*shape, 1)) != wanted:
        st.caption(f"This network takes {images.shape_text(wanted)} pictures and the "
                   f"{data.TABLE[dataset].title} test images are {images.shape_text(shape)}, so they "
                   "cannot judge it.")
        return None
    return test_set(dataset)


def _gallery(results, found, indices, caption: str, key: str) -> None:
    if len(indices) == 0:
        st.caption("None.")
        return
    idx = np.asarray(indices)[:GALLERY]
    pictures = model_cards.to_model_input(found.x_test[idx])
    st_image.show(charts.gallery_image(pictures, results.labels[idx], results.predictions[idx],
                                       results.confidence[idx], results.class_names, tile=share.scaled(64)),
                  caption=caption, alt=describe.gallery(results.labels[idx], results.predictions[idx],
                                                        results.confidence[idx], results.class_names))


def _cell_from_click(point: dict, size: tuple[int, int], geometry, k: int, key: str) -> None:
    left, top, cell = geometry
    scale = size[0] / point["width"]
    col, row = int((point["x"] * scale - left) // cell), int((point["y"] * scale - top) // cell)
    if 0 <= row < k and 0 <= col < k:
        st.session_state[key] = (row, col)


def confusion_section(results, found, model_name: str) -> None:
    names = results.class_names
    k = len(names)
    key = f"net_cell:{model_name}"
    worst = int(np.argmax(results.confusion - np.diag(np.diag(results.confusion))))
    selected = st.session_state.get(key) or divmod(worst, k)   # the commonest mistake first
    left, right = st.columns([1.2, 1], gap="large")
    with left:
        st.markdown("**Confusion matrix**: rows are the true class, columns the network's answer. "
                    "Click a cell to see those test images.")
        img, geometry = charts.confusion_picture(results.confusion, names, selected=selected,
                                                 cell=share.scaled(50))
        left_px, top_px, cell = geometry
        keys = Cells(k, k, *selected, *img.size, top=top_px, left=left_px, pitch_y=cell, pitch_x=cell,
                     box_h=cell, box_w=cell, name="cell", row_word="true class", col_word="answer",
                     row_names=tuple(map(str, names)), col_names=tuple(map(str, names)))
        clickable_picture(img, f"net_confusion:{model_name}",
                          lambda point: _cell_from_click(point, img.size, geometry, k, key),
                          smooth=False, alt=describe.confusion(results.confusion, names)
                          + f" Selected: {names[selected[0]]} answered {names[selected[1]]}.", cells=keys)
        accessible.as_numbers(results.confusion, "Confusion matrix (rows: true class, columns: answer)",
                              [str(n) for n in names], [str(n) for n in names], corner="true \\ answer")
    with right:
        r, c = selected
        cell = evidence.cell_examples(results, r, c, limit=GALLERY)
        what = (f"{names[r]} answered right" if r == c else f"{names[r]} taken for {names[c]}")
        st.markdown(f"**{what}**: {int(results.confusion[r, c]):,} test images"
                    + (", the surest first" if len(cell) else ""))
        _gallery(results, found, cell, "Green: right; red: wrong (the true class below); the network's "
                 "confidence under each.", key)


def per_class_section(results, found, model_name: str) -> None:
    names = results.class_names
    acc = results.per_class_accuracy
    st.plotly_chart(figures.vector_bars(acc, "", labels=names, height=230, highlight=int(np.argmin(acc)),
                                        hover="%{x}: %{y:.1%} right<extra></extra>"),
                    config=share.plotly_config("cnnviz-per-class"), key=f"net_per_class:{model_name}",
                    alt=describe.bars(acc, names, "Share of test images answered right, per class"))
    accessible.as_numbers(np.asarray(acc)[None, :], "Share answered right per class", ["share right"], names,
                          corner="class")
    mistakes, per_class = st.tabs(["The surest mistakes", "One class: right and wrong"])
    with mistakes:
        _gallery(results, found, evidence.confident_mistakes(results, limit=GALLERY),
                 "The wrong answers the network was surest of. Some test labels are debatable too.",
                 "mistakes")
    with per_class:
        cls = st.selectbox("Class", list(range(len(names))), format_func=names.__getitem__,
                           key=f"net_evidence_class:{model_name}")
        a, b = st.columns(2, gap="large")
        with a:
            st.markdown(f"**Right**: {formats.percent(acc[cls])} of the {names[cls]} images")
            _gallery(results, found, evidence.examples_per_class(results, cls, right=True, limit=8),
                     "The surest right answers.", "right")
        with b:
            st.markdown("**Wrong**")
            _gallery(results, found, evidence.examples_per_class(results, cls, right=False, limit=8),
                     "The surest wrong answers.", "wrong")


def test_set_evidence(loaded) -> None:
    """The section's body for a loaded network (pretrained, or trained in this session)."""
    card = loaded.card
    found = test_set_for(loaded)
    if found is None:
        return
    n = len(found.y_test)
    run_key = f"net_evidence_on:{loaded.name}"
    st.caption(f"{found.description.rstrip('.')}. The network answers all {n:,} test images once "
               "(computed once per server and kept).")
    if not st.session_state.get(run_key):
        st.button(f"Run the network on the {n:,} test images", key=f"net_evidence_go:{loaded.name}",
                  icon=":material/fact_check:",
                  on_click=lambda: st.session_state.__setitem__(run_key, True))
        return
    with st.spinner(f"Running the network on {n:,} test images…"):
        results = evidence.test_results(loaded.model, found.x_test, found.y_test, card["class_names"])
    cols = st.columns(3)
    cols[0].metric("Test accuracy", formats.percent(results.accuracy),
                   help="Computed here by Keras on these images.")
    cols[1].metric("Test images", f"{results.n:,}")
    hardest = int(np.argmin(results.per_class_accuracy))
    cols[2].metric("Hardest class", f"{results.class_names[hardest]}: "
                   f"{formats.percent(results.per_class_accuracy[hardest])}",
                   help="The class the network gets right least often.")
    per_class_section(results, found, loaded.name)
    confusion_section(results, found, loaded.name)
