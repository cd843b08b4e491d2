"""Settings in the address bar: parsing every class of bad value, and each page through AppTest."""
from __future__ import annotations

import pathlib

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.ui import url_state

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = "cnnviz/ui/pages/"


# --------------------------------------------------------------------------- parsers

def _reason(param: url_state.Param, text: str) -> str:
    with pytest.raises(ValueError) as info:
        param.parse(text)
    return str(info.value)


def test_integer_accepts_whole_numbers_in_range_only():
    p = url_state.integer("stride", "k", 1, 5, 1)
    assert p.parse("3") == 3 and p.parse(" 5 ") == 5 and p.parse("+2") == 2
    assert "outside 1 to 5" in _reason(p, "9")
    assert "outside 1 to 5" in _reason(p, "0")
    assert "not a whole number" in _reason(p, "abc")
    assert "not a whole number" in _reason(p, "2.5")
    assert "not a whole number" in _reason(p, "1e3")
    assert "empty" in _reason(p, "")
    assert "not a whole number" in _reason(p, "9" * 40)        # no giant int is built


def test_number_refuses_nan_infinity_and_out_of_range():
    p = url_state.number("x0", "k", -20.0, 20.0, 2.0)
    assert p.parse("-3.5") == -3.5 and p.parse("−1") == -1.0   # a typographic minus is fine
    for bad in ("nan", "inf", "-inf", "21", "1e9"):
        assert "outside -20 to 20" in _reason(p, bad), bad
    assert "not a number" in _reason(p, "two")


def test_number_pair_needs_two_increasing_numbers():
    p = url_state.number_pair("range", "k", -20.0, 20.0, (-6.0, 6.0))
    assert p.parse("-3,3") == (-3.0, 3.0)
    assert "two numbers" in _reason(p, "3")
    assert "smaller to a larger" in _reason(p, "3,-3")
    assert "outside" in _reason(p, "-30,3")


def test_flag_and_choice_and_choices():
    f = url_state.flag("present", "k", False)
    assert f.parse("1") is True and f.parse("off") is False
    assert "not 1 or 0" in _reason(f, "maybe")
    c = url_state.choice("kernel", "k", ["Sobel x", "box blur"], "Sobel x", what="preset kernel")
    assert c.parse("sobel-x") == "Sobel x" and c.parse("Sobel x") == "Sobel x"
    assert c.encode("box blur") == "box-blur"
    assert "not a known preset kernel" in _reason(c, "blur")
    numbers = url_state.choice("width", "k", [16, 32, 64], 64)
    assert numbers.parse("32") == 32 and "not a known" in _reason(numbers, "33")
    many = url_state.choices("functions", "k", ["relu", "tanh", "sigmoid"], ["relu"])
    assert many.parse("tanh,relu,tanh") == ["tanh", "relu"] and many.parse("") == []
    assert "not a known" in _reason(many, "relu,cosine")


def test_long_values_are_quoted_briefly():
    p = url_state.integer("stride", "k", 1, 5, 1)
    reason = _reason(p, "a" * 20_000)
    assert "(20,000 characters)" in reason and len(reason) < 120
    assert len(_reason(url_state.text("values", "k", ""), "1," * 5_000)) < 120


def test_identifier_refuses_odd_characters():
    p = url_state.identifier("layer", "k", None, "layer")
    assert p.parse("conv1") == "conv1"
    assert "not a layer name" in _reason(p, "../etc/passwd")
    assert "not a layer name" in _reason(p, "<script>")


def test_defaults_are_left_out_of_links():
    p = url_state.integer("stride", "k", 1, 5, 1)
    assert p.text(1) is None and p.text(3) == "3"


# --------------------------------------------------------------------------- pages

def _open(page: str, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page(PAGES + page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def _link(at: AppTest) -> dict[str, str]:
    return {k: at.query_params[k][-1] if isinstance(at.query_params[k], list) else at.query_params[k]
            for k in at.query_params}


CASES = {   # page: (a good link, a key it sets, the value it must have)
    "home.py": ({"image": "cifar-cat", "zoom": "8", "top": "3", "left": "5", "channel": "green"},
                "home_crop_size", 8),
    "convolution.py": ({"image": "mnist-7", "kernel": "sharpen", "padding": "same",
                        "dilation": "2", "row": "4", "col": "6"}, "conv_dilation", 2),
    "activations.py": ({"functions": "relu,tanh", "range": "-3,3", "depth": "6", "width": "32",
                        "seed": "7", "map_fn": "tanh"}, "vg_depth", 6),
    "pooling.py": ({"mode": "avg", "size": "3", "padding": "same", "dropout": "0.3"}, "pool_size", 3),
    "conv1d.py": ({"signal": "steps", "kernel": "edge", "padding": "same", "stride": "2", "t": "3"},
                  "c1d_stride", 2),
    "network.py": ({"image": "fashion-bag", "net": "fashion-mnist", "layer": "pool1", "channel": "3",
                    "class": "2", "copies": "10"}, "net_channel", 3),
}


@pytest.mark.parametrize("page", list(CASES))
def test_a_link_sets_the_page_and_the_page_writes_it_back(page):
    query, key, value = CASES[page]
    at = _open(page, query)
    assert at.session_state[key] == value
    assert not _warnings(at)
    link = _link(at)
    for k, v in query.items():     # every linked value is still in the address bar
        assert link.get(k) == v, (k, link)
    # the address bar, opened in a new session, gives the same settings
    again = _open(page, link)
    assert _link(again) == link
    assert again.session_state[key] == value


@pytest.mark.parametrize("page, bad", [
    ("convolution.py", {"stride": "abc", "kernel": "sharpen"}),
    ("convolution.py", {"stride": "99", "kernel": "sharpen"}),
    ("convolution.py", {"kernel": "nope", "stride": "2"}),
    ("convolution.py", {"cells": "1,2;3", "stride": "2"}),
    ("activations.py", {"depth": "1e9", "seed": "7"}),
    ("activations.py", {"functions": "relu,cosine", "seed": "7"}),
    ("pooling.py", {"size": "-1", "mode": "avg"}),
    ("conv1d.py", {"stride": "7" * 300, "padding": "same"}),
    ("network.py", {"net": "zzz", "channel": "3"}),
    ("home.py", {"zoom": "0", "channel": "green"}),
])
def test_bad_values_fall_back_one_by_one_with_one_line(page, bad):
    at = _open(page, bad)
    lines = _warnings(at)
    assert len(lines) == 1, lines
    bad_name = next(iter(bad))
    assert bad_name in lines[0] and "\n" not in lines[0] and len(lines[0]) < 400
    good_name, good_value = list(bad.items())[1]
    assert _link(at).get(good_name) == good_value        # the good value was used
    assert bad_name not in _link(at) or _link(at)[bad_name] != bad[bad_name]


def test_a_too_long_address_is_ignored_with_one_line():
    at = _open("convolution.py", {"stride": "2", "junk": "x" * 10_000})
    lines = _warnings(at)
    assert len(lines) == 1 and "10,0" in lines[0] and "ignored" in lines[0]
    assert at.session_state["conv_stride"] == 1


def test_network_link_to_a_layer_this_network_lacks():
    at = _open("network.py", {"net": "mnist", "layer": "conv6"})
    lines = _warnings(at)
    assert len(lines) == 1 and "conv6" in lines[0]
    assert _link(at)["layer"] != "conv6"


def test_an_edited_kernel_travels_as_cells():
    at = _open("convolution.py", {"kernel": "sharpen", "cells": "1,2,1;0,0,0;-1,-2,-1", "bias": "0.5"})
    assert at.session_state["conv_kernel_good"].tolist() == [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]
    link = _link(at)
    assert link["cells"] == "1,2,1;0,0,0;-1,-2,-1" and link["bias"] == "0.5"


@pytest.mark.slow
def test_presentation_mode_from_the_link_hides_the_sidebar():
    at = _open("convolution.py", {"present": "1"})
    assert at.session_state["cnnviz_present"] is True
    assert any("stSidebar" in h.proto.body for h in at.get("html"))
    assert _link(at)["present"] == "1"
    plain = _open("convolution.py", {})
    assert not any("stSidebar" in h.proto.body for h in plain.get("html"))
