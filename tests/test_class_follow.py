"""The process's class watcher (cnnviz/ui/class_follow.py): who is woken, when, how often and to
what address, over real rooms on the embedded store; the runs it starts are recorded here (the
real ones, through Streamlit, are driven in tests/e2e/test_class_browser.py and
benchmarks/bench_class.py)."""
from __future__ import annotations

import threading
import time
import urllib.parse

import pytest

from cnnviz.classroom import Rooms
from cnnviz.classroom.store import MemoryStore
from cnnviz.ui import class_follow
from cnnviz.ui.class_follow import Watcher


class Pages:
    """The members' pages: what a run started for them answers, and the runs asked for."""

    def __init__(self):
        self.answer: dict[str, str] = {}
        self.runs: list[tuple[str, dict | None, str | None]] = []

    def rerun(self, session_id: str, query: str | None, page: str | None) -> str:
        self.runs.append((session_id, None if query is None else dict(urllib.parse.parse_qsl(query)), page))
        return self.answer.get(session_id, "started")

    @property
    def woken(self) -> list[str]:
        return [run[0] for run in self.runs]


def page_of(view_page: str) -> str | None:
    return {"": "home", "convolution": "convolution", "pooling": "pooling"}.get(view_page)


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def setup():
    rooms = Rooms(MemoryStore())
    room = rooms.start()
    pages, clock = Pages(), Clock()
    watcher = Watcher(rooms.status, rooms.view, page_of, pages.rerun, class_follow.Turns(size=1000), clock=clock)   # turns: tested below
    return rooms, room, pages, clock, watcher


def shows(watcher, rooms, code, session_id="s1", following=True, **overrides):
    status = rooms.status(code)
    seen = {"view": status.view, "poll": status.poll, **overrides}
    watcher.register(session_id, code, following=following, own={"room": code, "seat": "seat-" + session_id}, **seen)


def test_a_follower_behind_the_view_is_woken_once_into_the_teachers_view(setup):
    rooms, room, pages, clock, watcher = setup
    shows(watcher, rooms, room.code)
    assert watcher.check() == 0 and pages.woken == []          # up to date: left alone
    rooms.set_view(room.code, room.key, "convolution", {"stride": "2"})
    assert watcher.check() == 1
    assert pages.runs == [("s1", {"stride": "2", "room": room.code, "seat": "seat-s1", "follow": "1"}, "convolution")]
    assert watcher.check() == 0                                 # woken for this view already
    clock.now += class_follow.WAKE_AGAIN_AFTER + 0.1
    assert watcher.check() == 1                                 # still behind: the wake was lost
    shows(watcher, rooms, room.code)                            # its run shows the view
    assert watcher.check() == 0


def test_looking_around_is_not_moved_but_questions_reach_everyone(setup):
    rooms, room, pages, clock, watcher = setup
    shows(watcher, rooms, room.code, "around", following=False)
    shows(watcher, rooms, room.code, "follows")
    rooms.set_view(room.code, room.key, "pooling", {})
    watcher.check()
    assert pages.woken == ["follows"]
    shows(watcher, rooms, room.code, "follows")
    rooms.ask(room.code, room.key, "Which?", ["a", "b"], 0)
    watcher.check()
    assert sorted(pages.runs[1:]) == [("around", None, None), ("follows", None, None)]   # redrawn where they are
    for who in ("around", "follows"):
        shows(watcher, rooms, room.code, who, following=who == "follows")
    rooms.reveal(room.code, room.key)
    assert watcher.check() == 2


def test_busy_pages_are_tried_again_and_gone_ones_forgotten(setup):
    rooms, room, pages, clock, watcher = setup
    shows(watcher, rooms, room.code, "busy")
    shows(watcher, rooms, room.code, "gone")
    pages.answer = {"busy": "busy", "gone": "gone"}
    rooms.set_view(room.code, room.key, "pooling", {})
    assert watcher.check() == 0
    assert set(watcher.members()) == {"busy"}
    pages.answer = {}
    assert watcher.check() == 1 and pages.woken[-1] == "busy"


def test_an_ended_class_wakes_its_members_once_and_forgets_them(setup):
    rooms, room, pages, clock, watcher = setup
    shows(watcher, rooms, room.code, "a", following=False)
    shows(watcher, rooms, room.code, "b")
    rooms.end(room.code, room.key)
    assert watcher.check() == 2 and watcher.members() == {}


def test_one_store_read_per_room_and_pass(setup):
    rooms, room, pages, clock, watcher = setup
    other = rooms.start()
    reads = []
    watcher._status = lambda code: reads.append(("status", code)) or rooms.status(code)
    watcher._view = lambda code: reads.append(("view", code)) or rooms.view(code)
    for i in range(30):
        shows(watcher, rooms, room.code if i % 2 else other.code, f"s{i}")
    rooms.set_view(room.code, room.key, "pooling", {})
    assert watcher.check() == 15
    assert sorted(reads) == sorted([("status", room.code), ("status", other.code), ("view", room.code)])


def test_the_thread_wakes_at_once_when_poked(setup):
    rooms, room, pages, clock, watcher = setup
    watcher._every = 60.0                      # only a poke can make it look within the test
    shows(watcher, rooms, room.code)
    watcher.start()
    rooms.set_view(room.code, room.key, "pooling", {})
    watcher.poke()
    deadline = time.monotonic() + 5
    while not pages.woken and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pages.woken == ["s1"]


def test_a_view_of_a_page_not_here_is_taken_where_the_follower_is(setup):
    rooms, room, pages, clock, watcher = setup
    shows(watcher, rooms, room.code)
    rooms.set_view(room.code, room.key, "no-such-page", {})
    watcher.check()
    assert pages.runs == [("s1", {"room": room.code, "seat": "seat-s1", "follow": "1"}, None)]


def test_follow_runs_take_turns_and_other_runs_do_not_wait():
    turns = class_follow.Turns(size=1, most=60)
    inside, most, lock, hold = [0], [0], threading.Lock(), threading.Event()

    def follow_run(owner):
        assert turns.take(owner, wait=30)
        try:
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            hold.wait(10)
            with lock:
                inside[0] -= 1
        finally:
            turns.give(owner)
    threads = [threading.Thread(target=follow_run, args=(f"s{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while inside[0] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert inside[0] == 1 and not turns.take("teacher", wait=0)      # the others wait for the turn
    with turns.turn("teacher", follow_run=False):             # a run that is no follow run goes at once
        assert inside[0] == 1
    hold.set()
    for t in threads:
        t.join()
    assert most[0] == 1 and inside[0] == 0


def test_a_turn_not_given_back_ends_by_itself():
    clock = Clock()
    turns = class_follow.Turns(size=1, most=3.0, clock=clock)
    assert turns.take("woken, but its run never came", wait=0)
    assert not turns.take("next", wait=0)
    clock.now += 3.1
    assert turns.take("next", wait=0) and turns.holds("next")


def test_the_watcher_takes_the_turn_for_the_run_it_starts_and_the_run_gives_it_back(setup):
    rooms, room, pages, clock, watcher = setup
    shows(watcher, rooms, room.code, "a")
    shows(watcher, rooms, room.code, "b")
    rooms.set_view(room.code, room.key, "pooling", {})
    watcher._turns = turns = class_follow.Turns(size=1, most=60)
    watcher._turns.take = lambda owner, wait=0: class_follow.Turns.take(turns, owner, 0)   # no waiting here
    assert watcher.check() == 1 and pages.woken == ["a"] and turns.holds("a")
    with turns.turn("a", follow_run=True):                   # a's run, given a's turn
        pass
    assert not turns.holds("a")
    assert watcher.check() == 1 and pages.woken == ["a", "b"]
    pages.answer = {"b": "busy"}
    turns.give("b")
    shows(watcher, rooms, room.code, "b", view=None)
    clock.now += class_follow.WAKE_AGAIN_AFTER + 1
    watcher.check()
    assert not turns.holds("b")                                        # a run that did not start gives it back
