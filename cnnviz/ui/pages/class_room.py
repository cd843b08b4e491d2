"""A live class: the teacher starts a room, students join with its code on their phones, follow
the teacher's screen, answer questions and send drawings to the class gallery."""
from __future__ import annotations

import html
import io

import streamlit as st

from cnnviz.classroom import Limits, RoomError, codes
from cnnviz.ui import class_gallery, class_polls, class_session, share, url_state
from cnnviz.ui.plain_text import plain

DRAW = url_state.choice("draw", class_gallery.ASKED_KEY, class_gallery.DIGITS, None, what="digit")
NOTE_KEY = "class_page_note"     # (kind, one line) from a button's callback, shown once

url_state.restore([DRAW], "class")
share.page_header("A live class")
me = class_session.member()
rooms = class_session.rooms()
LIMITS = Limits()


def note(kind: str, text: str) -> None:
    st.session_state[NOTE_KEY] = (kind, text)


def show_note() -> None:
    found = st.session_state.pop(NOTE_KEY, None)
    if found:
        kind, text = found
        {"error": st.error, "success": st.success, "info": st.info}[kind](plain(text))


def kept_and_how_long() -> None:
    codes_count = len(codes.ALPHABET) ** codes.LENGTH
    hours = LIMITS.teacher_absent_seconds / 3600
    with share.secondary("class_privacy"), st.expander("What is kept, and for how long", icon=":material/lock:"):
        st.markdown(
            f"- No accounts. A student gives only a nickname (at most {LIMITS.max_nickname_chars} "
            "characters; it need not be a real name).\n"
            "- The room holds the nicknames, the answers to the teacher's questions and the "
            "drawings sent to the gallery, on this server only, and nothing else. Everything in a "
            f"room is deleted when the teacher ends the class, or {hours:g} hours after the "
            "teacher's page was last open.\n"
            f"- Limits: {LIMITS.max_students} students per class, {LIMITS.max_drawings_per_student} "
            f"drawings per student, {LIMITS.max_rooms} classes at once on this server.\n"
            f"- Codes cannot be guessed in practice: there are {codes_count:,} codes "
            f"({len(codes.ALPHABET)} letters and digits, {codes.LENGTH} places), so one guess finds one "
            f"of at most {LIMITS.max_rooms} running classes with a chance of 1 in "
            f"{codes_count // LIMITS.max_rooms:,}; after {LIMITS.joins_per_minute} wrong codes in a "
            "minute an address must wait. Only the teacher's secret link can steer a class.")


# --------------------------------------------------------------------------- not in a class

def start() -> None:
    try:
        teacher = rooms.start()
    except RoomError as e:
        note("error", str(e))
        return
    class_session.become_teacher(teacher.code, teacher.key)


def client_address() -> str:
    """Who is joining, for the limit on failed joins: the browser's address, or behind a proxy on
    this machine (HAProxy, nginx) the address that proxy appended to X-Forwarded-For (the last
    one: what came before it the browser could have written itself)."""
    peer = st.context.ip_address
    if not isinstance(peer, str) or not peer:
        return "unknown"
    if peer in ("127.0.0.1", "::1"):
        forwarded = (st.context.headers.get("X-Forwarded-For") or "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:100]
    return peer


def join() -> None:
    state = st.session_state
    try:
        code = codes.parse_code(state.get("class_join_code") or "")
        seat = rooms.join(code, state.get("class_join_nickname") or "", client_address())
    except RoomError as e:
        note("error", str(e))
        return
    class_session.become_student(code, seat)


def outside() -> None:
    share.intro(
        "The teacher starts a class and projects its code. Students open this page on a phone or "
        "laptop, type the code and a nickname, and then see what the teacher shows: when the "
        "teacher opens a page or changes a setting, their screens follow within a second. They "
        "answer the teacher's questions and send drawings to the class gallery, where a network "
        "reads them all.")
    show_note()
    linked = st.session_state.get(class_session.ROOM_KEY)
    if linked and "class_join_code" not in st.session_state:
        st.session_state["class_join_code"] = linked
    join_col, teach_col = st.columns(2, gap="large")
    with join_col, st.container(border=True):
        st.header("Join a class", anchor=False)
        with st.form("class_join", border=False):
            st.text_input("Class code", key="class_join_code", max_chars=4 * codes.LENGTH,
                          placeholder="e.g. AB3K7Q", help="The code on the teacher's screen.")
            st.text_input("Nickname", key="class_join_nickname", max_chars=LIMITS.max_nickname_chars,
                          placeholder="Shown to the teacher")
            st.form_submit_button("Join", type="primary", icon=":material/login:", on_click=join)
    with teach_col, st.container(border=True):
        st.header("Teach a class", anchor=False)
        st.markdown("Start a room: you get a code and a QR code to project, and a secret teacher "
                    "link that opens the class again on another device.")
        st.button("Start a class", type="primary", icon=":material/co_present:", key="class_start",
                  on_click=start)
    kept_and_how_long()


# --------------------------------------------------------------------------- the teacher

def qr_png(link: str) -> bytes:
    import segno
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=10, border=2)
    return out.getvalue()


def end_class() -> None:
    try:
        rooms.end(me.code, me.secret)
    except RoomError as e:
        note("error", str(e))
        return
    class_session.leave()
    note("success", f"The class {me.code} has ended; its nicknames, answers and drawings were deleted.")


def join_block() -> None:
    link = class_session.join_link(me.code)
    big = share.presenting()
    code_col, qr_col = st.columns([3, 2] if big else [3, 1], vertical_alignment="center")
    with code_col:
        st.html(f"""<div class="cz-join" role="group" aria-label="How to join">
<p class="cz-join-how">Join at <strong>{html.escape(link)}</strong><br>or open the class page and type the code</p>
<p class="cz-code" aria-label="Class code {' '.join(me.code)}">{me.code}</p></div>
<style>.cz-join p {{ margin: 0; }} .cz-join-how {{ font-size: {1.6 if big else 1.15}rem; color: #31333f; word-break: break-all; }}
.cz-code {{ font: 700 {"min(9rem, 9vw)" if big else "min(5.5rem, 11vw)"}/1.1 "Source Code Pro", ui-monospace, monospace;
letter-spacing: 0.1em; color: #1f2330; white-space: nowrap; }}</style>""")
    with qr_col:
        st.image(qr_png(link), width=share.scaled(260), alt=f"QR code of the join link {link}")
    with share.secondary("class_teacher_link"), st.expander("Your teacher link (keep it private)", icon=":material/key:"):
        teacher = f"{link}&key={me.secret}"
        st.code(teacher, language=None, wrap_lines=True)
        st.caption("Opens this class as its teacher on another device or after closing the browser. "
                   "Whoever has it leads the class, so do not project or share it. Your own "
                   "address bar holds it too (present in full screen, F11, to hide it); the Copy "
                   "link buttons leave it out.")


@st.fragment(run_every=class_session.TEACHER_EVERY)
def live_class(asked: int | None) -> None:
    """Every second: the answers so far (count, histogram, then the reveal) and who is here. A
    question asked elsewhere (the bar, the teacher's other device) redraws the page."""
    try:
        poll, students = rooms.poll(me.code), rooms.students(me.code)
        rooms.teacher_seen(me.code, me.secret)
    except RoomError:
        st.rerun(scope="app")
        return
    if (poll.id if poll else None) != asked:
        st.rerun(scope="app")
    if poll is not None:
        with st.container(border=True, key="class_results_page"):
            class_polls.results(me, poll, len(students))
    st.markdown(class_session.counts_line(students) + "  \n" + (
        class_session.who_is_here(students) if students else
        "Nobody has joined yet. Students open the link above (or scan the QR code) and type a nickname."))


@st.fragment(run_every=3.0)
def live_gallery() -> None:
    class_gallery.gallery(me)


def teacher() -> None:
    show_note()
    join_block()
    poll = rooms.poll(me.code)
    if poll is not None:
        class_polls.show_question(me, poll.prompt, f"class_results_{poll.id}")
    live_class(poll.id if poll else None)
    st.header("Ask the class", anchor=False)
    class_polls.ask_panel(me)
    st.header("Class gallery", anchor=False)
    st.selectbox("Ask everyone to draw", class_gallery.DIGITS, index=None, key=class_gallery.ASKED_KEY,
                 placeholder="Any digit (students say which they drew)",
                 help="The digit students are asked to draw; their page shows it.")
    live_gallery()
    with share.secondary("class_end"), st.popover("End the class", icon=":material/logout:"):
        st.markdown("Ending the class deletes its nicknames, answers and drawings, and students "
                    "leave it.")
        st.button("End the class now", type="primary", key="class_end_now", on_click=end_class)
    kept_and_how_long()


# --------------------------------------------------------------------------- a student

def leave_class() -> None:
    class_session.leave()
    note("info", "You left the class. Join again with its code.")


def student() -> None:
    show_note()
    poll = rooms.poll(me.code)
    if poll is not None:
        class_polls.answer_box(me, poll, full=True)
    else:
        st.caption("When the teacher asks a question, it appears here (and at the top of every page).")
    class_gallery.send_form(me)
    st.button("Leave the class", icon=":material/logout:", key="class_leave", on_click=leave_class)
    kept_and_how_long()


if me is None:
    outside()
elif me.teacher:
    teacher()
else:
    student()
