"""AppTest for /train: the layer editor against Keras, the code it shows, a real training run
in a worker process, and the trained network opened in the network explorer."""
from __future__ import annotations

import pathlib
import time

import keras
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import architectures, builder

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = "cnnviz/ui/pages/train.py"


def open_train(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update(query)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.stack_trace for e in at.exception]
    return at


def keyed(elements, suffix: str):
    """The widget whose key ends with suffix (layer widgets are keyed tl_<id>_<field>)."""
    return [e for e in elements if e.key and e.key.endswith(suffix)]


def summary_rows(at: AppTest) -> list[list[str]]:
    text = next(m.value for m in at.markdown if m.value.startswith("| Layer (type) |"))
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()[2:]]


def test_default_network_summary_and_code_are_keras_own():
    at = open_train()
    assert not at.error
    rows = summary_rows(at)
    model = builder.build(architectures.PRESETS["tiny"], (28, 28, 1), 10)
    assert [r[0] for r in rows[:-1]] == [f"{layer.name} ({type(layer).__name__})" for layer in model.layers]
    assert [r[1] for r in rows[:-1]] == [str((None, *layer.output.shape[1:])) for layer in model.layers]
    assert rows[-1][2] == f"**{model.count_params():,}**"
    code = at.code[0].value
    scope: dict = {}
    exec(code, scope)   # the code shown builds the same network
    shown = scope["model"]
    assert shown.count_params() == model.count_params()
    assert [type(x).__name__ for x in shown.layers] == [type(x).__name__ for x in model.layers]
    keras.backend.clear_session()


def test_editing_a_layer_changes_shapes_and_a_bad_order_keeps_the_last_valid_network():
    at = open_train()
    keyed(at.number_input, "_kernel_size")[0].set_value(5).run()
    assert summary_rows(at)[0][1] == "(None, 24, 24, 16)"
    # Move Flatten above the last pooling layer: pooling a flat vector is refused, beside that layer.
    up = [b for b in at.button if b.key and b.key.startswith("tl_up_")]
    up[-1].click().run()
    assert len(at.error) == 1 and at.error[0].value.startswith("Layer 5 (MaxPooling2D)")
    assert "move it before Flatten" in at.error[0].value
    assert any("last network that worked" in w.value for w in at.warning)
    assert summary_rows(at)[0][1] == "(None, 24, 24, 16)"   # the last valid network is still shown
    assert not at.button(key="train_start").disabled         # and it can still be trained


@pytest.mark.slow
def test_presets_add_and_remove():
    at = open_train()
    at.selectbox(key="train_preset").set_value("lenet5").run()
    rows = summary_rows(at)
    assert rows[-1][2] == f"**{builder.validate(architectures.PRESETS['lenet5'], (28, 28, 1), 10).total_params:,}**"
    n = len(rows) - 1
    at.selectbox(key="train_add_kind").set_value("Dropout").run()
    at.button(key="tl_add").click().run()
    assert len(summary_rows(at)) - 1 == n + 1
    dels = [b for b in at.button if b.key and b.key.startswith("tl_del_")]
    dels[0].click().run()
    assert len(summary_rows(at)) - 1 == n


@pytest.mark.slow
def test_bad_link_values_fall_back_with_one_line():
    at = open_train(lr="fast", epochs="999", data="imagenet")
    assert any("Some settings in this link could not be used" in w.value for w in at.warning)
    assert at.session_state["train_lr"] == 3e-3 and at.session_state["train_epochs"] == 2
    assert not at.exception


@pytest.mark.slow
def test_a_link_carries_the_network_and_a_bad_one_says_why():
    at = open_train(net="C~f8~k5~arelu_M~k3_F_U~u20~atanh", lr="0.01")
    rows = summary_rows(at)
    assert [r[1] for r in rows] == ["(None, 24, 24, 8)", "(None, 8, 8, 8)", "(None, 512)", "(None, 20)",
                                    "(None, 10)", ""]
    assert at.session_state["train_lr"] == 0.01 and not at.warning
    edited = open_train()
    keyed(edited.number_input, "_filters")[0].set_value(4).run()
    assert edited.query_params["net"] == "C~f4~arelu_M_C~arelu_M_F"   # edits go into the address
    for bad, why in (("C~f8_Q", "unknown code"), ("C~f8_D_U~u4", "feature map")):
        at = open_train(net=bad)
        lines = [w.value for w in at.warning]
        assert len(lines) == 1 and why in lines[0], lines
        assert summary_rows(at)[-1][2] == "**12,810**"           # the default network instead


@pytest.mark.slow
def test_train_on_the_page_then_open_it_in_the_network_explorer(monkeypatch, data_dir):
    from cnnviz.ui import training_service
    monkeypatch.setenv("CNNVIZ_TRAIN_STEPS", "30")
    monkeypatch.setenv("CNNVIZ_DATA", str(data_dir))
    training_service.trainer.clear()
    at = open_train()
    at.button(key="train_start").click().run()
    assert not at.error, [e.value for e in at.error]
    end = time.monotonic() + 180
    while time.monotonic() < end and not any(m.label == "Test accuracy" for m in at.metric):
        time.sleep(1.0)
        at.run()
    assert not at.exception, [e.stack_trace for e in at.exception]
    accuracy = next(m for m in at.metric if m.label == "Test accuracy")
    # The page shows what the saved model scores on MNIST's whole test set.
    import numpy as np

    from cnnviz import data, model_cards
    trainer = training_service.trainer()
    with trainer._lock:
        model_file = next(iter(trainer._jobs.values())).run.model_file
    _, (x_test, y_test), _ = data.load_dataset("mnist", data_dir)
    model = keras.models.load_model(model_file, compile=False)
    probs = model.predict(model_cards.to_model_input(x_test), batch_size=1000, verbose=0)
    expected = 100 * np.mean(probs.argmax(axis=1) == y_test)
    assert accuracy.value.endswith("%") and abs(float(accuracy.value[:-1]) - expected) <= 0.05 + 1e-6
    assert any("Stopped at this server's limit of 30 steps" in i.value for i in at.info)
    assert at.button(key="train_start").disabled is False
    at.button(key="train_explore").click().run()
    assert not at.exception, [e.stack_trace for e in at.exception]
    assert any("The network you trained on /train" in c.value for c in at.caption)
    assert at.toggle(key="net_use_trained").value is True
    training_service.trainer().close()
    training_service.trainer.clear()
