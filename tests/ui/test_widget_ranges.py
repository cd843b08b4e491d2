"""One range per number setting: what a link accepts is what its widget can show.

For every page, each number setting's range (url_state.integer/number/number_pair) must equal
its widget's min and max, so a link such as /?zoom=1 is either shown as linked or refused with a
message, never moved silently to the slider's end. Widgets whose range follows the picture or
the map (a position, a channel) must lie inside the setting's range, and say so when they move a
linked value (widgets.clamped_slider). Every number setting is checked: a setting missing from
the tables below whose widget cannot be found fails the test.
"""
from __future__ import annotations

import pathlib

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.ui import page_list, url_state

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = [page_list.HOME, *page_list.LESSON]
HEAVY = ("activations", "network")   # import TensorFlow: several seconds in a fresh process
RANGE_WIDGETS = ("slider", "number_input")
# The widget's range depends on the picture or the map: the setting's range must hold it.
FOLLOWS_THE_PICTURE = {"home_crop_top", "home_crop_left", "conv_row", "conv_col", "pool_row",
                       "pool_col", "c1d_t", "net_channel", "net_smooth_n"}
NO_RANGE_WIDGET = {   # settings a button or a list sets, never a slider or a number box
    "lesson_step": "the lesson's Previous and Next buttons",
    "drop_seed": "the 'New random mask' button counts up",
    "net_class": "a selectbox of the network's classes (a class it lacks is reported)",
}
WIDGET_KEY_PREFIX = {"lesson_seed": "lesson_seed_input_"}   # the box's key holds the set shown
REVEAL = {   # links that show the widgets a page's default view hides
    "convolution": [{"padding": "explicit"}],
    "pooling": [{"stride_is_size": "0"}],
    "network": [{"layer": "dropout1", "dropout_training": "1"}],
}


def open_page(path: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()                      # AppTest finds every page only after a first run
    at.query_params.update(query or {})
    at.switch_page(path)
    at.run()
    assert not at.exception, at.exception
    return at


def _ranges(at: AppTest) -> dict[str, tuple[float, float]]:
    return {w.key: (w.min, w.max) for kind in RANGE_WIDGETS for w in at.get(kind) if w.key}


def _find(ranges: dict, key: str):
    if key in ranges:
        return ranges[key]
    prefix = WIDGET_KEY_PREFIX.get(key)
    return next((r for k, r in ranges.items() if prefix and k.startswith(prefix)), None)


@pytest.mark.parametrize("shown_page", [
    pytest.param(p, id=p.url_path, marks=[pytest.mark.slow] * (p.url_path in HEAVY)) for p in PAGES])
def test_each_number_setting_has_its_widgets_range(shown_page):
    views = [open_page(shown_page.path, q) for q in [{}, *REVEAL.get(shown_page.url_path, [])]]
    scopes = views[0].session_state[url_state._ACTIVE_SCOPES]
    assert ("home" in scopes) == (shown_page is page_list.HOME), f"{shown_page.file} was not opened"
    params = [p for scope, ps in scopes.items() if scope != "app" for p in ps if p.lo is not None]
    assert params, "no number settings found"
    unchecked, wrong = [], []
    for p in params:
        if p.key in NO_RANGE_WIDGET:
            assert all(_find(_ranges(at), p.key) is None for at in views), p.key
            continue
        found = [r for at in views if (r := _find(_ranges(at), p.key)) is not None]
        if not found:
            unchecked.append(p.name)
        for lo, hi in found:
            if p.key in FOLLOWS_THE_PICTURE:
                ok = p.lo <= lo and hi <= p.hi
            else:
                ok = (lo, hi) == (p.lo, p.hi)
            if not ok:
                wrong.append(f"{p.name}: a link takes {p.lo} to {p.hi}, the widget {lo:g} to {hi:g}")
    assert not wrong, wrong
    assert not unchecked, f"no widget found for {unchecked}: add a REVEAL link or a NO_RANGE_WIDGET reason"


def test_a_linked_zoom_below_the_slider_is_refused_with_a_message():
    at = open_page(page_list.HOME.path, {"zoom": "1"})
    assert at.slider(key="home_crop_size").value == 12      # the default, not the slider's end
    assert any("zoom (1 is outside 4 to 16)" in w.value for w in at.warning)


def test_a_linked_position_the_picture_cannot_hold_is_moved_with_a_message():
    at = open_page(page_list.HOME.path, {"zoom": "8", "top": "4000"})
    top = at.slider(key="home_crop_top")
    assert top.value == top.max == 20                         # 28 - 8
    assert any("top=4000 does not fit here (0 to 20), so 20 is shown" in c.value.replace("\\", "")
               for c in at.caption)
    at.slider(key="home_crop_top").set_value(3).run()         # the message was about the link
    assert not any("does not fit here" in c.value for c in at.caption)
