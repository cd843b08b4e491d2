"""WCAG 2.1 AA in a real Chromium, checked by axe-core: every page, normal and presenting, and the
states people reach (a kernel edited, every "why" method shown, a lesson question answered right
and wrong, a training run finished, each normal and presenting; an upload refused; the colour-blind
palette). No critical or serious violation, and no structural one (headings, landmarks, skip link,
language) at any impact; headings in order with one h1. Reduced motion slows what moves by itself."""
from __future__ import annotations

import time

import pytest

from a11y_checks import axe_problems, heading_problems, headings
from cnnviz.lesson import question_types, questions, steps
from conftest import main_text, screenshot, settle
from test_page_tour import PAGES

pytestmark = pytest.mark.browser


def open_page(page, url: str) -> None:
    page.goto(url)
    settle(page)
    page.wait_for_function("() => !document.querySelector('[data-testid=stSkeleton]')", timeout=60_000)
    page.wait_for_timeout(1000)   # charts and components finish drawing
    settle(page)
    errors = page.locator("[data-testid=stException]")
    assert errors.count() == 0, errors.first.inner_text()[:2000]


@pytest.mark.parametrize("present", ["", "?present=1"], ids=["normal", "presenting"])
@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_no_serious_violation(app_url, page, path, present):
    open_page(page, f"{app_url}/{path}{present}")
    assert axe_problems(page) == []
    assert heading_problems(page) == [], headings(page)
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("main").count() == 1 and page.locator("header").count() >= 1


def test_every_lesson_step_has_its_headings_in_order(app_url, page):
    for step in range(1, len(steps.STEPS) + 1):
        open_page(page, f"{app_url}/lesson?step={step}&seed=3")
        assert heading_problems(page) == [], (step, headings(page))
        assert headings(page)[1][0] == 2, (step, headings(page))     # the step's own h2


def test_the_colour_blind_palette(app_url, page):
    open_page(page, f"{app_url}/convolution?palette=colour-blind")
    chosen = page.locator("[data-testid=stSidebar] [data-testid=stButtonGroup]").filter(
        has_text="Colour-blind safe").get_by_role("radio", name="Colour-blind safe")
    assert chosen.get_attribute("aria-checked") == "true"
    assert axe_problems(page) == []
    screenshot(page, "a11y-palette-colour-blind")
    page.locator("[data-testid=stSidebar]").get_by_role("radio", name="Standard").click()
    settle(page)
    assert "palette=" not in page.url


@pytest.mark.parametrize("path", ["activations", "conv1d", "network?net=mnist&layer=dense1", "lesson?step=8&seed=0"])
def test_the_numbers_tables_opened(app_url, page, path):
    """Every "... as numbers" table open at once: tables with headers, long ones in a box that
    Tab reaches (axe scrollable-region-focusable), no structural problem."""
    open_page(page, f"{app_url}/{path}")
    tables = page.locator("[data-testid=stExpander] summary").filter(has_text="as numbers")
    assert tables.count() >= 1
    for i in range(tables.count()):
        tables.nth(i).click()
    settle(page)
    assert page.locator("table.cnnviz-numbers th[scope=row]").count() > 0
    assert axe_problems(page) == []


PRESENT = pytest.mark.parametrize("present", ["", "&present=1"], ids=["normal", "presenting"])


@PRESENT
def test_a_kernel_edited(app_url, page, present):
    open_page(page, f"{app_url}/convolution{present.replace('&', '?')}")
    cell = page.locator("input[aria-label='kernel row 1, column 1']").first
    cell.fill("-2")
    cell.press("Enter")
    settle(page)
    assert page.locator("input[aria-label='kernel row 1, column 1']").first.input_value() == "-2"
    assert axe_problems(page) == []


@PRESENT
def test_every_why_method_shown(app_url, page, present):
    page.set_viewport_size({"width": 1400, "height": 3000})
    open_page(page, f"{app_url}/network?net=mnist{present}")
    text = main_text(page)
    for method in ("Saliency", "Grad-CAM", "Integrated gradients", "Occlusion"):
        assert method.lower() in text.lower(), method
    assert axe_problems(page) == []


@PRESENT
def test_a_lesson_question_answered_right_and_wrong(app_url, page, present):
    open_page(page, f"{app_url}/lesson?step=1&seed=3{present}")
    q = questions.question(1, 3)
    main = page.locator("[data-testid=stMain]")
    for answer, said in ((q.answer + 5, "Not quite"), (q.answer, "Right.")):
        if q.kind == question_types.CHOICE:
            wrong = next(c for c in q.choices if c != q.answer)
            main.locator("[data-testid=stRadio] label").filter(
                has_text=str(q.answer if said == "Right." else wrong)).click()
            main.get_by_role("button", name="Check").click()
        else:
            box = main.locator("[data-testid=stTextInput] input")
            box.fill(question_types.fmt(answer))
            box.press("Enter")
        settle(page)
        assert main.locator("[data-testid=stAlert]").filter(has_text=said).count() == 1
        assert axe_problems(page) == [], said


def test_an_upload_refused(app_url, page, tmp_path):
    open_page(page, app_url)
    page.locator("[data-testid=stSidebar] [data-testid=stButtonGroup]").first.get_by_role(
        "radio", name="Upload").click()
    settle(page)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not a PNG")
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(bad))
    page.wait_for_selector("[data-testid=stSidebar] [data-testid=stAlertContentError]", timeout=30_000)
    settle(page)
    assert axe_problems(page) == []


@PRESENT
def test_a_training_run_finished(app_url, page, present):
    page.set_viewport_size({"width": 1400, "height": 2600})
    open_page(page, f"{app_url}/train{present.replace('&', '?')}")
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_function("document.body.innerText.match(/Step [1-9][\\d,]* of/)", timeout=90_000)
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text("Test accuracy", exact=True).wait_for(timeout=90_000)
    settle(page)
    assert axe_problems(page) == []
    screenshot(page, f"a11y-train-finished{'-presenting' if present else ''}")


def output_column(page) -> int:
    return int(page.locator("[data-testid=stSlider]").filter(has_text="Output column")
               .locator("input[type=range]").input_value())


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_reduced_motion_slows_play_and_play_pauses(app_url, browser, motion):
    """With prefers-reduced-motion the page says so and Play steps every 3 s instead of 0.8 s
    (cnnviz/ui/motion.py); CSS transitions are cut; switching Play off pauses the window."""
    context = browser.new_context(viewport={"width": 1400, "height": 2400}, reduced_motion=motion)
    page = context.new_page()
    try:
        for _ in range(2):    # the stylesheet rides in index.html from the server's first run on
            open_page(page, f"{app_url}/convolution?row=0&col=0")
        note = page.get_by_text("Switch Play off to pause").inner_text()
        assert ("reduced motion, so Play takes one step every 3 s" in note) == (motion == "reduce")
        slide = page.locator("[data-testid=stSidebar]").evaluate(   # the sidebar slides in 0.3 s
            "e => Math.max(...getComputedStyle(e).transitionDuration.split(',').map(parseFloat))")
        assert (slide < 0.001) == (motion == "reduce"), slide
        page.get_by_text("Play: slide the window automatically").click()
        moves = []                         # (time, column) each time the window is seen to move
        for _ in range(120):
            page.wait_for_timeout(250)
            column = output_column(page)
            if column != (moves[-1][1] if moves else 0):
                moves.append((time.monotonic(), column))
            if len(moves) == 3:
                break
        assert len(moves) == 3, f"Play moved the window {len(moves)} times in 30 s"
        if motion == "reduce":             # a step every 3 s at the most, however fast the server
            assert moves[2][0] - moves[1][0] > 2.0, moves
        page.get_by_text("Play: slide the window automatically").click()
        settle(page)
        paused_at = output_column(page)
        page.wait_for_timeout(4000)
        assert output_column(page) == paused_at
    finally:
        context.close()
