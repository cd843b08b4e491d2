"""Guided lesson: the lesson's steps in order, each with one thing to try and a question.

The steps and questions come from cnnviz.lesson (seeded, checked there); this page only shows them and
keeps track of the answers. The step and the question set live in the address bar
(?step=3&seed=4821), so a student can come back to the same questions.
"""
from __future__ import annotations

import streamlit as st

from cnnviz.lesson import answers, question_types, questions, steps
from cnnviz.ui import accessible, lesson_visuals, page_list, share, url_state
from cnnviz.ui.plain_text import plain

STEP_KEY, SEED_KEY, RESULTS_KEY = "lesson_step", "lesson_seed", "lesson_results"
PROBLEM_KEY = "lesson_problem"     # (seed, step, one line) of an answer that could not be judged
N = len(steps.STEPS)
PARAMS = [
    url_state.integer("step", STEP_KEY, 1, N, 1),
    url_state.integer("seed", SEED_KEY, 0, questions.SEED_MAX, None),   # None: draw one
]
PAGES = {page_list.HOME.url_path: (page_list.HOME.path, page_list.HOME.title),
         **{p.url_path: (p.path, p.title) for p in page_list.LESSON}}

url_state.restore(PARAMS, "lesson")
state = st.session_state
if state.get(SEED_KEY) is None:
    state[SEED_KEY] = questions.new_seed()
state[STEP_KEY] = min(max(int(state.get(STEP_KEY) or 1), 1), N)
seed, step = int(state[SEED_KEY]), int(state[STEP_KEY])
results: dict = state.setdefault(RESULTS_KEY, {})

share.page_header("Guided lesson")
share.intro(
    "One path through the lesson, from the picture as numbers to a trained network. Each step "
    "explains one idea, opens the page where you can try it, and asks a question that is checked "
    "at once. Keep the link (or your question set's number) to come back to the same questions.")


# --------------------------------------------------------------------------- navigation and progress

def go_to(target: int) -> None:
    state[STEP_KEY] = min(max(target, 1), N)


def open_set(new_seed: int) -> None:
    state[SEED_KEY] = int(new_seed)
    state[STEP_KEY] = 1


def submit(q: question_types.Question, answer_key: str) -> None:
    """The Check button (a callback, so the progress above the question already counts it)."""
    try:
        feedback = answers.check(q, state.get(answer_key))
    except answers.AnswerError as exc:
        state[PROBLEM_KEY] = (q.seed, q.step, str(exc))
        return
    record = results.get((q.seed, q.step))
    results[(q.seed, q.step)] = {"first": record["first"] if record else feedback.correct,
                                 "last": feedback}


def status(s: int) -> str | None:
    """'right' (at the first try), 'corrected' (right after a wrong try), 'wrong' or None."""
    record = results.get((seed, s))
    if record is None:
        return None
    if record["first"]:
        return "right"
    return "corrected" if record["last"].correct else "wrong"


def badge(s: int) -> str:
    title = f"{s} · {steps.STEPS[s - 1].title}"
    marks = {"right": ":green-badge[:material/check: {}]", "corrected": ":orange-badge[:material/replay: {}]",
             "wrong": ":red-badge[:material/close: {}]",
             None: ":primary-badge[:material/arrow_right: {}]" if s == step else ":gray-badge[{}]"}
    text = marks[status(s)].format(title)
    return f"**{text}**" if s == step else text


head, seed_box = st.columns([3, 1], vertical_alignment="bottom")
with head:
    st.progress(step / N, text=f"**Step {step} of {N}** · {steps.STEPS[step - 1].title}")
with seed_box, st.container(horizontal=True, horizontal_alignment="right"):
    with st.popover(f"Your question set: {seed}", icon=":material/casino:"):
        st.caption("Your questions are drawn from this number: keep it (or the link) to come back "
                   "to the same questions. Other numbers give other questions.")
        st.number_input("Question set", value=seed, step=1,
                        **url_state.widget(PARAMS, SEED_KEY, f"lesson_seed_input_{seed}"))
        with st.container(horizontal=True, gap="small"):
            st.button("Open this set", key="lesson_open_set", on_click=lambda: open_set(
                state.get(f"lesson_seed_input_{seed}", seed)))
            st.button("Draw a new set", key="lesson_new_set",
                      on_click=lambda: open_set(questions.new_seed()))
done = [s for s in range(1, N + 1) if status(s)]
right = [s for s in range(1, N + 1) if status(s) == "right"]
st.markdown(" ".join(badge(s) for s in range(1, N + 1)))
if done:
    st.caption(f"Answered {len(done)} of {N}; right at the first try: {len(right)}.")


# --------------------------------------------------------------------------- the step

info = steps.STEPS[step - 1]
q = questions.question(step, seed)
text_col, try_col = st.columns([3, 2], gap="large")

with text_col:
    st.header(f"{step}. {info.title}", anchor=False)
    st.markdown(info.text)

with try_col, st.container(border=True):
    st.markdown(f"**One thing to try:** {info.try_label}")
    path, page_title = PAGES[info.try_page]
    query = dict(info.try_query)
    if share.presenting():
        query["present"] = "1"
    st.page_link(path, label=f"Open {page_title}", icon=":material/open_in_new:", query_params=query)
    st.caption(info.try_hint)

with st.container(border=True):
    st.subheader("Question", anchor=False)
    st.markdown(q.text)
    lesson_visuals.show_visual(q, f"lesson_{seed}")
    answer_key = f"lesson_answer_{seed}_{step}"
    with st.form(f"lesson_form_{seed}_{step}", border=False), \
            st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        if q.kind == question_types.CHOICE:
            st.radio("Your answer", q.choices, index=None, horizontal=True, key=answer_key)
        else:
            st.text_input("Your answer", key=answer_key, placeholder=q.hint, max_chars=64,
                          width=share.scaled(260))
        st.form_submit_button("Check", type="primary", icon=":material/task_alt:", on_click=submit,
                              args=(q, answer_key))
    problem = state.pop(PROBLEM_KEY, None)
    record = results.get((seed, step))
    if problem and problem[:2] == (seed, step):
        problem = problem[2]
        st.error(plain(problem), icon=":material/error:")
    elif record:
        feedback = record["last"]
        if feedback.correct:
            st.success(feedback.message, icon=":material/check_circle:")
            # st.warning and st.error are role="alert" already; a success is a quiet role="status"
            # that is inserted with its text, which screen readers skip, so it is said here.
            accessible.announce("lesson_feedback", f"Right. {feedback.message}")
        else:
            st.warning(feedback.message, icon=":material/lightbulb:")
        if q.check_link:
            where, params = q.check_link
            path, page_title = PAGES[where]
            st.page_link(path, label=f"See it on the {page_title} page", icon=":material/open_in_new:",
                         query_params=dict(params))

with st.container(horizontal=True, horizontal_alignment="distribute", vertical_alignment="center"):
    st.button("Previous", icon=":material/arrow_back:", key="lesson_previous", disabled=step == 1,
              on_click=go_to, args=(step - 1,))
    st.caption(f"Step {step} of {N}")
    st.button("Next", icon=":material/arrow_forward:", icon_position="right", key="lesson_next",
              type="primary", disabled=step == N, on_click=go_to, args=(step + 1,))

if step == N:
    with st.container(border=True):
        st.subheader("End of the lesson", anchor=False)
        if done:
            missing = [s for s in range(1, N + 1) if not status(s)]
            st.markdown(f"You answered **{len(done)} of {N}** questions and got **{len(right)}** "
                        "right at the first try."
                        + (f" Not answered yet: step {', '.join(map(str, missing))}." if missing else ""))
        else:
            st.markdown("Answer the questions to see your score here.")
        with st.container(horizontal=True, gap="small"):
            st.button("Back to step 1", key="lesson_restart", on_click=go_to, args=(1,))
            st.button("New question set", key="lesson_new_set_end", icon=":material/casino:",
                      on_click=lambda: open_set(questions.new_seed()))
