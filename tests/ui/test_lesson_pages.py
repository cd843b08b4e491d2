"""AppTest tests for the /activations, /pooling and /conv1d lesson pages, and their figure builders."""
from __future__ import annotations

import pathlib
import subprocess
import sys

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import pooling

from shown_charts import chart_traces

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = "cnnviz/ui/pages/"


def open_page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    at.switch_page(PAGES + f"{name}.py")
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def markdown_with(at: AppTest, text: str) -> str:
    return next(m.value for m in at.markdown if text in m.value)


def md_table(at: AppTest, first_header: str) -> list[dict]:
    """The Markdown table whose first column is `first_header`, as a list of row dicts."""
    text = markdown_with(at, f"| {first_header} |")
    lines = [ln.strip().strip("|").split(" | ") for ln in text.splitlines()]
    head = [h.strip() for h in lines[0]]
    return [dict(zip(head, (c.strip() for c in row))) for row in lines[2:]]


# --------------------------------------------------------------------------- /activations

@pytest.mark.slow
def test_activations_page_loads_and_controls_change_the_output():
    at = open_page("activations")
    table = md_table(at, "function")
    assert [r["function"] for r in table] == ["ReLU", "sigmoid", "tanh", "softplus"]
    assert table[0]["f′(2)"] == "1" and table[1]["f(2)"] == "0.8808"
    assert at.radio(key="act_map_fn").value == "relu"
    zeros_relu = metric(at, "exactly 0 after")
    assert metric(at, "range after").startswith("0 …")

    at.radio(key="act_map_fn").set_value("tanh").run()
    assert not at.exception
    assert metric(at, "exactly 0 after") != zeros_relu

    at.multiselect(key="act_chosen").set_value(["gelu", "leaky_relu"]).run()
    assert [r["function"] for r in md_table(at, "function")] == ["GELU", "leaky ReLU"]

    at.number_input(key="act_x0").set_value(-3.0).run()
    assert "f(-3)" in md_table(at, "function")[0]


@pytest.mark.slow
def test_activations_vanishing_gradient_section_follows_depth():
    at = open_page("activations")
    grads = md_table(at, "activation")
    assert [r["activation"] for r in grads] == ["sigmoid", "tanh", "ReLU", "softplus"]
    first = {r["activation"]: float(r["layer 1 (first)"]) for r in grads}
    assert first["sigmoid"] < 1e-3 * first["ReLU"]          # the vanishing gradient, as computed
    at.slider(key="vg_depth").set_value(5).run()
    assert not at.exception
    assert "layer 5 (last)" in md_table(at, "activation")[0]


@pytest.mark.slow
def test_activations_narrow_range_shows_error_and_keeps_the_rest():
    at = open_page("activations")
    metrics = {m.label: m.value for m in at.metric}
    assert "range after" in " ".join(metrics)
    at.slider(key="act_range").set_value((1.0, 1.0)).run()
    assert not at.exception
    assert any("too narrow" in e.value for e in at.error)
    assert {m.label: m.value for m in at.metric} == metrics   # the other sections: the same numbers


# --------------------------------------------------------------------------- /pooling

def test_pooling_page_loads_and_shows_the_size_formula():
    at = open_page("pooling")
    text = markdown_with(at, "Output size")
    assert "28×28 → 14×14" in text and "⌊(28 − 2) ÷ 2⌋ + 1 = **14**" in text


@pytest.mark.slow
def test_pooling_controls_change_the_output():
    at = open_page("pooling")
    before = markdown_with(at, "of the 4 values")
    assert before.startswith("**max**")
    at.radio(key="pool_mode").set_value("avg").run()
    assert markdown_with(at, "**average** = sum").startswith("**average** = sum")
    at.radio(key="pool_mode").set_value("l2").run()
    assert markdown_with(at, "**L2** = √(sum of squares").startswith("**L2** = √")
    at.checkbox(key="pool_same_stride").uncheck().run()
    at.slider(key="pool_stride").set_value(1).run()
    at.radio(key="pool_padding").set_value("same").run()
    assert not at.exception
    assert "28×28 → 28×28" in markdown_with(at, "Output size")
    # the chosen output row is clamped when the output shrinks
    at.slider(key="pool_size").set_value(4).run()
    at.checkbox(key="pool_same_stride").check().run()
    assert not at.exception
    row = at.slider(key="pool_row")
    assert row.max == 6 and row.value <= 6


@pytest.mark.slow
def test_pooling_window_selection_changes_the_numbers():
    at = open_page("pooling")
    first = markdown_with(at, "of the 4 values")
    window = markdown_with(at, "| **row ")
    assert window.count("★") == 1 and window.count("| **row ") == 2      # a 2×2 window, one winner
    at.slider(key="pool_row").set_value(0).run()
    at.slider(key="pool_col").set_value(0).run()
    assert not at.exception
    assert markdown_with(at, "of the 4 values") != first


@pytest.mark.slow
def test_pooling_translation_and_dropout():
    at = open_page("pooling")
    one_px = metric(at, "map before pooling changed by")
    at.slider(key="pool_shift").set_value(3).run()
    assert metric(at, "map before pooling changed by") != one_px

    # The mask is pooling.dropout_mask of the pooled map at rate 0.5; a new mask, a new seed.
    n = int(metric(at, "units kept").split(" of ")[1])
    assert metric(at, "units kept") == f"{pooling.dropout_mask(n, 0.5, 0).sum()} of {n}"
    sums = metric(at, "sum before → after")
    at.button(key="drop_resample").click().run()
    assert not at.exception
    assert at.session_state["drop_seed"] == 1
    assert metric(at, "units kept") == f"{pooling.dropout_mask(n, 0.5, 1).sum()} of {n}"
    assert metric(at, "sum before → after") != sums
    assert metric(at, "scale for survivors") == "× 2"
    at.radio(key="drop_mode").set_value("inference").run()
    assert metric(at, "scale for survivors") == "× 1"
    before, after = metric(at, "sum before → after").split(" → ")
    assert before == after


@pytest.mark.slow
def test_pooling_page_never_imports_tensorflow():
    code = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from streamlit.testing.v1 import AppTest
from cnnviz import samples
from cnnviz.ui import widgets
at = AppTest.from_file({str(ROOT / PAGES / 'pooling.py')!r}, default_timeout=60)
at.session_state[widgets.PICTURE_KEY] = samples.load_sample(samples.DEFAULT_SAMPLE)
at.run()
assert not at.exception, at.exception
bad = [m for m in ("tensorflow", "keras") if m in sys.modules]
assert not bad, bad
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --------------------------------------------------------------------------- /conv1d

def test_conv1d_page_loads_causal_by_default():
    at = open_page("conv1d")
    assert at.radio(key="c1d_padding").value == "causal"
    assert any("no output y[t] uses an input after" in s.value for s in at.success)
    assert markdown_with(at, "**y[12]**").endswith("**")


def test_conv1d_controls_change_the_output():
    at = open_page("conv1d")
    causal = markdown_with(at, "**y[12]**")
    at.radio(key="c1d_padding").set_value("same").run()
    assert markdown_with(at, "**y[12]**") != causal
    assert any("Choose **causal** padding" in s.value for s in at.info)
    at.radio(key="c1d_padding").set_value("valid").run()
    assert "⌊(24 − 3) ÷ 1⌋ + 1 = 22 outputs" in next(c.value for c in at.caption if "outputs" in c.value)
    at.slider(key="c1d_dilation").set_value(2).run()
    assert "⌊(24 − 5) ÷ 1⌋ + 1 = 20 outputs" in next(c.value for c in at.caption if "outputs" in c.value)


def test_conv1d_bad_typed_values_show_error_and_keep_state():
    at = open_page("conv1d")
    at.selectbox(key="c1d_signal_kind").set_value("type your own").run()
    good = markdown_with(at, "**y[")
    at.text_input(key="c1d_signal_text").input("1, 2, banana, 4").run()
    assert not at.exception
    assert any("'banana'" in e.value and "separated by commas" in e.value for e in at.error)
    assert markdown_with(at, "**y[") == good                 # previous result still shown

    at.text_input(key="c1d_signal_text").input("1, 2, 3, 4, 5, 6").run()
    assert not at.error
    at.selectbox(key="c1d_kernel_kind").set_value("type your own").run()
    at.text_input(key="c1d_kernel_text").input("1, nan").run()
    assert at.error and not at.exception
    at.text_input(key="c1d_kernel_text").input("1, 1, 1, 1, 1, 1, 1, 1, 1, 1").run()
    assert at.error and not at.exception                   # longer than the 6-value signal allows
    at.text_input(key="c1d_kernel_text").input("1/2, 1/2").run()
    assert not at.error
    at.slider(key="c1d_stride").set_value(2).run()
    at.slider(key="c1d_dilation").set_value(2).run()
    assert any("dilation" in e.value for e in at.error) and not at.exception


# --------------------------------------------------------------------------- figure builders

def test_the_activation_chart_draws_each_function_and_its_slope():
    from cnnviz import activations
    at = open_page("activations")
    at.multiselect(key="act_chosen").set_value(["relu", "sigmoid"]).run()
    traces = {t["name"]: t for t in chart_traces(at, "act_curves")}
    x = np.linspace(-6.0, 6.0, 401)                       # the default x range
    for name, f, df in (("ReLU", np.maximum(x, 0), (x > 0).astype(float)),
                        ("sigmoid", 1 / (1 + np.exp(-x)), np.exp(-x) / (1 + np.exp(-x)) ** 2)):
        np.testing.assert_allclose(traces[name]["x"], x)
        np.testing.assert_allclose(traces[name]["y"], f, atol=1e-12)
        slope = traces[name + "′ (slope)"]["y"]
        np.testing.assert_allclose(slope[x != 0], df[x != 0], rtol=1e-6, atol=1e-12)
    sigmoid_slope = traces["sigmoid′ (slope)"]["y"]
    saturated = traces["sigmoid: saturated"]["y"]           # drawn exactly where the slope is tiny
    flat = sigmoid_slope < activations.SATURATION_THRESHOLD
    assert flat.any() and np.isnan(saturated[~flat]).all() and not np.isnan(saturated[flat]).any()


def test_the_conv1d_chart_draws_the_typed_signal_and_its_causal_convolution():
    at = open_page("conv1d")
    at.selectbox(key="c1d_signal_kind").set_value("type your own").run()
    at.text_input(key="c1d_signal_text").input("1, 2, 3, 4, 5, 6").run()
    at.selectbox(key="c1d_kernel_kind").set_value("type your own").run()
    at.text_input(key="c1d_kernel_text").input("1/2, 1/2").run()
    at.slider(key="c1d_t").set_value(0).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    traces = {t["name"]: t for t in chart_traces(at, "c1d_plot")}
    np.testing.assert_allclose(traces["input"]["y"], [1, 2, 3, 4, 5, 6])
    # causal: y[t] = x[t-1]/2 + x[t]/2, with x[-1] a padding zero
    np.testing.assert_allclose(traces["output"]["y"], [0.5, 1.5, 2.5, 3.5, 4.5, 5.5])
    np.testing.assert_allclose(traces["padding (zeros)"]["x"], [-1])
    np.testing.assert_allclose(traces["inputs that y[0] sees"]["x"], [0])
    np.testing.assert_allclose(traces["y[0]"]["y"], [0.5])


def test_the_pooling_picture_marks_the_winners():
    from cnnviz.ui import figures

    m = np.random.default_rng(0).normal(size=(9, 7)).astype(np.float32)
    r = pooling.pool2d(m, 2, 2, "same", "max")
    img = figures.pooling_image(m, -3.0, 3.0, "diverging", 90, r.winners, (0, 0, 1, 1))
    assert img.size == (70, 90)
    arr = np.asarray(img)
    f = 10                                                 # 90 px / 9 rows
    winners = r.winners.reshape(-1, 2)
    assert len(winners) == 5 * 4                           # one per window of the 'same' output
    for row, col in winners:                               # a white dot at each winner's centre
        assert tuple(arr[row * f + f // 2, col * f + f // 2]) == (255, 255, 255), (row, col)
    won = np.zeros(m.shape, bool)
    won[tuple(winners.T)] = True
    row, col = np.argwhere(~won)[0]                        # a cell that won nothing has its colour
    assert tuple(arr[row * f + f // 2, col * f + f // 2]) == tuple(figures.colorize(m[row, col], "diverging", -3.0, 3.0))
