"""The network explorer page (/network) driven by streamlit.testing.v1.AppTest."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from streamlit.testing.v1 import AppTest

from shown_charts import chart_traces

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = "cnnviz/ui/pages/network.py"


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def at() -> AppTest:
    return open_page()


def by_key(widgets, key):
    """The widget with this key (or key + ":..." for widgets whose key follows their labels)."""
    found = [w for w in widgets if w.key == key or (w.key or "").startswith(key + ":")]
    assert found, f"no widget with key {key!r}"
    return found[0]


def layer_heading(at) -> str:
    return [s.value for s in at.subheader if "·" in s.value][0]


def layer_name(text: str) -> str:
    """'3 · relu1 — Activation, ...' -> 'relu1' (layer option labels and headings)."""
    return text.split(" · ")[1].split(" — ")[0]


def prediction(at) -> str:
    texts = [s.value for s in at.header if s.value.startswith("Prediction:")]
    assert len(texts) == 1, [s.value for s in at.header]
    return texts[0]


def test_page_loads_and_shows_the_networks_own_prediction(at):
    """The default sample, a 3 from MNIST's test set, is recognised as 3 with the probability the
    saved model itself gives it, and the bar chart holds the model's ten probabilities."""
    from cnnviz import models, samples
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value.endswith("Network explorer")
    assert by_key(at.selectbox, "net_layer").value == "conv1"
    assert by_key(at.selectbox, "net_model").value == "mnist"
    pic = samples.load_sample(samples.DEFAULT_SAMPLE)
    assert samples.SAMPLES[samples.DEFAULT_SAMPLE].label == "3"
    probs = np.asarray(models.load_pretrained("mnist")(pic.pixels[None, :, :, None], training=False))[0]
    assert int(probs.argmax()) == 3
    assert prediction(at) == f"Prediction: 3 ({100 * probs[3]:.1f}%)"
    shown = chart_traces(at, "net_probs")[0]
    assert shown["x"] == models.PRETRAINED["mnist"]["class_names"]
    np.testing.assert_allclose(shown["y"], probs, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_step_through_every_layer_and_back(at):
    layers = [layer_name(o) for o in by_key(at.selectbox, "net_layer").options]
    by_key(at.selectbox, "net_layer").set_value(layers[0]).run()
    assert by_key(at.button, "net_prev").disabled
    seen = [layer_heading(at)]
    for _ in range(len(layers) - 1):
        by_key(at.button, "net_next").click().run()
        assert not at.exception, (seen[-1], at.exception)
        seen.append(layer_heading(at))
    assert by_key(at.button, "net_next").disabled
    assert [layer_name(h) for h in seen] == layers
    for _ in range(len(layers) - 1):
        by_key(at.button, "net_prev").click().run()
        assert not at.exception
    assert by_key(at.selectbox, "net_layer").value == layers[0]
    prediction(at)


def test_layer_views_and_their_controls(at):
    by_key(at.selectbox, "net_layer").set_value("relu2").run()
    by_key(at.radio, "net_scale").set_value("map").run()
    by_key(at.slider, "net_channel").set_value(5).run()
    assert not at.exception
    assert by_key(at.slider, "net_channel").value == 5
    assert any("channel 5" in str(p.proto) for p in at.get("plotly_chart"))
    by_key(at.selectbox, "net_layer").set_value("bn1").run()
    assert any("Check at row" in m.value for m in at.markdown)
    by_key(at.selectbox, "net_layer").set_value("pool1").run()
    assert any("pool2d" in c.value for c in at.caption)
    by_key(at.selectbox, "net_layer").set_value("dropout1").run()
    by_key(at.toggle, "net_dropout_show").set_value(True).run()
    assert not at.exception
    assert any("1 / (1 − 0.3)" in m.value for m in at.markdown)
    by_key(at.selectbox, "net_layer").set_value("logits").run()
    assert any("bias" in c.value for c in at.caption)
    by_key(at.selectbox, "net_layer").set_value("softmax").run()
    assert any("Prediction:" in m.value for m in at.markdown)
    assert not at.exception


def test_why_this_prediction_controls(at):
    from cnnviz import models
    cls = by_key(at.selectbox, "net_why_class")
    other = (cls.value + 1) % len(cls.options)
    cls.set_value(other).run()
    by_key(at.toggle, "net_smooth").set_value(True).run()
    by_key(at.slider, "net_smooth_n").set_value(15).run()
    cam = by_key(at.selectbox, "net_cam_layer")
    cam.set_value(cam.options[0]).run()
    grad = by_key(at.selectbox, "net_grad_layer")
    grad.set_value("dense1").run()
    assert not at.exception
    # The saliency picture is drawn for the chosen class with the chosen number of noisy copies.
    captions = [img.caption for element in at.get("image") for img in element.proto.imgs]
    name = models.PRETRAINED["mnist"]["class_names"][other]
    assert any(c.startswith("Saliency (SmoothGrad, 15 copies)") and f"“{name}” score" in c
               for c in captions), captions


@pytest.mark.slow
def test_each_model_is_selectable():
    at = open_page()
    names = by_key(at.selectbox, "net_model").options
    for name in names:
        by_key(at.selectbox, "net_model").set_value(name).run()
        assert not at.exception, (name, at.exception)
        prediction(at)
        by_key(at.button, "net_next").click().run()
        assert not at.exception


@pytest.mark.parametrize("pixels", [
    np.random.default_rng(0).random((40, 60, 3)).astype(np.float32),   # colour photo
    np.zeros((1, 1), np.float32),                                       # one black pixel
    np.ones((3, 500), np.float32),                                      # a blank white strip
    np.eye(64, dtype=np.float32),                                       # a thin diagonal line
], ids=["photo", "one-pixel", "blank-strip", "diagonal"])
@pytest.mark.slow
def test_odd_pictures_go_to_every_model(pixels):
    from cnnviz import images
    from cnnviz.ui import widgets
    at = open_page()
    at.session_state[widgets.PICTURE_KEY] = images.Picture(pixels, "upload: odd.png")
    at.run()
    for name in by_key(at.selectbox, "net_model").options:
        by_key(at.selectbox, "net_model").set_value(name).run()
        assert not at.exception, (name, at.exception)
        prediction(at)


# --------------------------------------------------------------------------- figure builders

def test_mosaic_layout_scales_and_highlight():
    from cnnviz.ui import figures
    rng = np.random.default_rng(0)
    maps = rng.random((7, 7, 12)).astype(np.float32)
    maps[..., 3] *= 0.01                                   # a faint map
    img = figures.mosaic(maps, scale="layer", labels=False, gap=2, width=400)
    rows, cols = figures.mosaic_layout(12)
    assert rows * cols >= 12 and img.size[0] <= 400
    per_map = np.asarray(figures.mosaic(maps, scale="map", labels=False, gap=2, width=400))
    per_layer = np.asarray(img)
    f = (per_layer.shape[1] - 2 * (cols + 1)) // (cols * 7)
    r, q = divmod(3, cols)
    y, x = 2 + r * (7 * f + 2), 2 + q * (7 * f + 2)
    tile_layer = per_layer[y:y + 7 * f, x:x + 7 * f]
    tile_map = per_map[y:y + 7 * f, x:x + 7 * f]
    assert tile_layer.std() < tile_map.std()               # own scale brings the faint map out
    signed = figures.mosaic(maps - 0.5, labels=False)      # negatives: blue-white-red
    assert signed.size == figures.mosaic(maps, labels=False).size
    framed = np.asarray(figures.mosaic(maps, highlight=0, labels=False, gap=3, width=400))
    assert (framed[..., 0] == 255).any() and ((framed == [255, 140, 0]).all(axis=-1)).any()
    with pytest.raises(ValueError):
        figures.mosaic(maps, scale="nope")


def test_the_channel_chart_shows_the_layers_own_numbers(at):
    """The heatmap of a chosen channel holds what Keras computes for that layer on this input,
    and its caption summarises the same numbers."""
    import keras

    from cnnviz import models, samples
    by_key(at.selectbox, "net_layer").set_value("relu2").run()
    by_key(at.radio, "net_scale").set_value("map").run()
    by_key(at.slider, "net_channel").set_value(5).run()
    assert not at.exception, at.exception
    model = models.load_pretrained("mnist")
    x = samples.load_sample(samples.DEFAULT_SAMPLE).pixels[None, :, :, None]
    expected = np.asarray(keras.Model(model.inputs, model.get_layer("relu2").output)([x]))[0, ..., 5]
    heat = chart_traces(at, "net_map_heat")[0]
    np.testing.assert_allclose(np.array(heat["z"], np.float32), expected, rtol=1e-4, atol=1e-5)
    assert any(c.value.startswith(f"min {expected.min():.3f} · max {expected.max():.3f} · ")
               for c in at.caption)


def test_rgb_filter_mosaic():
    from cnnviz.ui import figures
    k = np.zeros((3, 3, 3, 5), np.float32)
    k[:, :, 0, 2] = 1.0                                    # filter 2 wants red
    img = np.asarray(figures.rgb_filter_mosaic(k, width=300, gap=2))
    rows, cols = figures.mosaic_layout(5)
    f = (300 - 2 * (cols + 1)) // (cols * 3)
    x = 2 + 2 * (3 * f + 2)
    centre = img[2 + f, x + f]
    assert centre[0] == 255 and centre[1] == centre[2] == 128
    assert tuple(img[2 + f, 2 + f]) == (128, 128, 128)    # an all-zero filter is grey
    with pytest.raises(ValueError):
        figures.rgb_filter_mosaic(k[:, :, :2])


def test_overlay_and_picture_images():
    from cnnviz.ui import figures
    x = np.zeros((28, 28, 1), np.float32)
    heat = np.zeros((28, 28), np.float32)
    heat[10, 10] = 1
    img = np.asarray(figures.overlay_heat(x, heat, 0.5, 280))
    assert img.shape == (280, 280, 3)
    assert img[105, 105].sum() > img[0, 0].sum()
    assert figures.picture_image(np.random.default_rng(0).random((32, 32, 3)), 128).size == (128, 128)
    with pytest.raises(ValueError):
        figures.overlay_heat(x, heat[:5], 0.5)


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist", "cifar10"])
def test_a_dataset_sample_picks_its_model_and_is_recognised(dataset):
    """Choosing a sample in the sidebar pre-selects the network trained on its dataset, which
    then recognises every sample of that dataset (they come from the test sets)."""
    from cnnviz import samples
    from cnnviz.ui import widgets
    names = [k for k, s in samples.SAMPLES.items() if s.dataset == dataset]
    assert len(names) >= 6
    at = open_page()
    wrong = []
    for name in names:
        by_key(at.selectbox, widgets.SAMPLE_KEY).set_value(name).run()
        assert not at.exception
        assert by_key(at.selectbox, "net_model").value == dataset
        said = prediction(at).removeprefix("Prediction: ").rsplit(" (", 1)[0]
        if said.lower() != samples.SAMPLES[name].label.lower():
            wrong.append((name, said))
    assert len(wrong) <= len(names) // 6, wrong


@pytest.mark.slow
def test_colour_network_layers_and_explanations():
    from cnnviz.ui import widgets
    at = open_page()
    by_key(at.selectbox, widgets.SAMPLE_KEY).set_value("cifar-cat").run()
    assert by_key(at.selectbox, "net_model").value == "cifar10"
    prediction(at)
    layers = [layer_name(o) for o in by_key(at.selectbox, "net_layer").options]
    assert "conv6" in layers and "pool3" in layers
    for name in ("image", "conv1", "bn1", "relu1", "pool1", "conv6", "pool3", "flatten", "logits"):
        by_key(at.selectbox, "net_layer").set_value(name).run()
        assert not at.exception, (name, at.exception)
    by_key(at.selectbox, "net_grad_layer").set_value("conv1").run()
    by_key(at.toggle, "net_smooth").set_value(False).run()
    assert not at.exception


def test_streamlit_no_longer_empties_tensorflows_kernel_cache(at):
    """Streamlit's runner called keras.backend.clear_session() after every run (it cost 50-300 ms
    on the next model call); model_cache swaps the runner's cleanup for one without that step,
    and leaves Keras's own clear_session untouched for everyone else."""
    import keras
    import keras.src.backend.common.global_state as global_state
    from streamlit.runtime.scriptrunner import script_runner

    from cnnviz.ui import model_cache  # noqa: F401  (swaps the runner's cleanup)
    assert keras.backend.clear_session.__module__.startswith("keras")     # Keras is not patched
    before = global_state.GLOBAL_STATE_TRACKER
    at.run()                                                # a whole script run, cleanup included
    script_runner._clean_problem_modules()                  # and the runner's cleanup on its own
    assert global_state.GLOBAL_STATE_TRACKER is before
    keras.backend.clear_session(free_memory=False)          # from anywhere else: done
    assert global_state.GLOBAL_STATE_TRACKER is not before


@pytest.mark.slow
def test_layer_choice_follows_to_another_network_with_fresh_labels():
    at = open_page()
    by_key(at.selectbox, "net_layer").set_value("relu3").run()
    by_key(at.selectbox, "net_model").set_value("cifar10").run()
    layer = by_key(at.selectbox, "net_layer")
    assert layer.value == "relu3"
    assert "10 · relu3 — Activation, 16 × 16 × 64" in layer.options
    assert layer_heading(at).startswith("10 · relu3")
    cls = by_key(at.selectbox, "net_why_class")
    assert "— predicted" in cls.options[cls.value]
    assert by_key(at.selectbox, "net_cam_layer").value == "relu6"   # the last conv block


# --------------------------------------------------------------------------- the test set as evidence

@pytest.mark.slow
def test_test_set_evidence_equals_the_model_card(monkeypatch, data_dir):
    from cnnviz import models
    monkeypatch.setenv("CNNVIZ_DATA", str(data_dir))
    at = open_page()
    name = at.session_state["net_model"]
    card = models.PRETRAINED[name]
    by_key(at.button, "net_evidence_go").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test images"] == f"{card['test_samples']:,}"
    assert metrics["Test accuracy"] == f"{100 * card['test_accuracy']:.1f}%"
    # The commonest mistake is shown first, with its count from the card's confusion matrix.
    m = np.array(card["confusion_matrix"])
    off = m - np.diag(np.diag(m))
    r, c = divmod(int(off.argmax()), len(m))
    names = card["class_names"]
    assert any(md.value.startswith(f"**{names[r]} taken for {names[c]}**: {m[r, c]:,} test images")
               for md in at.markdown)


def test_a_click_on_the_confusion_picture_picks_its_cell():
    from cnnviz.ui import evidence_view
    from cnnviz.ui.figures import training
    img, (left, top, cell) = training.confusion_picture(np.eye(10, dtype=int) * 5, [str(i) for i in range(10)])
    state = {}
    import streamlit as st
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(st, "session_state", state)
        # a click on the middle of row 3, column 7, on a picture shown at half its size
        point = {"x": (left + 7.5 * cell) / 2, "y": (top + 3.5 * cell) / 2, "width": img.size[0] / 2}
        evidence_view._cell_from_click(point, img.size, (left, top, cell), 10, "k")
        assert state["k"] == (3, 7)
        evidence_view._cell_from_click({"x": 1, "y": 1, "width": img.size[0]}, img.size, (left, top, cell), 10, "j")
        assert "j" not in state   # the labels are not a cell
