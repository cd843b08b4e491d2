"""/more-convolutions (AppTest): transposed, 3D and separable convolutions with their numbers."""
from __future__ import annotations

import pathlib

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import separable, transposed

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = "cnnviz/ui/pages/more_convolutions.py"


def open_page(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.query_params.update(query)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def text_with(at: AppTest, words: str) -> str:
    return next(m.value for m in at.markdown if words in m.value)


def test_transposed_size_and_checkerboard_follow_the_controls():
    at = open_page()
    assert "= 17`" in text_with(at, "**Output size** (valid)")            # (8 - 1)·2 + 3
    assert at.warning and at.warning[0].value.startswith("Checkerboard")
    at.selectbox(key="mc_t_kernel").set_value("bilinear 4 × 4").run()
    assert "= 18`" in text_with(at, "**Output size** (valid)")            # (8 - 1)·2 + 4
    assert not at.warning and at.success[0].value.startswith("No checkerboard")
    at.radio(key="mc_t_padding").set_value("same").run()
    assert f"= {transposed.conv_transpose_output_size(8, 4, 2, 'same')}`" in text_with(at, "**Output size** (same)")


@pytest.mark.slow
def test_3d_sizes_on_three_axes():
    at = open_page(v_padding="valid", v_stride="2")
    text = text_with(at, "on each of the three axes")
    assert "`depth (frames): ⌊(5 − 3) / 2⌋ + 1 = 2`" in text
    assert "`height: ⌊(24 − 3) / 2⌋ + 1 = 11`" in text


def count_rows(at: AppTest) -> list[list[str]]:
    table = text_with(at, "count_params()")
    return [[cell.strip() for cell in r.split("|")] for r in table.splitlines()[2:]]


@pytest.mark.parametrize("k, c, f", [(3, 64, 128), (5, 3, 1), (1, 240, 1024)])
def test_separable_counts_are_keras_own(k, c, f):
    at = open_page(k=str(k), c=str(c), f=str(f))
    counts = separable.separable_param_counts(k, c, f)
    rows = count_rows(at)
    assert rows[0][2] == rows[0][4] == f"{counts['conv2d']:,}"
    assert rows[1][2] == rows[1][4] == f"{counts['separable']:,}"


@pytest.mark.parametrize("k, c, f", [(7, 1024, 1024), (1, 245, 1024)])
def test_large_layers_are_counted_by_formula_without_keras(k, c, f):
    at = open_page(k=str(k), c=str(c), f=str(f))
    counts = separable.separable_param_counts(k, c, f)
    rows = count_rows(at)
    assert rows[0][2] == f"{counts['conv2d']:,}" and rows[1][2] == f"{counts['separable']:,}"
    assert rows[0][4] == rows[1][4] == "not asked"
    assert any("Keras is asked here only for layers up to 250,000 weights" in c.value for c in at.caption)


def test_bad_link_values_fall_back():
    at = open_page(t_stride="9", k="abc", t_kernel="huge")
    assert any("could not be used" in w.value for w in at.warning)
    assert "= 17`" in text_with(at, "**Output size** (valid)")
