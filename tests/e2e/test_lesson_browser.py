"""/lesson in a real Chromium: answer questions as a student does, walk every step with Next."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from cnnviz.lesson import question_types, questions, steps
from conftest import main_text, screenshot, settle

pytestmark = pytest.mark.browser
N = len(steps.STEPS)


def url_params(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


def no_exception(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0


def alerts(page, text: str):
    return page.locator("[data-testid=stMain] [data-testid=stAlert]").filter(has_text=text)


def give(page, q: question_types.Question, value) -> None:
    """Type or pick an answer and press Check, as a student does."""
    main = page.locator("[data-testid=stMain]")
    if q.kind == question_types.CHOICE:
        main.locator("[data-testid=stRadio] label").filter(has_text=value).click()
        main.get_by_role("button", name="Check").click()
    else:
        box = main.locator("[data-testid=stTextInput] input")
        box.fill(str(value))
        box.press("Enter")                      # Enter submits the form
    settle(page)
    no_exception(page)


def test_a_student_answers_and_walks_the_whole_lesson(app_url, page):
    page.goto(f"{app_url}/lesson")
    settle(page)
    no_exception(page)
    seed = int(url_params(page)["seed"])                 # a question set drawn for this visit
    assert f"Your question set: {seed}" in main_text(page)

    # the first question, answered right: a short why, and the progress counts it
    q = questions.question(1, seed)
    give(page, q, question_types.fmt(q.answer))
    assert alerts(page, "Right.").count() == 1
    assert "Answered 1 of 8; right at the first try: 1." in main_text(page)

    for step in range(1, N + 1):
        q = questions.question(step, seed)
        text = main_text(page)
        assert f"Step {step} of {N}" in text and steps.STEPS[step - 1].title in text
        if step == 2:                               # a wrong answer: the method, not just the number
            wrong = (next(c for c in q.choices if c != q.answer) if q.kind == question_types.CHOICE
                     else q.answer + 5)
            give(page, q, wrong if q.kind == question_types.CHOICE else question_types.fmt(wrong))
            assert alerts(page, "Not quite").count() == 1
        elif step == 3:                             # a bad typed value: one line, nothing counted
            if q.kind == question_types.NUMBER:
                give(page, q, "abc")
                error = alerts(page, "not a number")
                line = error.locator("[data-testid=stMarkdownContainer]").inner_text().strip()
                assert error.count() == 1 and "\n" not in line and line.startswith("Your answer holds 'abc'")
        elif step > 1:
            give(page, q, q.answer if q.kind == question_types.CHOICE else question_types.fmt(q.answer))
            assert alerts(page, "Right.").count() == 1
        if step > 1:
            assert url_params(page) == {"seed": str(seed), "step": str(step)}
        screenshot(page, f"lesson-step-{step}")
        next_button = page.locator("[data-testid=stMain]").get_by_role("button", name="Next")
        if step < N:
            next_button.click()
            settle(page)
            no_exception(page)
        else:
            assert next_button.is_disabled()
    text = main_text(page)
    assert "End of the lesson" in text and "right at the first try" in text


def test_a_link_reopens_the_same_step_and_question(app_url, page):
    page.goto(f"{app_url}/lesson?step=5&seed=7")
    settle(page)
    no_exception(page)
    text = main_text(page)
    assert "Step 5 of 8" in text and "Your question set: 7" in text
    first_line = questions.question(5, 7).text.split("**")[0].strip()
    assert first_line in text
    page.goto(f"{app_url}/lesson?step=99&seed=abc")
    settle(page)
    no_exception(page)
    warning = alerts(page, "could not be used")
    assert warning.count() == 1 and "step (99 is outside 1 to 8)" in warning.inner_text()
    assert "Step 1 of 8" in main_text(page)
