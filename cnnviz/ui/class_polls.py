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

from cnnviz import describe, samples
from cnnviz.classroom import RoomError
from cnnviz.lesson import class_choices, questions, steps
from cnnviz.ui import figures, lesson_visuals, share, st_image, widgets
from cnnviz.ui.plain_text import plain

LESSON_TAG = re.compile(r"^Step (\d+), question set (\d+): ")
PICTURE_TAG = re.compile(r" \[picture: (sample|drawing) ([A-Za-z0-9_.-]{1,64})\]$")   # the network's question
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


def show_question(me, prompt: str, key: str) -> None:
    """The question as asked: a lesson question in full with its pictures; the network's
    question with its picture; else its prompt."""
    q = lesson_question(prompt)
    if q is not None:
        st.caption(f"Lesson step {q.step} · {steps.STEPS[q.step - 1].title} · question set {q.seed}")
        st.markdown(q.text)
        lesson_visuals.show_visual(q, key)
        return
    st.markdown(f"**{plain(PICTURE_TAG.sub('', prompt))}**")
    pixels = question_picture(me, prompt)
    if pixels is not None:
        st_image.show(figures.picture_image(pixels, share.scaled(200)),
                      alt=describe.picture(pixels, "The picture the question is about"))


def question_picture(me, prompt: str):
    """The pixels of the picture the network's question names (a sample or a class drawing)."""
    found = PICTURE_TAG.search(prompt)
    if not found:
        return None
    kind, name = found.groups()
    try:
        if kind == "sample":
            return samples.load_sample(name).pixels
        from cnnviz.ui import class_gallery
        drawing = next((d for d in _rooms().gallery(me.code) if d.id == name), None)
        return None if drawing is None else class_gallery.picture(drawing).pixels
    except (KeyError, ValueError, RoomError):
        return None


def picture_tag() -> str:
    """The current picture as a tag students' devices can show, or "" for a private one."""
    origin = st.session_state.get(widgets.ORIGIN_KEY) or ()
    if origin[:1] == ("sample",):
        return f" [picture: sample {origin[1]}]"
    if origin[:1] == ("class",):
        return f" [picture: drawing {origin[-1]}]"
    return ""


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


def network_poll(name: str):
    """"What will the network answer?" for the current picture, by the network `name`."""
    from cnnviz import model_input
    from cnnviz.ui import preload
    preload.import_tensorflow()
    from cnnviz.ui import model_cache
    loaded = model_cache.load(name)
    x, _ = model_input.network_input(widgets.current_picture(), loaded.probe.input_shape,
                                     loaded.card.get("dataset"))
    return class_choices.network_answer(loaded.probe.probabilities(x), loaded.card["class_names"])


def _network_panel(me) -> None:
    from cnnviz.ui import preload
    with st.spinner("Starting TensorFlow (only the first time)…"):
        preload.import_tensorflow()
    from cnnviz import models
    from cnnviz.ui import model_cache
    pic = widgets.current_picture()
    names = model_cache.available()
    dataset = "mnist" if pic.source == "drawing" else pic.dataset
    left, right = st.columns([1, 3], vertical_alignment="center")
    st_image.show(figures.picture_image(pic.pixels, 140), where=left,
                  alt=describe.picture(pic.pixels, f"The picture {plain(pic.name)}"))
    with right:
        name = st.selectbox("Network", names, key="class_ask_net",
                            index=names.index(dataset) if dataset in names else 0,
                            format_func=lambda n: f"{n} ({models.PRETRAINED[n].get('dataset', '?')})")
        tag = picture_tag()
        st.caption(f"The picture: {plain(pic.name)} (choose another in the sidebar). "
                   + ("Students see it with the question." if tag else
                      "It is your own picture, so students see it only on the projector; a sample "
                      "or a class drawing travels to their screens."))
    st.button("Ask: what will the network answer?", type="primary", icon=":material/send:",
              key="class_ask_network", on_click=lambda: ask(
                  me, network_poll(name), f"What will the network ({name}) answer for this picture?" + tag))


def ask_panel(me) -> None:
    """The teacher's choice of question: the lesson's, the network's answer or a pick."""
    kind = st.segmented_control(
        "Kind of question", ["Lesson question", "What will the network answer?", "Which map is Sobel x?"],
        default="Lesson question", required=True, key="class_ask_kind") or "Lesson question"
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
        _network_panel(me)
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


def results(me, poll, students: int, compact: bool = False) -> None:
    """The teacher's live count and histogram, the Reveal button, then the reveal (the question
    itself is drawn once, outside the part that refreshes: show_question)."""
    where = "bar" if compact else "page"
    if compact:
        st.markdown(f"**Question:** {_short(poll.prompt)}")
    st.markdown(f"**{poll.answered}** of {students} answered" + (" · answers closed" if poll.revealed else ""))
    st.html(histogram_html(poll, poll.right, large=share.presenting() and not compact))
    if not poll.revealed:
        st.button("Reveal the answer", icon=":material/visibility:", type="primary",
                  key=f"class_reveal_{where}", on_click=_reveal, args=(me,))
    else:
        reveal_text(poll)


def _short(prompt: str) -> str:
    q = lesson_question(prompt)
    return f"lesson step {q.step}, question set {q.seed}" if q else plain(PICTURE_TAG.sub("", prompt))


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
    full: with the question's pictures (the class page); else under the class bar, where an
    answered question shrinks to one line."""
    if not full and poll.revealed:
        try:
            mine = _rooms().my_answer(me.code, me.secret, poll.id)
        except RoomError:
            mine = None
        verdict = ("You were right." if mine == poll.right else
                   "You did not answer." if mine is None else f"You said {plain(poll.choices[mine])}.")
        st.caption(f":material/quiz: The last question's answer: **{plain(poll.choices[poll.right])}**. {verdict}")
        return
    with st.container(border=True, key="class_answer"):
        if full:
            show_question(me, poll.prompt, f"class_answer_{poll.id}")
        else:
            st.markdown(f":material/quiz: **The teacher asks:** {_short_for_student(poll.prompt)}")
            pixels = question_picture(me, poll.prompt)
            if pixels is not None:
                st_image.show(figures.picture_image(pixels, 120), alt=describe.picture(pixels, "The picture"))
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
    return one_line(q.text, 300) if q else plain(PICTURE_TAG.sub("", prompt))

