"""Being in a live class, on every page: who this session is in the room, the class bar, and
following the teacher's view.

A room's members carry it in the address, as app-wide link settings every page keeps (like
`present`): `room` (the code) and the member's secret, `seat` for a student, `key` for the
teacher. So a reload, another page or a copied address of one's own stays in the class. "Copy
link" leaves the secrets out (share.py), and a student never holds the key.

The teacher's session writes its view (the page and its settings, as url_state publishes them)
to the room after every run (share_view, a url_state.AFTER_PUBLISH hook). Every student's run
tells the process's watcher (class_follow.py) what its page shows; the watcher starts a run of
each student whose page is behind the room, at once: a follower's opens the teacher's page with
the teacher's settings as a link (url_state.open_as_link; the address carries follow=VERSION,
read by follow_turn), anyone else's redraws the page (a question, its answer, the end). A
student's page also has a small fragment, the look (_look), that does the same on a timer: every
LOOK_EVERY seconds (and the heartbeat), or every FOLLOW_EVERY where no server can start runs
(AppTest).
"""
from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass

import streamlit as st

from cnnviz.classroom import RoomError, rooms_for_server
from cnnviz.classroom import codes
from cnnviz.classroom.errors import StoreUnavailable
from cnnviz.compat import streamlit_internals
from cnnviz.ui import class_follow, page_list, share, url_state
from cnnviz.ui.plain_text import plain

ROOM_KEY, SEAT_KEY, TEACHER_KEY = "class_room", "class_seat", "class_key"
DRAWING_KEY = "class_drawing"               # a gallery drawing opened for everyone (its id)
SHOWN_VIEW = "class_view_version"           # the version of the teacher's view last applied
SHARED_VIEW = "class_view_shared"           # (page, query) the teacher last wrote
POLL_SEEN = "class_poll_seen"               # (poll id, revealed) the student's page last drew
ENDED = "class_ended"                       # a line to show once: the class is gone
PAGE_KEY = "class_page"                     # the url_path of the page this run shows
HEARD_KEY = "class_heard"                   # when the student's heartbeat was last written
FOLLOW_RUN = "class_follow_run"             # this run opens the teacher's view: it takes a turn
CLASS_PAGE = "class"
FOLLOW_EVERY = 0.5                          # s between a student's looks, where none can be woken
LOOK_EVERY = 10.0                           # s between them where the watcher wakes them (heartbeats)
TEACHER_EVERY = 1.0                         # s between updates of the teacher's counts
HEARTBEAT_EVERY = 20.0                      # s between a student's "still here" writes
SECRETS = ("key", "seat")                   # never in a copied link nor in the view students get
MEMBERSHIP = ("room", *SECRETS)

PARAMS = [
    url_state.Param("room", ROOM_KEY, None, codes.parse_code, max_chars=4 * codes.LENGTH),
    url_state.identifier("seat", SEAT_KEY, None, "seat"),
    url_state.identifier("key", TEACHER_KEY, None, "teacher key"),
    url_state.identifier("drawing", DRAWING_KEY, None, "drawing"),
]


@dataclass(frozen=True)
class Member:
    code: str
    teacher: bool
    secret: str                 # the teacher's key or the student's seat
    nickname: str = ""          # a student's
    following: bool = False     # a student's


def rooms():
    return rooms_for_server()


def _page_url(view_page: str) -> str | None:
    """The url_path to open for a view's page (Home's own), or None for a page not here."""
    if view_page in ("", page_list.HOME.url_path):
        return page_list.HOME.url_path
    return view_page if page_file(view_page) is not None else None


_watcher = class_follow.Watcher(lambda code: rooms().status(code), lambda code: rooms().view(code),
                                _page_url, streamlit_internals.rerun_session, class_follow.turns)


def _view_token(version: int) -> str:
    return f"view{version}"


def follow_turn():
    """Around every run (app.py): a run that opens the teacher's view waits for its turn. A run
    the watcher started for a follower says so in the address (follow=VERSION): the view it
    shows, taken as a freshly opened link; the parameter leaves the address."""
    follow_run = bool(st.session_state.pop(FOLLOW_RUN, False))
    version = st.query_params.get(class_follow.FOLLOW_PARAM)
    if version is not None:
        del st.query_params[class_follow.FOLLOW_PARAM]
        if version.isdigit() and len(version) < 12:
            st.session_state[SHOWN_VIEW] = int(version)
            url_state.open_as_link(_view_token(int(version)))
            follow_run = True
    return class_follow.turns.turn(streamlit_internals.this_session(), follow_run)


# --------------------------------------------------------------------------- who am I

def _leave(message: str | None) -> None:
    for key in (ROOM_KEY, SEAT_KEY, TEACHER_KEY, DRAWING_KEY, SHOWN_VIEW, SHARED_VIEW, POLL_SEEN):
        st.session_state.pop(key, None)
    if message:
        st.session_state[ENDED] = message


def member() -> Member | None:
    """This session's place in a room, or None. A room or secret that no longer holds is dropped
    (with a line to show once)."""
    state = st.session_state
    code, key, seat = state.get(ROOM_KEY), state.get(TEACHER_KEY), state.get(SEAT_KEY)
    if not code or not (key or seat):
        return None
    try:
        if key:
            if rooms().is_teacher(code, key):
                return Member(code, True, key)
            _leave(f"The class {code} has ended, or this teacher link is not its own.")
            return None
        student = rooms().student(code, seat)
    except StoreUnavailable as e:
        _leave(f"The class {code}: {e}")
        return None
    except RoomError:
        student = None      # the same line as a wrong seat: a made-up link learns nothing of the code
    if student is None:
        _leave(f"The class {code} has ended, or you are no longer in it.")
        return None
    return Member(code, False, seat, student.nickname, student.following)


def begin(page_url: str) -> Member | None:
    """Start of every run (app.py): remember the page, drop a room this session is not in
    (outside /class, where a join link's code waits for a nickname), and draw the class bar."""
    st.session_state[PAGE_KEY] = page_url
    me = member()
    if me is None and page_url != CLASS_PAGE:
        st.session_state.pop(ROOM_KEY, None)
    ended = st.session_state.pop(ENDED, None)
    if ended:
        st.info(plain(ended), icon=":material/groups:")
    if me is not None:
        show_drawing(me)
        class_bar(me, page_url)
    return me


def _drawing_origin(me: Member, drawing_id: str) -> tuple:
    return ("class", me.code, drawing_id)


def show_drawing(me: Member) -> None:
    """A class drawing in the view (?drawing=ID) becomes this session's picture, fetched from
    the room; the sidebar then shows it as an upload would be shown."""
    from cnnviz.ui import class_gallery, widgets
    wanted = st.session_state.get(DRAWING_KEY)
    if not wanted or st.session_state.get(widgets.ORIGIN_KEY) == _drawing_origin(me, wanted):
        return
    try:
        drawing = next((d for d in rooms().gallery(me.code) if d.id == wanted), None)
        pic = class_gallery.picture(drawing) if drawing is not None else None
    except (RoomError, ValueError):
        pic = None
    if pic is None:
        st.session_state[DRAWING_KEY] = None
        st.warning("This drawing is no longer in the class gallery.", icon=":material/hide_image:")
        return
    widgets.set_picture(pic, _drawing_origin(me, wanted))
    st.session_state[widgets.SOURCE_KEY] = "Upload"     # keeps the picture: no file is chosen


def keep_drawing_link() -> None:
    """After the sidebar: a class drawing that is no longer the picture leaves the link."""
    from cnnviz.ui import widgets
    wanted, origin = st.session_state.get(DRAWING_KEY), st.session_state.get(widgets.ORIGIN_KEY)
    if wanted and not (origin and origin[0] == "class" and origin[-1] == wanted):
        st.session_state[DRAWING_KEY] = None


def become_teacher(code: str, key: str) -> None:
    _leave(None)
    st.session_state.update({ROOM_KEY: code, TEACHER_KEY: key})


def become_student(code: str, seat: str) -> None:
    _leave(None)
    st.session_state.update({ROOM_KEY: code, SEAT_KEY: seat})


def leave() -> None:
    _leave(None)


def join_link(code: str) -> str:
    """The address students open: this server's /class page with the code."""
    url = st.context.url or ""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return f"/{CLASS_PAGE}?room={code}"
    path = parts.path.rstrip("/")
    known = {p.url_path for p in page_list.NAVIGATION} | {"home", "index"}
    base = path.rsplit("/", 1)[0] if path.rsplit("/", 1)[-1] in known else path
    return f"{parts.scheme}://{parts.netloc}{base}/{CLASS_PAGE}?room={code}"


# --------------------------------------------------------------------------- the teacher's view

def share_view(published: dict[str, str]) -> None:
    """After publish(): a teacher's page and settings become the view students follow."""
    state = st.session_state
    code, key = state.get(ROOM_KEY), state.get(TEACHER_KEY)
    if not code or not key or PAGE_KEY not in state:
        return
    query = {k: v for k, v in published.items() if k not in MEMBERSHIP and k != "present"}
    view = (state[PAGE_KEY], query)
    if state.get(SHARED_VIEW) == view:
        return
    try:
        rooms().set_view(code, key, *view)
        state[SHARED_VIEW] = view
    except RoomError:
        return      # an ended room: the next run's member() says so
    _watcher.poke()


url_state.AFTER_PUBLISH.append(share_view)


def page_file(url_path: str) -> str | None:
    """The script of the page at `url_path` ("" or "index": Home), or None when there is none."""
    page = page_list.page_at(url_path)
    return page.path if page is not None else None


def open_teacher_view(me: Member) -> None:
    """Show the teacher's view now: its page with its settings, as a freshly opened link."""
    view = rooms().view(me.code)
    if view is None:
        return
    path = page_file(view.page)
    st.session_state[SHOWN_VIEW] = view.version
    if path is None:
        return
    query = dict(view.query)
    query.update({"room": me.code, "seat": me.secret})
    if share.presenting():
        query["present"] = "1"
    url_state.open_as_link(_view_token(view.version))
    st.session_state[FOLLOW_RUN] = True
    st.switch_page(path, query_params=query)


# --------------------------------------------------------------------------- the class bar

def _set_following(me: Member, following: bool) -> None:
    try:
        rooms().set_following(me.code, me.secret, following)
    except RoomError:
        return
    if following:
        st.session_state.pop(SHOWN_VIEW, None)     # the watch opens the teacher's view at once


def _poll_state(code: str):
    poll = rooms().poll(code)
    return poll, (None if poll is None else (poll.id, poll.revealed))


def _look(me: Member) -> None:
    """A student's look at the room (a fragment): a new view (when following), a new or revealed
    question, or the end of the class; then it tells the watcher what the page shows."""
    state = st.session_state
    try:
        if me.following:
            view = rooms().view(me.code)
            if view is not None and view.version != state.get(SHOWN_VIEW):
                open_teacher_view(me)
        if _poll_state(me.code)[1] != state.get(POLL_SEEN):
            st.rerun(scope="app")
        now = time.time()
        if now - state.get(HEARD_KEY, 0) > HEARTBEAT_EVERY:
            rooms().seen(me.code, me.secret)
            state[HEARD_KEY] = now
    except RoomError:
        st.rerun(scope="app")   # the run says the class has ended


def _tell_watcher(me: Member) -> None:
    """What this student's page shows now, for the process's watcher (where it can start runs)."""
    session_id = streamlit_internals.this_session()
    if session_id is None or streamlit_internals.server_event_loop() is None:
        return
    state = st.session_state
    own = {"room": me.code, "seat": me.secret, **({"present": "1"} if share.presenting() else {})}
    _watcher.register(session_id, me.code, following=me.following, view=state.get(SHOWN_VIEW),
                      poll=state.get(POLL_SEEN), own=own)
    _watcher.start()


def _watch(me: Member) -> None:
    woken = streamlit_internals.server_event_loop() is not None
    st.fragment(_look, run_every=LOOK_EVERY if woken else FOLLOW_EVERY)(me)


@st.fragment(run_every=TEACHER_EVERY)
def _live_teacher_counts(me: Member, page_url: str) -> None:
    """Every second on the lesson pages: how many joined and follow (who, in a popover), and the
    open question's answers with its Reveal button."""
    from cnnviz.ui import class_polls
    try:
        rooms().teacher_seen(me.code, me.secret)
        students = rooms().students(me.code)
        poll = rooms().poll(me.code)
    except RoomError:
        st.rerun(scope="app")     # the run says the class has ended
        return
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.markdown(counts_line(students), width="content")
        if students:
            with st.popover("Who is here", icon=":material/group:"):
                st.markdown(who_is_here(students))
    if poll is not None:
        with st.container(key="class_results_bar"):
            class_polls.results(me, poll, len(students), compact=True)


def counts_line(students) -> str:
    return f"**{len(students)}** joined · **{sum(s.following for s in students)}** following"


def _private_picture_note() -> None:
    """The teacher's own upload, drawing or photo stays on the teacher's screen: say so."""
    from cnnviz.ui import widgets
    origin = st.session_state.get(widgets.ORIGIN_KEY) or ("sample",)
    if origin[0] not in ("sample", "class"):
        st.caption(":material/visibility_off: Your picture is your own, so students see the "
                   "default sample instead; pick a sample, or open a class drawing, to share one.")


def leads_a_class() -> bool:
    """Whether this session leads a class (app.py's begin() checked its key earlier in this run)."""
    return bool(st.session_state.get(ROOM_KEY) and st.session_state.get(TEACHER_KEY))


def private_network_note(shown_instead: str) -> None:
    """The teacher's own or trained network stays on the teacher's screen: say so, on the page."""
    if leads_a_class():
        st.caption(f":material/visibility_off: Students who follow you see **{plain(shown_instead)}** "
                   "here, not this network: yours stays in your browser session.")


def who_is_here(students) -> str:
    follow = [plain(s.nickname) for s in students if s.following]
    around = [plain(s.nickname) for s in students if not s.following]
    lines = [f"**Following** ({len(follow)}): " + (", ".join(follow) or "nobody")]
    lines.append(f"**Looking around** ({len(around)}): " + (", ".join(around) or "nobody"))
    return "  \n".join(lines)


def class_bar(me: Member, page_url: str) -> None:
    """A strip at the top of every page: the room, and following (student) or the counts (teacher)."""
    from cnnviz.ui import class_polls
    with st.container(border=True, key="class_bar"), \
            st.container(horizontal=True, vertical_alignment="center", gap="small"):
        if me.teacher:
            st.markdown(f":material/co_present: Class **{me.code}** · you lead it")
            if page_url != CLASS_PAGE:     # the class page shows them, refreshed, itself
                _live_teacher_counts(me, page_url)
            if page_url != CLASS_PAGE:
                st.page_link(page_list.CLASS.path, label="Class page", icon=":material/groups:")
            _private_picture_note()
            return
        st.markdown(f":material/groups: Class **{me.code}** · {plain(me.nickname)}")
        if me.following:
            st.markdown(":green-badge[:material/visibility: Following the teacher]")
            st.button("Look around", icon=":material/explore:", key="class_look_around",
                      help="Stop following: explore on your own; the teacher's changes no longer move your page.",
                      on_click=_set_following, args=(me, False))
        else:
            st.markdown(":orange-badge[:material/explore: Looking around]")
            if st.button("Back to the teacher", icon=":material/undo:", type="primary", key="class_back"):
                _set_following(me, True)
                open_teacher_view(Member(me.code, False, me.secret, me.nickname, True))
    poll, seen = _poll_state(me.code)
    st.session_state[POLL_SEEN] = seen
    with st.sidebar:      # it draws nothing: there it takes no room on the page
        _watch(me)
    _tell_watcher(me)
    if poll is not None and page_url != CLASS_PAGE:
        class_polls.answer_box(me, poll)
