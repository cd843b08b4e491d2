"""Your own model of any supported input size, opened the way the app opens one (local mode, a
real .keras file through the uploader), through every section of /network: no exception, no
error line, and where a setting was scaled to the model the page says so."""
from __future__ import annotations

import pathlib

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import settings
from cnnviz.ui import own_model

keras = pytest.importorskip("keras")

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = "cnnviz/ui/pages/network.py"
SCALED = "Square and step scaled to this"


def small_cnn(shape: tuple[int, ...], functional: bool):
    """Conv -> batch norm -> ReLU -> pool -> conv -> ReLU -> dropout -> flatten -> class scores: a
    keras.Sequential ending in Dense-softmax, or a functional model ending in a Softmax layer."""
    layers = keras.layers
    stack = [layers.Conv2D(4, 3, padding="same", name="conv1"), layers.BatchNormalization(name="bn1"),
             layers.ReLU(name="relu1"), layers.MaxPooling2D(name="pool1"),
             layers.Conv2D(6, 3, padding="same", activation="relu", name="conv2"),
             layers.Dropout(0.25, name="drop"), layers.Flatten(name="flatten")]
    if not functional:
        return keras.Sequential([keras.Input(shape), *stack, layers.Dense(3, activation="softmax")],
                                name="seq")
    x = inputs = keras.Input(shape)
    for layer in [*stack, layers.Dense(3, name="logits"), layers.Softmax(name="probs")]:
        x = layer(x)
    return keras.Model(inputs, x, name="fn")


SHAPES = [(8, 8, 1), (28, 28, 1), (64, 64, 3), (200, 200, 1), (256, 256, 3)]
CASES = [(shape, functional) for shape in SHAPES for functional in (False, True)]


def by_key(widgets, key):
    found = [w for w in widgets if w.key == key or (w.key or "").startswith(key + ":")]
    assert found, f"no widget with key {key!r}"
    return found[0]


def image_captions(at) -> list[str]:
    return [img.caption for element in at.main.get("image") for img in element.proto.imgs]


def assert_clean(at, where: str) -> None:
    assert not at.exception, (where, [e.value for e in at.exception])
    assert not at.error, (where, [e.value for e in at.error])


@pytest.mark.slow
@pytest.mark.parametrize("shape,functional", CASES,
                         ids=[f"{'x'.join(map(str, s))}-{'functional' if f else 'sequential'}" for s, f in CASES])
def test_own_model_of_any_size_through_every_section(shape, functional, tmp_path, monkeypatch):
    monkeypatch.setenv(settings.ENV, "local")
    path = tmp_path / "mine.keras"
    small_cnn(shape, functional).save(path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page(PAGE)
    at.run()
    at.file_uploader(key=own_model.UPLOADER_KEY).set_value(
        (path.name, path.read_bytes(), "application/octet-stream"))
    at.run()
    assert_clean(at, "opened")
    assert at.session_state[own_model.STATE_KEY]["loaded"].probe.input_shape == shape

    captions = " ".join(c.value for c in at.caption)
    # the squares made for 32 x 32 pictures fit up to 32 x 32 pixels; larger inputs scale them
    assert (SCALED in captions) == (shape[0] * shape[1] > 32 * 32), captions
    assert "there is no test set to judge it on" in captions
    assert any(c.startswith("Occlusion: red where") for c in image_captions(at)), "no occlusion map"

    layers = by_key(at.selectbox, "net_layer").options
    by_key(at.selectbox, "net_layer").set_value(layers[0].split(" · ")[1].split(" — ")[0]).run()
    for _ in range(len(layers) - 1):                     # layer by layer, every layer
        by_key(at.button, "net_next").click().run()
        assert_clean(at, by_key(at.selectbox, "net_layer").value)

    square = at.select_slider(key="net_occ_patch")       # the finest occlusion: most windows
    square.set_value(2).run()
    at.select_slider(key="net_occ_stride").set_value(1).run()
    assert_clean(at, "finest occlusion")

    for layer in by_key(at.selectbox, "net_grad_layer").options:   # the gradient inside
        by_key(at.selectbox, "net_grad_layer").set_value(layer).run()
        assert_clean(at, f"gradient at {layer}")

    by_key(at.button, "net_max_grid_go").click().run()   # what one channel looks for: the grid
    assert_clean(at, "maximise grid")
