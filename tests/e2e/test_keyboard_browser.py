"""The keyboard alone, in a real Chromium: a visible focus ring on every control Tab reaches, the
convolution window and the kernel grid moved and edited without the mouse, the guided lesson's
eight steps walked with Tab, Enter, arrows and typed answers."""
from __future__ import annotations

import re

import pytest

from a11y_checks import focus_ring, focus_ring_contrast, focused, tab_to
from cnnviz.lesson import question_types, questions, steps
from conftest import main_text, screenshot, settle
from test_accessibility_browser import open_page

pytestmark = pytest.mark.browser


def open_twice(page, url: str) -> None:
    """The focus style rides in index.html from the server's first script run on (index_page.py)."""
    open_page(page, url)
    open_page(page, url)


@pytest.mark.parametrize("present", ["", "?present=1"], ids=["normal", "presenting"])
def test_tab_reaches_every_control_with_a_visible_ring(app_url, page, present):
    """Every Tab stop draws a ring of at least 3:1 against what it sits on (WCAG 2.4.7, 1.4.11),
    on the selected segmented controls too, normal and presenting; the skip link comes first."""
    page.set_viewport_size({"width": 1400, "height": 3000})
    open_twice(page, f"{app_url}/convolution{present}")
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.textContent")
    assert "Skip to main content" in first              # Streamlit's skip link comes first
    unringed, faint, seen = [], [], 0
    for _ in range(60):
        page.keyboard.press("Tab")
        name = page.evaluate("""() => { let e = document.activeElement;
            while (e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
            return e.tagName + ' ' + (e.getAttribute('aria-label') || e.textContent || '').trim().slice(0, 40); }""")
        if name.startswith("BODY"):                     # past the last stop: the document itself
            continue
        seen += 1
        if not focus_ring(page):
            unringed.append(name)
        elif focus_ring_contrast(page) < 3:
            faint.append(f"{name}: {focus_ring_contrast(page):.2f}:1")
        if seen in (3, 12, 30):
            screenshot(page, f"a11y-focus-{seen}{'-presenting' if present else ''}")
    assert unringed == [] and faint == []
    page.locator("[data-testid=stSkipToContent]").focus()
    page.keyboard.press("Enter")                        # the skip link: the next Tab is in the main area
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('[data-testid=stMain]') !== null")


def said(page, picture) -> str:
    return picture.locator(".cz-said").inner_text()


def test_the_window_and_the_kernel_grid_without_the_mouse(app_url, page):
    page.set_viewport_size({"width": 1400, "height": 3000})
    open_twice(page, f"{app_url}/convolution?row=0&col=0")
    window = page.locator(".cz-pick").first
    tab_to(page, window)
    assert "window at row 0, column 0" in window.get_attribute("aria-label")
    for key in ("ArrowRight",) * 7 + ("ArrowDown",) * 4:
        page.keyboard.press(key)
    assert said(page, window) == "window at row 4, column 7. Enter picks it."
    assert window.locator(".cz-cursor").is_visible()     # the outline shows where the keys are
    screenshot(page, "a11y-window-cursor")
    page.keyboard.press("Enter")
    settle(page)
    assert "Output at row 4, column 7" in main_text(page)
    window = page.locator(".cz-pick").first
    assert focused(window)                                  # the focus stays for the next move
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    settle(page)
    assert "Output at row 4, column 6" in main_text(page)

    output = page.locator(".cz-pick").nth(1)
    tab_to(page, output)
    for key in ("End", "ArrowDown", "Enter"):
        page.keyboard.press(key)
    settle(page)
    assert re.search(r"Output at row 5, column 2[0-9]", main_text(page))

    cell = page.locator("input[aria-label='kernel row 1, column 1']").first
    tab_to(page, cell, back=True)
    page.keyboard.press("Control+A")
    page.keyboard.type("-1/2")
    page.keyboard.press("ArrowDown")                       # the caret moves to row 2 and sends
    assert focused(page.locator("input[aria-label='kernel row 2, column 1']").first)
    page.keyboard.press("End")
    page.keyboard.press("ArrowRight")
    assert focused(page.locator("input[aria-label='kernel row 2, column 2']").first)
    settle(page)
    assert page.locator("input[aria-label='kernel row 1, column 1']").first.input_value() == "-1/2"
    screenshot(page, "a11y-kernel-grid-focus")


def answer_with_keys(page, q: question_types.Question, value) -> None:
    """Reach the answer with Tab, give it by keys, press Enter (a form) or Check."""
    main = page.locator("[data-testid=stMain]")
    if q.kind == question_types.CHOICE:
        radios = main.locator("[data-testid=stRadio] input[type=radio]")
        check = main.get_by_role("button", name="Check")
        if not focused(check):
            tab_to(page, check, most=200)
        for _ in range(3):            # back from Check: the chosen radio, or the last if none is
            page.keyboard.press("Shift+Tab")
            if any(focused(r) for r in radios.all()):
                break
        assert any(focused(r) for r in radios.all())
        labels = [r.evaluate("e => e.closest('label').innerText.trim()") for r in radios.all()]
        target = labels.index(str(value))
        current = next((i for i, r in enumerate(radios.all()) if focused(r)), 0)
        page.keyboard.press("Space")                        # a group may start with none chosen
        for _ in range((target - current) % len(labels)):
            page.keyboard.press("ArrowDown")
        tab_to(page, main.get_by_role("button", name="Check"))
        page.keyboard.press("Enter")
    else:
        tab_to(page, main.locator("[data-testid=stTextInput] input"), most=200)
        page.keyboard.press("Control+A")
        page.keyboard.type(str(value))
        page.keyboard.press("Enter")
    settle(page)


def test_the_lesson_with_the_keyboard_alone(app_url, page):
    page.set_viewport_size({"width": 1400, "height": 3000})
    open_twice(page, f"{app_url}/lesson?step=1&seed=0")   # steps 2 and 8 are choices
    n = len(steps.STEPS)
    main = page.locator("[data-testid=stMain]")
    for step in range(1, n + 1):
        q = questions.question(step, 0)
        assert f"Step {step} of {n}" in main_text(page)
        if step == 2:   # one wrong answer on the way
            wrong = (next(c for c in q.choices if c != q.answer) if q.kind == question_types.CHOICE
                     else question_types.fmt(q.answer + 5))
            answer_with_keys(page, q, wrong)
            assert main.locator("[data-testid=stAlert]").filter(has_text="Not quite").count() == 1
        answer_with_keys(page, q, q.answer if q.kind == question_types.CHOICE else question_types.fmt(q.answer))
        assert main.locator("[data-testid=stAlert]").filter(has_text="Right.").count() == 1, (
            step, q.answer, q.choices, [a.inner_text() for a in main.locator("[data-testid=stAlert]").all()],
            [r.is_checked() for r in main.locator("[data-testid=stRadio] input[type=radio]").all()])
        if step < n:
            tab_to(page, main.get_by_role("button", name="Next"))
            page.keyboard.press("Enter")
            settle(page)
    assert "Answered 8 of 8" in main_text(page)


def test_the_confusion_matrix_without_the_mouse(app_url, page):
    page.set_viewport_size({"width": 1400, "height": 3000})
    open_twice(page, f"{app_url}/network?net=mnist")
    run = page.get_by_role("button", name="Run the network on the 1,000 test images")
    if run.count():                       # unless the server has run it already (shared_work.py)
        tab_to(page, run, most=300)
        page.keyboard.press("Enter")
    page.get_by_text("Hardest class").wait_for(timeout=90_000)
    settle(page)
    matrix = page.locator("[class*='st-key-net_confusion'] .cz-pick")
    tab_to(page, matrix, most=300)
    for key in ("ArrowUp",) * 9 + ("Home",):
        page.keyboard.press(key)
    assert said(page, matrix) == "cell at true class 0, answer 0. Enter picks it."
    page.keyboard.press("Enter")
    page.get_by_text("0 answered right").wait_for(timeout=60_000)
    screenshot(page, "a11y-confusion-keyboard")
