"""What a visitor chose (a link's values, a typed cell or answer, a file name) is shown literally.

Streamlit reads messages, captions and image captions as Markdown: a link value such as
"[Sign in](https://ev.il)" would otherwise become a clickable link inside cnnviz's own warning.
Each page is opened with every one of its link settings set to a link, HTML or Markdown payload
and with a picture named like one; every element that shows a payload is rendered with a
CommonMark renderer and must show the payload's characters as text, with no link or HTML made.
"""
from __future__ import annotations

import html
import pathlib
import re

import numpy as np
import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from cnnviz import images
from cnnviz.ui import page_list, url_state, widgets
from cnnviz.ui.plain_text import plain
from kernel_cells import type_cell

ROOT = pathlib.Path(__file__).resolve().parents[2]
# At most typed.QUOTE_CHARS characters, so messages quote them whole; no quote marks or backslashes,
# which repr() would change.
PAYLOADS = ("[Sign in](https://ev.il)", "<img src=x onerror=f()>", "**big** :red[x] $y$ #")
MARKDOWN_ELEMENTS = ("markdown", "caption", "warning", "error", "info", "success", "title",
                     "header", "subheader")
RENDER = MarkdownIt("commonmark", {"html": True})
PAGES = [page_list.HOME, *page_list.LESSON]
HEAVY = ("activations", "network")   # import TensorFlow: several seconds in a fresh process


def unsafe(source: str) -> str | None:
    """Why this Markdown would show a payload as something other than its text (None: it would not)."""
    out = RENDER.render(source)
    if re.search(r"<a |<img|<strong>big|<h1>", out):
        return f"a link, HTML or formatting was made: {out!r}"
    if re.search(r"https?://|www\.", source):       # GFM (Streamlit) links bare addresses
        return f"a bare address a GFM renderer would link: {source!r}"
    if re.search(r"(?<!\\):red\[|(?<!\\)\$y", source):  # Streamlit's colours, LaTeX
        return f"a Streamlit directive or formula is left active: {source!r}"
    return None


def shown(at: AppTest) -> list[str]:
    """The Markdown source of every element that shows something a visitor chose."""
    sources = []
    for kind in MARKDOWN_ELEMENTS:
        for element in at.get(kind):
            value = str(element.value)
            if re.search(r"Sign|<img|big(\\)?\*", value):
                sources.append(value)
    return sources


def assert_plain(at: AppTest, expect: str) -> None:
    assert not at.exception, at.exception
    sources = shown(at)
    echoed = [s for s in sources if expect in html.unescape(RENDER.render(s))]
    assert echoed, f"no element shows {expect!r}: {sources}"
    problems = [why for s in sources if (why := unsafe(s))]
    assert not problems, problems


@pytest.mark.parametrize("payload", PAYLOADS + ("- a list", "1. a list", "www.ev.il", "a@ev.il",
                                                 "&lt;b&gt; ~~x~~ `c` :material/home:"))
def test_plain_shows_the_text_as_written_on_one_line(payload):
    out = RENDER.render(plain(payload + "\n# heading"))
    assert out == f"<p>{html.escape(payload + ' # heading', quote=False)}</p>\n"
    assert not re.search(r"https?://|www\.|[a-z]@", plain(payload))      # GFM would link them
    assert not re.search(r"(?<!\\)(:\S|[~$])", plain(payload))    # Streamlit's directives, LaTeX


def open_page(path: str, query: dict[str, str] | None = None) -> AppTest:
    """The app on `path` (AppTest finds every page only after a first run), opened by a link."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.query_params.update(query or {})
    at.switch_page(path)
    at.run()
    return at


def _page_params(page: page_list.PageInfo) -> list[str]:
    at = open_page(page.path)
    assert not at.exception, at.exception
    scopes = at.session_state[url_state._ACTIVE_SCOPES]
    assert ("home" in scopes) == (page is page_list.HOME), f"{page.file} was not opened: {list(scopes)}"
    return [p.name for params in scopes.values() for p in params]


@pytest.mark.parametrize("shown_page", [
    pytest.param(p, id=p.url_path, marks=[pytest.mark.slow] * (p.url_path in HEAVY)) for p in PAGES])
def test_link_values_and_picture_names_are_shown_as_text_on_every_page(shown_page):
    names = _page_params(shown_page)
    at = open_page(shown_page.path, {name: PAYLOADS[i % len(PAYLOADS)] for i, name in enumerate(names)})
    warning = [w.value for w in at.warning if "could not be used" in w.value]
    assert warning, "the refused link values are not reported"
    assert_plain(at, PAYLOADS[0])

    name = PAYLOADS[0] + " " + PAYLOADS[1]    # an uploaded file's name ("upload: ...")
    at.session_state[widgets.PICTURE_KEY] = images.Picture(
        np.linspace(0, 1, 28 * 28, dtype=np.float32).reshape(28, 28), name)
    at.run()
    assert_plain(at, name)


def _open(page: str) -> AppTest:
    at = open_page(str(page_list.FOLDER / f"{page}.py"))
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_typed_kernel_cell_is_shown_as_text(payload):
    at = _open("convolution")
    type_cell(at, 1, 1, payload)
    assert len(at.error) == 1
    assert_plain(at, payload.split()[0])


@pytest.mark.slow
@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_typed_signal_is_shown_as_text(payload):
    at = _open("conv1d")
    at.selectbox(key="c1d_signal_kind").set_value("type your own").run()
    at.text_input(key="c1d_signal_text").input(payload).run()
    assert len(at.error) == 1
    assert_plain(at, payload.split()[0])       # the first value that is not a number


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_typed_lesson_answer_is_shown_as_text(payload):
    for step in range(1, 12):     # the first step that asks for a typed answer
        at = open_page(str(page_list.FOLDER / "lesson.py"), {"step": str(step)})
        answer = [t for t in at.text_input if t.key and t.key.startswith("lesson")]
        if answer:
            break
    assert answer, "no step of the lesson asks for a typed answer"
    answer[0].input(payload)
    at.button[[b.label for b in at.button].index("Check")].click().run()
    assert_plain(at, payload)
