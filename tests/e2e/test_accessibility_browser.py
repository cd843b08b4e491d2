"""WCAG 2.1 AA in a real Chromium, checked by axe-core: every page, normal and presenting, and the
states people reach (a kernel edited, every "why" method shown, a lesson question answered right
and wrong, an upload refused, a training run finished). No critical or serious violation."""
from __future__ import annotations

import pytest

from a11y_checks import axe_problems
from cnnviz.lesson import question_types, questions
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


def test_a_kernel_edited(app_url, page):
    open_page(page, f"{app_url}/convolution")
    cell = page.locator("input[aria-label='kernel row 1, column 1']").first
    cell.fill("-2")
    cell.press("Enter")
    settle(page)
    assert page.locator("input[aria-label='kernel row 1, column 1']").first.input_value() == "-2"
    assert axe_problems(page) == []


def test_every_why_method_shown(app_url, page):
    page.set_viewport_size({"width": 1400, "height": 3000})
    open_page(page, f"{app_url}/network?net=mnist")
    text = main_text(page)
    for method in ("Saliency", "Grad-CAM", "Integrated gradients", "Occlusion"):
        assert method.lower() in text.lower(), method
    assert axe_problems(page) == []


def test_a_lesson_question_answered_right_and_wrong(app_url, page):
    open_page(page, f"{app_url}/lesson?step=1&seed=3")
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


def test_a_training_run_finished(app_url, page):
    page.set_viewport_size({"width": 1400, "height": 2600})
    open_page(page, f"{app_url}/train")
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_function("document.body.innerText.match(/Step [1-9][\\d,]* of/)", timeout=90_000)
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text("Test accuracy", exact=True).wait_for(timeout=90_000)
    settle(page)
    assert axe_problems(page) == []
    screenshot(page, "a11y-train-finished")
