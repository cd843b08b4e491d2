"""/network names the score its "why" pictures explain: the logit, the input of the softmax, for
the shipped networks and for a person's own Sequential model that ends in Dense(n, softmax)."""
from __future__ import annotations

import pathlib

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import settings
from cnnviz.ui import own_model

keras = pytest.importorskip("keras")

ROOT = pathlib.Path(__file__).resolve().parents[2]


def explained(at) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith("Every map here explains")]


def open_network(monkeypatch, mode: str) -> AppTest:
    monkeypatch.setenv(settings.ENV, mode)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("cnnviz/ui/pages/network.py")
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_the_page_names_the_logit_of_the_chosen_class(monkeypatch, tmp_path):
    at = open_network(monkeypatch, "local")
    assert explained(at) == ["Every map here explains the logit of “3”: the input of the softmax "
                             "(“logits”)."]

    layers = keras.layers
    mine = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, activation="relu"),
                             layers.Flatten(), layers.Dense(5, activation="softmax", name="out")],
                            name="mine")
    mine.save(tmp_path / "mine.keras")
    at.file_uploader(key=own_model.UPLOADER_KEY).set_value(
        ("mine.keras", (tmp_path / "mine.keras").read_bytes(), "application/octet-stream"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    [text] = explained(at)
    assert text.startswith("Every map here explains the logit of “class ")
    assert text.endswith(": the input of the softmax (“out” before its softmax).")
