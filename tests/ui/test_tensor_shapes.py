"""The "Tensor shapes as Keras sees them" box on /convolution, /conv1d and /network (AppTest)."""
from __future__ import annotations

import html
import pathlib

import numpy as np
from streamlit.testing.v1 import AppTest

from cnnviz import shapes

ROOT = pathlib.Path(__file__).resolve().parents[2]


def open_page(name: str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params.update(query)
    at.switch_page(f"cnnviz/ui/pages/{name}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def box_text(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "data_format=" in m.value)


def numbers_shown(at: AppTest) -> str:
    """The box's printed numbers (a <pre> block), unescaped."""
    block = next(h.value for h in reversed(at.html) if h.value.startswith("<pre"))
    return html.unescape(block[block.index(">") + 1:block.rindex("</pre>")])


def test_convolution_shapes_flip_with_data_format():
    at = open_page("convolution")
    text = box_text(at)
    assert "input: `(batch_size, rows, cols, channels) = (1, " in text
    shown = numbers_shown(at)
    at.button_group(key="conv_data_format").set_value("channels_first").run()
    flipped = box_text(at)
    assert "`Conv2D(..., data_format=\"channels_first\")`" in flipped   # the default sample is grey: Conv2D
    assert "(batch_size, channels, rows, cols)" in flipped
    assert numbers_shown(at) != shown
    assert at.query_params["format"] == "channels-first"


def test_the_numbers_shown_are_the_layout_of_the_picture():
    at = open_page("conv1d", format="channels_first")
    text = box_text(at)
    assert "`Conv1D(..., data_format=\"channels_first\")`" in text
    assert "input: `(batch_size, input_dim, steps) = (1, 1, " in text
    printed = numbers_shown(at)
    assert printed.startswith("[[[") and printed.count("[") == 3   # one sample, one channel, 3 steps


def test_a_bad_data_format_in_a_link_falls_back():
    at = open_page("convolution", format="nchw")
    assert any("format" in w.value for w in at.warning)
    assert "(batch_size, rows, cols, channels)" in box_text(at)


def test_network_layer_shapes_in_both_layouts():
    at = open_page("network", format="channels_first")
    text = box_text(at)
    assert "(batch_size, channels, rows, cols) = (1, 32, 28, 28)" in text   # conv1 of the digits net
    assert shapes.batch_shape((28, 28, 32), "channels_first") == (1, 32, 28, 28)
    np.testing.assert_array_equal(shapes.layout(np.zeros((2, 3, 4)), "channels_first").shape, (1, 4, 2, 3))
