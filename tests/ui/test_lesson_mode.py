"""AppTest tests for /lesson, the guided path: steps, questions, feedback, links and progress."""
from __future__ import annotations

import pathlib
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.lesson import question_types, questions, steps
from cnnviz.ui import page_list

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = "cnnviz/ui/pages/lesson.py"
N = len(steps.STEPS)


def open_lesson(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def link(at: AppTest) -> dict[str, str]:
    return {k: at.query_params[k][-1] if isinstance(at.query_params[k], list) else at.query_params[k]
            for k in at.query_params}


def step_and_seed(at: AppTest) -> tuple[int, int]:
    return at.session_state["lesson_step"], at.session_state["lesson_seed"]


def current_question(at: AppTest) -> question_types.Question:
    step, seed = step_and_seed(at)
    return questions.question(step, seed)


def shown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.main.markdown)


def answer(at: AppTest, value) -> AppTest:
    """Type (or pick) an answer and press Check."""
    step, seed = step_and_seed(at)
    q = current_question(at)
    key = f"lesson_answer_{seed}_{step}"
    if q.kind == question_types.CHOICE:
        at.radio(key=key).set_value(value)
    else:
        at.text_input(key=key).set_value(value)
    at.button(key=f"FormSubmitter:lesson_form_{seed}_{step}-Check").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def wrong_answer(q: question_types.Question):
    if q.kind == question_types.CHOICE:
        return next(c for c in q.choices if c != q.answer)
    return str(q.answer + 7)


def right_answer(q: question_types.Question):
    return q.answer if q.kind == question_types.CHOICE else question_types.fmt(q.answer)


def page_links(at: AppTest) -> list:
    return [el for el in at.main if getattr(el, "type", "") == "page_link"]


# --------------------------------------------------------------------------- opening and walking

@pytest.mark.slow
def test_the_lesson_opens_at_step_1_with_a_question_set_of_its_own():
    at = open_lesson()
    assert not at.error and not at.warning
    step, seed = step_and_seed(at)
    assert step == 1 and 1000 <= seed <= 9999
    assert link(at) == {"seed": str(seed)}                     # step 1 is the default: left out
    assert at.main.get("popover")[0].proto.popover.label == f"Your question set: {seed}"
    assert at.get("progress")[0].proto.text.startswith(f"**Step 1 of {N}**")
    assert questions.question(1, seed).text in shown(at)
    assert steps.STEPS[0].text in shown(at)
    assert at.button(key="lesson_previous").disabled and not at.button(key="lesson_next").disabled
    other = open_lesson()
    # seeds are drawn at random: two visitors share one 1 time in 9,000, so a third gets a try
    assert step_and_seed(other)[1] != seed or step_and_seed(open_lesson())[1] != seed


def test_walk_every_step_with_next_answering_wrong_then_right():
    at = open_lesson({"seed": "4821"})
    for step in range(1, N + 1):
        assert step_and_seed(at) == (step, 4821)
        q = questions.question(step, 4821)
        assert q.text in shown(at)
        assert at.get("progress")[0].proto.text.startswith(f"**Step {step} of {N}**")
        assert link(at) == ({"seed": "4821"} if step == 1 else {"seed": "4821", "step": str(step)})
        if step % 2:                        # odd steps: wrong first (the method), then right
            answer(at, wrong_answer(q))
            assert not at.success and len(at.warning) == 1
            assert at.warning[0].value.startswith("**Not quite**") and q.explanation in at.warning[0].value
            answer(at, right_answer(q))
        else:                               # even steps: right at once (a short why)
            answer(at, right_answer(q))
        assert len(at.success) == 1 and q.why in at.success[0].value and not at.warning
        assert not at.error
        if step < N:
            at.button(key="lesson_next").click().run()
            assert not at.exception
    assert at.button(key="lesson_next").disabled
    badges = next(m.value for m in at.main.markdown if "-badge[" in m.value)
    assert badges.count(":green-badge[") == N // 2 and badges.count(":orange-badge[") == N - N // 2
    end = shown(at)
    assert f"You answered **{N} of {N}** questions and got **{N // 2}** right at the first try" in end


def test_previous_goes_back_and_keeps_the_answer_given():
    at = open_lesson({"seed": "321"})
    q1 = current_question(at)
    answer(at, wrong_answer(q1))
    at.button(key="lesson_next").click().run()
    at.button(key="lesson_previous").click().run()
    assert step_and_seed(at) == (1, 321)
    assert len(at.warning) == 1 and "Not quite" in at.warning[0].value
    badges = next(m.value for m in at.main.markdown if "-badge[" in m.value)
    assert ":red-badge[:material/close: 1 · " in badges


@pytest.mark.parametrize("typed", ["abc", "1e999", "", "   ", "x" * 10_000, "nan", "1/0"])
def test_bad_typed_values_give_one_line_and_no_traceback(typed):
    at = open_lesson({"seed": "11", "step": "6"})
    assert current_question(at).kind == question_types.NUMBER
    answer(at, typed)
    assert len(at.error) == 1 and "\n" not in at.error[0].value and len(at.error[0].value) < 160
    assert not at.success and not at.warning                    # not counted as an answer
    assert at.session_state["lesson_results"] == {}
    answer(at, right_answer(current_question(at)))             # a good answer still works after it
    assert len(at.success) == 1 and not at.error


def test_a_choice_question_without_a_choice_says_so():
    seed = next(s for s in range(500) if questions.question(8, s).kind == question_types.CHOICE)
    at = open_lesson({"seed": str(seed), "step": "8"})
    at.button(key=f"FormSubmitter:lesson_form_{seed}_8-Check").click().run()
    assert not at.exception and [e.value for e in at.error] == ["Pick one of the answers first."]
    assert len(at.get("plotly_chart")) == 3                    # the three runs' curves


# --------------------------------------------------------------------------- links

def test_a_link_resumes_at_its_step_with_the_same_question_as_a_fresh_session():
    at = open_lesson({"step": "5", "seed": "7"})
    assert step_and_seed(at) == (5, 7) and not at.warning
    linked = [m.value for m in at.main.markdown]
    fresh = open_lesson({"seed": "7"})
    for _ in range(4):
        fresh.button(key="lesson_next").click().run()
    assert step_and_seed(fresh) == (5, 7)
    assert [m.value for m in fresh.main.markdown] == linked
    assert questions.question(5, 7).text in linked
    assert link(fresh) == {"step": "5", "seed": "7"}


@pytest.mark.parametrize("query, problems", [
    ({"step": "99", "seed": "abc"}, ["step (99 is outside 1 to 8)", "seed ('abc' is not a whole number"]),
    ({"step": "0", "seed": "12"}, ["step (0 is outside 1 to 8)"]),
    ({"step": "3", "seed": "1e9"}, ["seed ('1e9' is not a whole number"]),
    ({"step": "x" * 5000}, ["all of it was ignored"]),
])
def test_bad_link_values_fall_back_one_by_one_with_one_warning(query, problems):
    at = open_lesson(query)
    assert not at.error
    assert len(at.warning) == 1
    warning = at.warning[0].value
    assert warning.startswith("Some settings in this link could not be used")
    for p in problems:
        assert p in warning
    step, seed = step_and_seed(at)
    if query.get("step") == "3":
        assert step == 3                                       # the good value is kept
    else:
        assert step == 1
    if query.get("seed") == "12":
        assert seed == 12
    else:
        assert 1000 <= seed <= 9999                            # a fresh set was drawn
    assert questions.question(step, seed).text in shown(at)


def test_another_question_set_can_be_opened_by_number_or_drawn():
    at = open_lesson({"seed": "55", "step": "4"})
    at.number_input(key="lesson_seed_input_55").set_value(4821).run()
    at.button(key="lesson_open_set").click().run()
    assert step_and_seed(at) == (1, 4821) and link(at) == {"seed": "4821"}
    at.button(key="lesson_new_set").click().run()
    step, seed = step_and_seed(at)
    assert step == 1 and seed != 4821 and 1000 <= seed <= 9999
    assert not at.exception and not at.error


@pytest.mark.slow
def test_every_step_links_to_its_page_with_settings_the_page_accepts():
    at = open_lesson({"seed": "5"})
    pages = {p.url_path: p.path for p in [page_list.HOME, *page_list.LESSON]}
    for step, info in enumerate(steps.STEPS, start=1):
        found = [el for el in page_links(at) if el.proto.label.startswith("Open ")]
        assert len(found) == 1
        target = found[0].proto
        query = {k: v[-1] for k, v in parse_qs(target.query_string).items()}
        assert query == info.try_query
        page = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        for k, v in query.items():
            page.query_params[k] = v
        page.switch_page(pages[info.try_page])
        page.run()
        assert not page.exception, (info.key, [e.value for e in page.exception])
        assert not page.warning, (info.key, [w.value for w in page.warning])   # every value was used
        if step < N:
            at.button(key="lesson_next").click().run()


def test_a_network_question_links_to_the_train_page_after_an_answer():
    seed = next(s for s in range(500) if questions.question(7, s).topic == "network_shape")
    q = questions.question(7, seed)
    at = open_lesson({"seed": str(seed), "step": "7"})
    assert not [el for el in page_links(at) if el.proto.label.startswith("See it")]
    answer(at, right_answer(q))
    see = [el.proto for el in page_links(at) if el.proto.label.startswith("See it")]
    assert len(see) == 1 and see[0].page == "train"
    assert {k: v[-1] for k, v in parse_qs(see[0].query_string).items()} == dict(q.check_link[1])


def test_home_has_a_guided_lesson_card_first():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    assert not at.exception
    links = [el.proto for el in page_links(at)]
    assert links[0].page == "lesson" and "Guided lesson" in links[0].label
    assert page_list.cards()[0].url_path == "lesson"
