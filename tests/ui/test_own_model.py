"""cnnviz.ui.own_model.own_model_picker driven by streamlit.testing.v1.AppTest, in both modes."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import settings
from cnnviz.ui import own_model

keras = pytest.importorskip("keras")

SCRIPT = """
import streamlit as st
from cnnviz.ui.own_model import own_model_picker

own = own_model_picker()
st.text("model: none" if own is None else f"model: {own.name} · {own.probe.input_shape} · "
        f"{len(own.card['class_names'])} classes")
"""


@pytest.fixture(scope="module")
def model_files_bytes(tmp_path_factory) -> dict[str, bytes]:
    tmp = tmp_path_factory.mktemp("own_model")
    layers = keras.layers
    good = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, activation="relu"),
                             layers.MaxPooling2D(), layers.Flatten(),
                             layers.Dense(10, activation="softmax")], name="mine")
    bad = keras.Sequential([keras.Input((28, 28, 1)), layers.Lambda(lambda t: t, name="lambda"),
                            layers.Flatten(), layers.Dense(10)])
    out = {}
    for name, model in (("good", good), ("bad", bad)):
        path = tmp / f"{name}.keras"
        model.save(path)
        out[name] = path.read_bytes()
    return out


def run_app(monkeypatch, mode: str | None) -> AppTest:
    if mode is None:
        monkeypatch.delenv(settings.ENV, raising=False)
    else:
        monkeypatch.setenv(settings.ENV, mode)
    at = AppTest.from_string(SCRIPT, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def shown_model(at) -> str:
    return at.text[0].value


def test_public_mode_offers_no_model_upload(monkeypatch):
    at = run_app(monkeypatch, None)
    assert len(at.file_uploader) == 0
    assert shown_model(at) == "model: none"
    assert [c.value for c in at.caption] == [own_model.PUBLIC_CAPTION]
    assert not at.error


def test_an_unknown_mode_shows_one_clear_line(monkeypatch):
    at = run_app(monkeypatch, "cloud")
    assert len(at.file_uploader) == 0
    assert len(at.error) == 1 and "CNNVIZ_MODE=local" in at.error[0].value.replace("\\", "")
    assert shown_model(at) == "model: none"


def test_local_mode_opens_a_model_refuses_a_lambda_and_keeps_the_one_before(monkeypatch,
                                                                           model_files_bytes):
    at = run_app(monkeypatch, "local")
    uploader = at.file_uploader(key=own_model.UPLOADER_KEY)
    assert uploader.allowed_type in ([".keras"], ["keras"])
    assert "reads the file as plain data" in at.caption[0].value
    assert shown_model(at) == "model: none"

    uploader.set_value(("my cnn.keras", model_files_bytes["good"], "application/octet-stream"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert shown_model(at) == "model: own:my_cnn · (28, 28, 1) · 10 classes"
    loaded = at.session_state[own_model.STATE_KEY]["loaded"]
    assert loaded.model.layers[0].name == "input" and loaded.card["own"]

    at.file_uploader(key=own_model.UPLOADER_KEY).set_value(
        ("lambda.keras", model_files_bytes["bad"], "application/octet-stream"))
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value.replace("\\", "")
    assert message.startswith("Your model was not opened: layer 'lambda' is a Lambda layer"), message
    assert message.endswith("The model opened before is still used.")
    assert shown_model(at) == "model: own:my_cnn · (28, 28, 1) · 10 classes"

    at.run()   # a rerun does not check the refused file again, and still says why
    assert len(at.error) == 1 and shown_model(at).startswith("model: own:my_cnn")

    at.file_uploader(key=own_model.UPLOADER_KEY).set_value(None)
    at.run()
    assert not at.error and shown_model(at) == "model: none"


def test_local_mode_refuses_a_file_that_is_not_a_model(monkeypatch):
    at = run_app(monkeypatch, "local")
    at.file_uploader(key=own_model.UPLOADER_KEY).set_value(("notes.keras", b"just some text\n" * 5,
                                                            "application/octet-stream"))
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    assert "not a .keras model file: it looks like a text file" in at.error[0].value
    assert shown_model(at) == "model: none"
