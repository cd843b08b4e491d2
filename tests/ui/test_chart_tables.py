"""Charts keep their data in a collapsed "as numbers" table (WCAG 1.1.1: a chart's text summary and
its data): the learning curves on /train, the signals on /conv1d, the curves on /activations."""
from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.lesson import question_types, questions
from cnnviz.ui import accessible
from test_picture_text import _open as _page

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_chart_rows_merge_the_lines_and_mark_missing_points():
    x, table, total = accessible.chart_rows({"train": ([1, 2, 3, 4], [0.9, 0.8, 0.7, 0.6]),
                                             "validation": ([2, 4], [0.85, 0.65])})
    assert total == 4 and x.tolist() == [1, 2, 3, 4]
    np.testing.assert_array_equal(table[:, 0], [0.9, 0.8, 0.7, 0.6])
    assert np.isnan(table[[0, 2], 1]).all() and table[[1, 3], 1].tolist() == [0.85, 0.65]


def test_a_long_line_is_thinned_but_a_short_one_keeps_every_point():
    steps = np.arange(1, 5001)
    val = [100, 2500, 4999]
    x, table, total = accessible.chart_rows({"train": (steps, steps / 5000), "val": (val, [1.0, 2.0, 3.0])},
                                            most=50)
    assert total == 5000 and 50 <= x.size <= 53
    assert set(val) <= set(x.tolist()) and x[0] == 1 and x[-1] == 5000
    np.testing.assert_allclose(table[:, 0], x / 5000)          # each row holds its own step's value
    assert np.count_nonzero(~np.isnan(table[:, 1])) == 3


def test_a_line_with_more_values_than_x_is_refused():
    with pytest.raises(ValueError, match="'a' has 2 x and 3 values"):
        accessible.chart_rows({"a": ([0, 1], [1, 2, 3])})


def _table(at: AppTest, label: str) -> str:
    found = [e for e in at.expander if e.label == f"{label} as numbers"]
    assert len(found) == 1, [e.label for e in at.expander]
    assert not found[0].proto.expanded
    return "".join(h.proto.body for h in found[0].get("html"))


def _cells(html: str) -> list[list[str]]:
    return [re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", row) for row in re.findall(r"<tr>(.*?)</tr>", html)]


def test_the_conv1d_signal_and_output_as_numbers():
    at = _page("conv1d")
    rows = _cells(_table(at, "The signal and the output"))
    assert rows[0] == ["i (for x), t (for y)", "signal x[i]", "output y[t]"]
    # the page's own sum for the chosen output, "y[t] = ... = **value**", matches its table row
    said = next(m.value for m in at.markdown if m.value.startswith("**y["))
    t, value = re.match(r"\*\*y\[(\d+)\]\*\*.* = \*\*(-?[\d.e+-]+)\*\*", said).groups()
    assert float(rows[1 + int(t)][2]) == pytest.approx(float(value), rel=2e-3, abs=1e-3)


def test_the_activation_curves_and_gradient_norms_as_numbers():
    at = _page("activations")
    curves = _cells(_table(at, "The curves"))
    header = curves[0]
    assert header[0] == "x" and "relu(x)" in header
    relu = header.index("relu(x)")
    for row in curves[1:]:
        x = float(row[0].replace("−", "-"))
        assert float(row[relu].replace("−", "-")) == pytest.approx(max(x, 0.0), abs=5e-3)
    assert "Gradient norm per layer as numbers" in [e.label for e in at.expander]


def test_the_learning_curves_as_numbers():
    def script():
        from cnnviz import live
        from cnnviz.ui import training_views
        run = live.Run(id=1, settings=None, state="running", step=6,
                       loss=[2.3, 2.0, 1.6, 1.2, 0.9, 0.7], accuracy=[0.1, 0.2, 0.4, 0.6, 0.7, 0.8],
                       measured=[(3, 1.5, 0.45, {}), (6, 0.8, 0.75, {})], info={"validation_images": 100})
        training_views.curves(run)

    at = AppTest.from_function(script, default_timeout=60)
    at.run()
    assert not at.exception
    rows = _cells(_table(at, "Learning curves"))
    assert rows[0] == ["step", "training loss", "validation loss", "training accuracy", "validation accuracy"]
    assert rows[3] == ["3", "1.6", "1.5", "0.4", "0.45"]
    assert rows[1] == ["1", "2.3", "–", "0.1", "–"]


def test_the_lesson_loss_curves_as_numbers():
    q = questions.question(8, 0)
    assert isinstance(q.visual, question_types.Curves)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.query_params["step"], at.query_params["seed"] = "8", "0"
    at.switch_page("cnnviz/ui/pages/lesson.py").run()
    assert not at.exception
    for run in q.visual.runs:
        rows = _cells(_table(at, f"{run.label}: the losses"))
        assert rows[0] == ["epoch", "training loss", "validation loss"]
        assert len(rows) == 1 + len(run.train)
        assert [float(r[1]) for r in rows[1:]] == pytest.approx(run.train, rel=5e-3)
