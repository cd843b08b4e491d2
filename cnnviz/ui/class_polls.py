"""Asking the class: the teacher picks a question, students answer on their devices, the
projector shows the live count and a histogram, then the reveal.

A question from the guided lesson keeps its step and question set at the start of its prompt
("Step 4, question set 4821: ..."), so every device can draw the question's pictures again
(cnnviz.lesson.questions is deterministic) and show the worked method at the reveal.
"""
from __future__ import annotations

import html
import re

import streamlit as st

from cnnviz import describe
from cnnviz.classroom import RoomError
from cnnviz.lesson import class_choices, questions, steps
from cnnviz.ui import lesson_visuals, share, widgets
from cnnviz.ui.plain_text import plain

LESSON_TAG = re.compile(r"^Step (\d+), question set (\d+): ")
MAX_PROMPT = 500          # Limits.max_prompt_chars
SOBEL_STEP = 2            # the convolution step holds the "which map is Sobel x?" pick
COMMON_WRONG = 3          # wrong answers named at the reveal


def _rooms():
    from cnnviz.ui import class_session
    return class_session.rooms()


# --------------------------------------------------------------------------- the question's text

def one_line(text: str, most: int = MAX_PROMPT) -> str:
    """A question's Markdown on one line (a room stores one line): lists become '; '."""
    text = re.sub(r"\n\s*-\s+", "; ", text.strip())
    text = re.sub(r"\s*\n+\s*", " ", text)
    return text if len(text) <= most else text[:most - 1].rstrip() + "…"


def lesson_prompt(q) -> str:
    return one_line(f"Step {q.step}, question set {q.seed}: {q.text}")


def lesson_question(prompt: str):
    """The lesson question a prompt names (lesson_prompt), or None for other questions."""
    found = LESSON_TAG.match(prompt)
    if not found:
        return None
    try:
        return questions.question(int(found.group(1)), int(found.group(2)))
    except ValueError:
        return None


def show_question(prompt: str, key: str) -> None:
    """The question as asked: a lesson question in full with its pictures, else its prompt."""
    q = lesson_question(prompt)
    if q is None:
        st.markdown(f"**{plain(prompt)}**")
        return
    st.caption(f"Lesson step {q.step} · {steps.STEPS[q.step - 1].title} · question set {q.seed}")
    st.markdown(q.text)
    lesson_visuals.show_visual(q, key)


def sobel_pick(seed: int):
    """The first "which map came from Sobel x?" question from `seed` on (a pick question)."""
    for s in range(seed, seed + 500):
        q = questions.question(SOBEL_STEP, s % (questions.SEED_MAX + 1))
        if q.topic == "which_sobel":
            return q
    raise LookupError("no Sobel pick question found")


# --------------------------------------------------------------------------- the teacher

def ask(me, poll: class_choices.ClassPoll, prompt: str) -> None:
    try:
        _rooms().ask(me.code, me.secret, prompt, list(poll.choices), poll.right, list(poll.why_wrong))
    except RoomError as e:
        st.session_state["class_ask_error"] = str(e)


def network_poll():
    """"What will the network answer?" for the current picture with the network chosen on
    /network (else the one for the picture's data): (poll, the network's name)."""
    from cnnviz import model_input
    from cnnviz.ui import preload
    preload.import_tensorflow()
    from cnnviz.ui import model_cache
    pic = widgets.current_picture()
    names = model_cache.available()
    name = st.session_state.get("net_model")
    if name not in names:
        dataset = "mnist" if pic.source == "drawing" else pic.dataset
        name = dataset if dataset in names else names[0]
    loaded = model_cache.load(name)
    x, _ = model_input.network_input(pic, loaded.probe.input_shape, loaded.card.get("dataset"))
    probs = loaded.probe.probabilities(x)
    return class_choices.network_answer(probs, loaded.card["class_names"]), name, pic.name


def ask_panel(me) -> None:
    """The teacher's choice of question: the lesson's, the network's answer or a pick."""
    kind = st.segmented_control(
        "Kind of question", ["Lesson question", "What will the network answer?", "Which map is Sobel x?"],
        default="Lesson question", required=True, key="class_ask_kind")
    if kind == "Lesson question":
        left, right = st.columns([3, 1])
        step = left.selectbox("Step", range(1, len(steps.STEPS) + 1), key="class_ask_step",
                              format_func=lambda s: f"{s} · {steps.STEPS[s - 1].title}",
                              index=_lesson_step() - 1)
        seed = right.number_input("Question set", 0, questions.SEED_MAX, key="class_ask_seed",
                                  value=int(st.session_state.get("lesson_seed") or 1000),
                                  help="Another number gives another question for the same step.")
        q = questions.question(int(step), int(seed))
        _preview_and_ask(me, q, class_choices.from_question(q), lesson_prompt(q))
    elif kind == "Which map is Sobel x?":
        seed = st.number_input("Question set", 0, questions.SEED_MAX, 1000, key="class_pick_seed")
        q = sobel_pick(int(seed))
        _preview_and_ask(me, q, class_choices.from_question(q), lesson_prompt(q))
    else:
        st.caption("The current picture (the sidebar's) and the network chosen on the Network "
                   "explorer page. Students see the picture on the explorer when it is a sample "
                   "or a class drawing; ask there, before anyone opens the prediction.")
        if st.button("Ask: what will the network answer?", type="primary", icon=":material/send:",
                     key="class_ask_network"):
            poll, name, picture = network_poll()
            ask(me, poll, one_line(f"What will the network ({name}) answer for this picture ({picture})?"))
    error = st.session_state.pop("class_ask_error", None)
    if error:
        st.error(plain(error), icon=":material/error:")


def _lesson_step() -> int:
    step = st.session_state.get("lesson_step") or 1
    return min(max(int(step), 1), len(steps.STEPS))


def _preview_and_ask(me, q, poll: class_choices.ClassPoll, prompt: str) -> None:
    with st.container(border=True):
        st.markdown(q.text)
        lesson_visuals.show_visual(q, "class_preview")
        st.caption("Choices: " + " · ".join(poll.choices))
    with share.secondary("class_answer_key"), st.expander("The answer (for you; hidden when presenting)"):
        st.markdown(f"**{poll.choices[poll.right]}**. {poll.explanation}")
    st.button("Ask the class", type="primary", icon=":material/send:", key="class_ask_lesson",
              on_click=ask, args=(me, poll, prompt))


def histogram_html(poll, right: int | None = None, large: bool = False) -> str:
    """The answers as bars, each with its choice, count and share written beside it (the text
    is the chart's own alternative)."""
    total = max(poll.answered, 1)
    top = max(max(poll.counts, default=0), 1)
    rows = []
    for i, (choice, n) in enumerate(zip(poll.choices, poll.counts)):
        mark = " ✓ right answer" if right == i else ""
        cls = "cz-right" if right == i else ""
        rows.append(
            f'<li class="{cls}"><span class="cz-choice">{html.escape(choice)}</span>'
            f'<span class="cz-track" aria-hidden="true"><span class="cz-fill" style="width:{100 * n / top:.1f}%"></span></span>'
            f'<span class="cz-count">{n} ({describe.percent(n / total) if poll.answered else "0 %"}){html.escape(mark)}</span></li>')
    size = 1.5 if large else 1.0
    return (f'<ul class="cz-histogram" aria-label="Answers per choice">{"".join(rows)}</ul><style>'
            f".cz-histogram {{ list-style: none; padding: 0; margin: 0.25rem 0; font-size: {size}rem; }}"
            ".cz-histogram li { display: grid; grid-template-columns: 8em 1fr 11em; "
            "gap: 0.75rem; align-items: center; margin: 0.3rem 0; }"
            ".cz-choice { font-weight: 600; color: #1f2330; }"
            ".cz-track { background: #eef0f4; border-radius: 0.3rem; height: 1.4em; min-width: 6rem; }"
            ".cz-fill { display: block; height: 100%; background: #1c5fd4; border-radius: 0.3rem; }"
            ".cz-right .cz-fill { background: #1b7f3b; } .cz-right .cz-choice { color: #1b7f3b; }"
            ".cz-count { color: #31333f; font-variant-numeric: tabular-nums; }</style>")


def results(me, poll, compact: bool = False) -> None:
    """The teacher's live count and histogram, the Reveal button, then the reveal."""
    with st.container(border=not compact, key=f"class_results_{'bar' if compact else 'page'}"):
        if not compact:
            show_question(poll.prompt, f"class_results_{poll.id}")
        else:
            st.markdown(f"**Question:** {_short(poll.prompt)}")
        students = len(_rooms().students(me.code))
        st.markdown(f"**{poll.answered}** of {students} answered" + (" · answers closed" if poll.revealed else ""))
        st.html(histogram_html(poll, poll.right, large=share.presenting() and not compact))
        if not poll.revealed:
            st.button("Reveal the answer", icon=":material/visibility:", type="primary",
                      key=f"class_reveal_{'bar' if compact else 'page'}", on_click=_reveal, args=(me,))
        else:
            reveal_text(poll)


def _short(prompt: str) -> str:
    q = lesson_question(prompt)
    return f"lesson step {q.step}, question set {q.seed}" if q else plain(prompt)


def _reveal(me) -> None:
    try:
        _rooms().reveal(me.code, me.secret)
    except RoomError as e:
        st.session_state["class_ask_error"] = str(e)


def reveal_text(poll) -> None:
    """The right answer, the share that had it, the common wrong answers and why they are wrong."""
    right = poll.right
    share_right = describe.percent(poll.counts[right] / poll.answered) if poll.answered else "nobody"
    st.success(f"The answer is **{plain(poll.choices[right])}**: {poll.counts[right]} of "
               f"{poll.answered} had it ({share_right}).", icon=":material/check_circle:")
    wrong = sorted((i for i in range(len(poll.choices)) if i != right and poll.counts[i]),
                   key=lambda i: -poll.counts[i])[:COMMON_WRONG]
    if wrong:
        st.markdown("**Common wrong answers**  \n" + "  \n".join(
            f"{plain(poll.choices[i])} ({poll.counts[i]}): {plain(poll.why_wrong[i]) if poll.why_wrong else ''}"
            for i in wrong))
    q = lesson_question(poll.prompt)
    if q is not None:
        with st.expander("The method"):
            st.markdown(q.explanation)


# --------------------------------------------------------------------------- a student

def _answer(me, poll_id: int, key: str, choices) -> None:
    picked = st.session_state.get(key)
    if picked is None:
        return
    try:
        _rooms().answer(me.code, me.secret, poll_id, list(choices).index(picked))
    except RoomError as e:
        st.session_state["class_answer_error"] = str(e)


def answer_box(me, poll, full: bool = False) -> None:
    """A student's answer to the open question (changeable until the reveal), then the result.
    full: with the question's pictures (the class page); else under the class bar."""
    with st.container(border=True, key="class_answer"):
        if full:
            show_question(poll.prompt, f"class_answer_{poll.id}")
        else:
            st.markdown(f":material/quiz: **The teacher asks:** {_short_for_student(poll.prompt)}")
        try:
            mine = _rooms().my_answer(me.code, me.secret, poll.id)
        except RoomError:
            mine = None
        if not poll.revealed:
            key = f"class_answer_{poll.id}"
            if mine is not None and st.session_state.get(key) is None:
                st.session_state[key] = poll.choices[mine]
            st.radio("Your answer", poll.choices, index=None, horizontal=True, key=key,
                     on_change=_answer, args=(me, poll.id, key, poll.choices))
            error = st.session_state.pop("class_answer_error", None)
            if error:
                st.error(plain(error), icon=":material/error:")
            elif mine is not None:
                st.caption(f"Sent: {plain(poll.choices[mine])}. You can change it until the teacher shows the answer.")
            return
        right = poll.right
        if mine is None:
            st.info(f"The answer is **{plain(poll.choices[right])}**. You did not answer this one.")
        elif mine == right:
            st.success(f"Right: **{plain(poll.choices[right])}**.", icon=":material/check_circle:")
        else:
            st.warning(f"The answer is **{plain(poll.choices[right])}**. You said {plain(poll.choices[mine])}: "
                       f"{plain(poll.why_wrong[mine]) if poll.why_wrong else ''}", icon=":material/lightbulb:")


def _short_for_student(prompt: str) -> str:
    q = lesson_question(prompt)
    return one_line(q.text, 300) if q else plain(prompt)

