"""Every picture and chart a page sends carries a text alternative made from its numbers, and the
numbers themselves wait in a collapsed "as numbers" table (AppTest, no browser)."""
from __future__ import annotations

import pathlib
import re

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.ui import accessible

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = ["home", "convolution", "activations", "pooling", "conv1d", "more_convolutions", "lesson"]
MEANINGFUL = re.compile(r"\d")   # a description made from numbers names at least one


def _open(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(f"cnnviz/ui/pages/{page}.py").run()
    assert not at.exception
    return at


def _alts(at: AppTest) -> list[tuple[str, str]]:
    """(kind, alt) of every st.image picture and Plotly chart on the page."""
    found = [("image", img.alt) for el in at.get("image") for img in el.proto.imgs]
    found += [("chart", c.proto.alt) for c in at.get("plotly_chart")]
    return found


@pytest.mark.parametrize("page", PAGES)
def test_every_picture_says_what_it_shows(page):
    at = _open(page)
    alts = _alts(at)
    assert alts, f"/{page} shows no picture"
    for kind, alt in alts:
        assert alt.strip() and alt.strip().lower() not in ("image", "picture", "chart"), (page, kind, alt)
        assert MEANINGFUL.search(alt), (page, kind, alt)
    for expander in at.expander:
        if expander.label.endswith(" as numbers"):
            assert not expander.proto.expanded


def test_the_feature_maps_description_follows_the_kernel():
    at = _open("convolution")
    before = [a for _, a in _alts(at) if a.startswith("Output: the feature map")]
    assert len(before) == 1 and "strongest at row" in before[0]
    tables = [e for e in at.expander if e.label == "Output: the feature map as numbers"]
    assert len(tables) == 1
    html = "".join(h.proto.body for h in tables[0].get("html"))
    assert '<th scope="col">' in html and '<th scope="row">' in html


def test_news_is_said_once_per_change():
    at = AppTest.from_string(
        "import streamlit as st\n"
        "from cnnviz.ui import accessible\n"
        "st.session_state.setdefault('said', [])\n"
        "st.session_state['said'].append(accessible.news('k', st.session_state.get('text', 'a')))\n")
    at.run()
    at.run()
    at.session_state["text"] = "b"
    at.run()
    at.run()
    at.session_state["text"] = "a"
    at.run()
    assert at.session_state["said"] == ["a", "", "b", "", "a"]


def test_a_large_map_shows_the_window_around_its_largest_value():
    import numpy as np
    m = np.zeros((100, 90))
    m[70, 5] = 3.0
    html = accessible.table_html(m, "map")
    assert "the map is 100 × 90; shown: rows 56–83, columns 0–27" in html
    assert html.count("<tr>") == 1 + 28 and '<th scope="row">70</th>' in html
    assert ">3</td>" in html


def test_the_window_sum_grids_are_tables_with_headers():
    import numpy as np

    from cnnviz import kernels
    from cnnviz.ui import number_grids
    win = kernels.window(np.random.default_rng(1).random((9, 11)), kernels.PRESETS["sharpen"], 4, 5)
    page = number_grids.window_sum_html(win.patch, win.kernel, win.products, win.in_image, win.rows, win.cols)
    assert page.count('<th scope="col">') == page.count('<th scope="row">') == 3 * 3
    assert page.count("<table aria-label=") == 3


def test_a_finished_training_run_is_said_and_its_confusion_matrix_described():
    def script():
        import json
        import pathlib

        from cnnviz import live
        from cnnviz.ui import training_views
        root = pathlib.Path(live.__file__).resolve().parents[1]
        card = {**json.loads((root / "pretrained" / "mnist.json").read_text()), "steps": 5000}
        training_views.results(live.Run(id=1, settings=None, state="finished", card=card))

    at = AppTest.from_function(script, default_timeout=60)
    at.run()
    assert not at.exception
    said = at.session_state["_announced:train_result"]
    assert said.startswith("Training finished: test accuracy 99.") and "test loss 0.0" in said
    [chart] = at.get("plotly_chart")
    assert chart.proto.alt.startswith("Confusion matrix of 10 classes (rows: true class, columns: predicted): ")
    assert "the most frequent mistake: " in chart.proto.alt
    [table] = [e for e in at.expander if e.label.startswith("Confusion matrix")]
    assert table.label.endswith("as numbers") and '<th scope="row">9</th>' in table.get("html")[0].proto.body
