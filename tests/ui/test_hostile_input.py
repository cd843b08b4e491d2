"""Hostile input as a visitor would type it: short, helpful messages and a page that keeps working."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import images, kernel_text, pooling, typed
from cnnviz.ui import widgets
from kernel_cells import send_grid, type_cell

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _open(page: str, picture: images.Picture | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(f"cnnviz/ui/pages/{page}.py")
    at.run()
    if picture is not None:
        at.session_state[widgets.PICTURE_KEY] = picture
        at.run()
    assert not at.exception
    return at


def _edit_cell(at: AppTest, text: str) -> None:
    type_cell(at, 1, 1, text)


def test_quote_keeps_messages_short():
    assert typed.quote("abc") == "'abc'"
    assert typed.quote("a" * 20_000) == f"'{'a' * typed.QUOTE_CHARS}…' (20,000 characters)"


@pytest.mark.slow
def test_a_huge_kernel_cell_is_quoted_briefly():
    at = _open("convolution")
    _edit_cell(at, "a" * 20_000)
    assert not at.exception and len(at.error) == 1
    message = at.error[0].value
    assert "(20,000 characters)" in message and len(message) < 300


def test_a_too_large_cell_is_shown_as_typed_with_the_limit():
    at = _open("convolution")
    _edit_cell(at, "1000001")
    message = at.error[0].value
    assert "1000001" in message and "1,000,000" in message and "1e+06" not in message
    with pytest.raises(ValueError, match="1,000,001"):
        kernel_text.parse_kernel([[1_000_001.0]])


@pytest.mark.slow
def test_a_huge_conv1d_token_is_refused_before_parsing():
    at = _open("conv1d")
    at.selectbox(key="c1d_signal_kind").set_value("type your own").run()
    at.text_input(key="c1d_signal_text").input("7" * 200_000).run()
    assert not at.exception and len(at.error) == 1
    assert "200,000 characters" in at.error[0].value and len(at.error[0].value) < 300
    at.text_input(key="c1d_signal_text").input("1, 2, 3, 4").run()
    at.selectbox(key="c1d_kernel_kind").set_value("type your own").run()
    at.text_input(key="c1d_kernel_text").input("1" * 50).run()
    assert any("too long for a number" in e.value and len(e.value) < 300 for e in at.error)


@pytest.mark.slow
def test_a_pooling_window_larger_than_the_map_keeps_the_page_working():
    line = images.Picture(np.linspace(0, 1, 512, dtype=np.float32)[None, :], "a 1 × 512 strip")
    at = _open("pooling", line)
    at.slider(key="pool_size").set_value(4).run()
    assert not at.exception and len(at.error) == 1
    message = at.error[0].value
    assert "pooling window" in message and "'same'" in message
    assert "kernel" not in message.lower() and "dilation" not in message
    # The page goes on with 'same' padding, and the sections below work on that pooled map.
    pooled = pooling.pool2d(line.pixels, 4, 4, "same", "max").output
    assert pooled.shape == (1, 128)
    assert any("**1×512 → 1×128**" in m.value for m in at.markdown)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["units kept"] == f"{pooling.dropout_mask(pooled.shape, 0.5, 0).sum()} of 128"
    assert metrics["sum before → after"].startswith(f"{pooled.sum():.3g} → ")


@pytest.mark.parametrize("linked_row, expected", [("4000", "max"), ("0", 0)])
def test_pooling_position_is_a_slider_clamped_to_the_map(linked_row, expected):
    """Rows are picked on a slider (no box can hold -5 or 99999); linked rows are clamped."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["row"] = linked_row
    at.switch_page("cnnviz/ui/pages/pooling.py")
    at.run()
    rows = at.slider(key="pool_row")
    assert rows.value == (rows.max if expected == "max" else expected)
    assert not at.number_input                      # no typed positions on this page


@pytest.mark.slow
@pytest.mark.parametrize("forged", [
    "1,2,3", None, 7, [[1, 2], [3, 4]],                       # not the editor's 3 × 3 grid
    [["1"] * 3] * 2 + [["1"] * 4], [["1"] * 3] * 10_000,        # ragged, far too many rows
    [[{"a": 1}, "0", "0"], ["0", "0", "0"], ["0", "0", "0"]],   # a cell that is no number
])
def test_a_forged_kernel_grid_is_refused_in_one_line(forged):
    at = _open("convolution")
    before = at.session_state[widgets.FEATURE_MAP_KEY][0].copy()
    send_grid(at, forged)
    assert not at.exception and len(at.error) == 1 and "last valid kernel" in at.error[0].value
    assert len(at.error[0].value) < 300
    np.testing.assert_array_equal(at.session_state[widgets.FEATURE_MAP_KEY][0], before)


@pytest.mark.parametrize("point", [
    None, "x", {"x": 1}, {"x": "a", "y": 1, "width": 10}, {"x": float("nan"), "y": 1, "width": 10},
    {"x": 1e300, "y": 1, "width": 10}, {"x": 1, "y": 1, "width": 0}, {"x": 1, "y": 1, "width": -5},
])
def test_a_forged_click_is_ignored(point):
    from cnnviz.ui import clickable_picture

    assert clickable_picture._checked(point) is None


def test_a_real_click_is_passed_on_as_numbers():
    from cnnviz.ui import clickable_picture

    assert clickable_picture._checked({"x": 3, "y": "4.5", "width": 200}) == {"x": 3.0, "y": 4.5, "width": 200.0}


@pytest.mark.parametrize("page,key", [("convolution", "conv_data_format"), ("train", "train_dataset"),
                                      ("convolution", "cnnviz_palette"), ("convolution", widgets.SOURCE_KEY)])
def test_a_forged_empty_choice_on_a_required_switch_keeps_the_page_working(page, key):
    """A browser never deselects a required segmented control, but a forged message can."""
    at = _open(page)
    shown = len(at.main) + len(at.sidebar)
    at.button_group(key=key).set_value(None).run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.main) + len(at.sidebar) >= shown - 2
