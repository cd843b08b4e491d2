"""Bringing a room's members to what the room shows now: one watcher per process wakes them.

Each member's page says what it shows (`Watcher.register`: the teacher's view version it shows
when following, the question it shows). One thread per process reads each room that has members
here every WATCH_EVERY seconds, one store read per room (Rooms.status), and at once starts a run
of every member whose page is behind (streamlit_internals.rerun_session): a follower's run opens
the teacher's page with the teacher's settings (and `follow=VERSION`, which class_session reads
and drops), any other member's redraws its page (a question, or the end of the class). The
teacher's own process is poked as soon as the view is written.

Before, every student's tab reran a small fragment twice a second to ask: with 30 students, 60
runs a second of ~5.5 ms of CPU each, a third of the server's core while nothing happened, and a
change waited up to half a second for the next look.

Follow runs also take turns, FOLLOW_TURNS at a time per process (`Turns`, `turn`): 30 students
rerunning the teacher's page at once share one core (Python's GIL), so all of them finished at
the end and the teacher's own next run waited behind them; fewer threads at once also cost less
CPU (one at a time: 0.7-1.2 s a change for 30, two: 1.2-1.3 s, four: 1.25-1.6 s). Since the
followers of a view share one render (follow_render.py), two at a time were measured again: for
60 students on 2 processes p95 0.80-0.96 s (one: 0.91-0.94 s), for 30 on one process 0.58-0.80 s
(one: 0.71 s), the teacher's reruns p95 up to 265 ms (one: under 100 ms); and in two of three
runs with 60 students one student's answer was never counted, so one at a time stays.
The watcher takes the turn before it starts a follower's run and the run gives it back, so
followers' runs do not even begin (Streamlit's own start of a run costs a few ms) until it is
theirs. Taking turns, the first students see the change soonest, the last no later than before,
and the teacher's and other visitors' runs go first.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable

from cnnviz.classroom import RoomError
from cnnviz.classroom.rooms import Status, View

WATCH_EVERY = 0.1           # s between the watcher's reads of its rooms
WAKE_AGAIN_AFTER = 3.0      # s: a member woken for a status but still behind is woken again
FOLLOW_TURNS = 1            # follow runs at a time per process
TURN_WAIT_MOST = 10.0       # s a follow run waits for its turn before it runs anyway
_log = logging.getLogger(__name__)


FOLLOW_PARAM = "follow"      # in a follower's woken run: the version of the view it opens


@dataclass
class Member:
    code: str
    following: bool
    view: int | None                    # the teacher's view version the page shows
    poll: tuple[int, bool] | None       # the (id, revealed) of the question the page shows
    own: dict[str, str] = field(default_factory=dict)   # its address's own part (room, seat, present)
    woken_for: Status | None = None
    woken_at: float = float("-inf")

    def behind(self, status: Status | None) -> bool:
        """status None: the room has ended."""
        return status is None or self.poll != status.poll or (self.following and self.view != status.view)


class Watcher:
    """The members of rooms in this process, and who to wake. `status(code)` and `view(code)`
    read a room (RoomError once it ended); `page_of(view.page)` is the url_path to open (None: stay);
    `rerun(session_id, query_string, page)` starts a member's run (None: where it is) and says
    "started", "busy" (a run under way; tried again next pass) or "gone"."""

    def __init__(self, status: Callable[[str], Status], view: Callable[[str], View | None],
                 page_of: Callable[[str], str | None], rerun: Callable[[str, str | None, str | None], str],
                 turns: "Turns", every: float = WATCH_EVERY, clock: Callable[[], float] = time.monotonic):
        self._status, self._view, self._page_of, self._rerun = status, view, page_of, rerun
        self._turns, self._every, self._clock = turns, every, clock
        self._members: dict[str, Member] = {}
        self._lock = threading.Lock()
        self._poked = threading.Event()
        self._thread: threading.Thread | None = None

    def register(self, session_id: str, code: str, *, following: bool, view: int | None,
                 poll: tuple[int, bool] | None, own: dict[str, str]) -> None:
        with self._lock:
            old = self._members.get(session_id)
            member = Member(code, following, view, poll, dict(own))
            if old is not None and (old.code, old.following, old.view, old.poll) == (code, following, view, poll):
                member.woken_for, member.woken_at = old.woken_for, old.woken_at
            self._members[session_id] = member

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._members.pop(session_id, None)

    def members(self) -> dict[str, Member]:
        with self._lock:
            return dict(self._members)

    def poke(self) -> None:
        """Look now (the teacher's view in this process has just changed)."""
        self._poked.set()

    def check(self) -> int:
        """One pass over the rooms with members here; the number of members woken."""
        rooms: dict[str, list[tuple[str, Member]]] = {}
        for session_id, member in self.members().items():
            rooms.setdefault(member.code, []).append((session_id, member))
        woken = 0
        for code, members in rooms.items():
            try:
                status = self._status(code)
                view = self._view(code) if any(m.following and m.view != status.view for _, m in members) else None
            except RoomError:
                status = view = None
            for session_id, member in members:
                woken += self._wake_if_behind(session_id, member, status, view)
        return woken

    def _wake_if_behind(self, session_id: str, member: Member, status: Status | None, view: View | None) -> bool:
        now = self._clock()
        if not member.behind(status) or (member.woken_for == status and now - member.woken_at < WAKE_AGAIN_AFTER):
            return False
        query = page = None
        if view is not None and member.following and member.view != view.version:
            query = urllib.parse.urlencode({**view.query, **member.own, FOLLOW_PARAM: str(view.version)})
            page = self._page_of(view.page)
            if not self._turns.take(session_id):   # one follow run at a time: no pile of runs
                return False                       # that all start together and starve the rest
        result = self._rerun(session_id, query, page)
        if query is not None and result != "started":
            self._turns.give(session_id)
        if result == "gone" or (result == "started" and status is None):
            self.forget(session_id)            # left, or told that the class has ended
        elif result == "started":
            member.woken_for, member.woken_at = status, now
        return result == "started"

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cnnviz-class-watcher", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._poked.wait(self._every)
            self._poked.clear()
            try:
                self.check()
            except Exception:      # noqa: BLE001 (a store hiccup must not end the watching)
                _log.exception("class watcher: a pass failed")
                time.sleep(1.0)


class Turns:
    """At most `size` follow runs at a time. A turn is held by a session (its owner) until given
    back, or for `most` seconds at the longest (a run started for it that never came, because the
    person's own click replaced it, must not keep the others waiting)."""

    def __init__(self, size: int = FOLLOW_TURNS, most: float = TURN_WAIT_MOST,
                 clock: Callable[[], float] = time.monotonic):
        self._size, self._most, self._clock = size, most, clock
        self._held: dict[str, float] = {}
        self._changed = threading.Condition()

    def take(self, owner: str, wait: float = TURN_WAIT_MOST) -> bool:
        """A turn for `owner` (True), waiting at most `wait` s for one (False: none came)."""
        with self._changed:
            deadline = self._clock() + wait
            while True:
                now = self._clock()
                for old in [o for o, since in self._held.items() if now - since > self._most]:
                    del self._held[old]
                if owner in self._held or len(self._held) < self._size:
                    self._held[owner] = now
                    return True
                if now >= deadline:
                    return False
                self._changed.wait(min(deadline - now, 0.05))

    def holds(self, owner: str) -> bool:
        with self._changed:
            return owner in self._held

    def give(self, owner: str) -> None:
        with self._changed:
            if self._held.pop(owner, None) is not None:
                self._changed.notify_all()

    @contextlib.contextmanager
    def turn(self, owner: str | None, follow_run: bool):
        """Around a whole script run of session `owner`: a follow run holds a turn, the one the
        watcher took for it or one it waits for now (at most TURN_WAIT_MOST s), and gives it back
        at its end; any other run goes at once. Gives follow_run."""
        got = bool(follow_run and owner and (self.holds(owner) or self.take(owner)))
        try:
            yield follow_run
        finally:
            if got:
                self.give(owner)


turns = Turns()      # this process's
