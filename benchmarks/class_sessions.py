"""A live class at the protocol level: a teacher and N students as Streamlit sessions
(benchmarks/loadgen.py), driving the real /class page and the class bar of every page.

A Member is one browser tab. Its `tick` loop does what the browser's timers do: every
`st.fragment(run_every=...)` the server announced (auto_rerun) is rerun on its interval, one run
at a time per tab (a lock also held by the person's own clicks). Runs the server starts itself
(the class watcher waking a student's look, cnnviz/ui/class_follow.py) are followed as a browser
follows them, and count as the tab's runs too. On a new view, a following student's look
switches its page (the fragment's run then ends as a full run of the teacher's page); a new
question reruns the whole page. A student whose websocket closes (its app process was killed)
reloads: a new session with the same cookies and address, as a browser's reload.

What a student "sees": its page and settings (the address's query, without room/seat/key/present)
after a run. A change is seen when they equal the teacher's after the teacher's change.
"""
from __future__ import annotations

import asyncio
import random
import re
import time
import urllib.parse

import loadgen

HIDDEN = {"room", "key", "seat", "present"}
ANSWERED = re.compile(r"\*\*(\d+)\*\* of (\d+) answered")
REVEALED = re.compile(r"The answer is \*\*(.+?)\*\*: (\d+) of (\d+) had it")
FOLLOWING = "Following the teacher"


def settings(query_string: str) -> dict[str, str]:
    return {k: v[-1] for k, v in urllib.parse.parse_qs(query_string, keep_blank_values=True).items()
            if k not in HIDDEN}


def alerts(s: loadgen.StreamlitSession) -> list[str]:
    return [el.alert.body for el in s.elements.values() if el.WhichOneof("type") == "alert"]


class Member:
    """One tab of the class (the teacher's or a student's)."""

    def __init__(self, base: str, number: int, nickname: str = ""):
        self.base, self.number, self.nickname = base, number, nickname
        self.s = self._session()
        self.lock = asyncio.Lock()
        self.due: dict[str, float] = {}
        self.fragment_runs: list[loadgen.RunResult] = []
        self.server_runs: list[tuple[float, str]] = []   # (when it ended, how) of runs the server started
        self.after_run = None                  # called after every run of the tick loop
        self.reconnects: list[dict] = []
        self.answer: str | None = None         # the student's choice (a label)
        self.rng = random.Random(number)

    def _session(self) -> loadgen.StreamlitSession:
        s = loadgen.StreamlitSession(self.base, self.number, run_timeout=120)
        s.on_server_run = self._server_ran
        return s

    def _server_ran(self, status: str) -> None:
        self.server_runs.append((time.perf_counter(), status))
        if self.after_run:
            asyncio.ensure_future(self.after_run(self))

    @property
    def view(self) -> tuple[str, dict[str, str]]:
        return self.s.page, settings(self.s.query_string)

    async def act(self, action):
        """A person's own click or change: one run, between the timers' runs."""
        async with self.lock:
            return await action(self.s)

    async def tick(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.s.closed_reason:
                await self.reload()
            now = time.perf_counter()
            for fid, every in list(self.s.auto_reruns.items()):
                due = self.due.setdefault(fid, now + self.rng.uniform(0, every))
                if now < due or stop.is_set():
                    continue
                self.due[fid] = max(due + every, now)
                async with self.lock:
                    if fid not in self.s.auto_reruns or self.s.closed_reason:
                        continue
                    run = await self.s.rerun_fragment(fid)
                self.fragment_runs.append(run)
                if self.after_run:
                    await self.after_run(self)
            for fid in set(self.due) - set(self.s.auto_reruns):
                del self.due[fid]
            await asyncio.sleep(0.02)

    async def reload(self) -> None:
        """The browser's reload after its process went away: same cookies, same address."""
        old = self.s
        began = time.perf_counter()
        async with self.lock:
            self.s = self._session()
            self.s.cookies = dict(old.cookies)
            self.s.query_string = old.query_string
            self.due.clear()
            try:
                run = await self.s.open(old.page if old.page != "?" else "/class")
                ok, errors = run.ok, run.errors + run.exceptions
            except Exception as e:   # noqa: BLE001 (reported)
                ok, errors = False, [f"{type(e).__name__}: {e}"]
        radio = self.s.find(prefix="class_answer_")
        self.reconnects.append({
            "seconds": time.perf_counter() - began, "ok": ok, "errors": errors,
            "in_room": "room=" in self.s.query_string and "seat=" in self.s.query_string,
            "following": FOLLOWING in self.s.text(),
            "answer_kept": radio is not None and self.s.states.get(radio.id) == self.answer,
            "backend": self.s.cookies.get("CNNVIZ_BACKEND")})

    async def close(self) -> None:
        await self.s.close()


async def start_class(teacher: Member) -> str:
    """The teacher opens /class and starts a class; the room's code."""
    run = await teacher.act(lambda s: s.open("/class"))
    assert run.ok, run.errors + run.exceptions
    run = await teacher.act(lambda s: s.click(s.find("class_start")))
    assert run.ok, run.errors + run.exceptions
    query = urllib.parse.parse_qs(teacher.s.query_string)
    assert "room" in query and "key" in query, f"no room after Start: {teacher.s.query_string!r}"
    return query["room"][0]


async def join(student: Member, code: str) -> loadgen.RunResult:
    """A student opens the join link /class?room=CODE, types a nickname and joins."""
    s = student.s
    s.query_string = f"room={code}"
    run = await student.act(lambda s: s.open("/class"))
    if not run.ok:
        return run
    s.states[s.find("class_join_nickname").id] = student.nickname
    s.states[s.find("class_join_code").id] = code
    run = await student.act(lambda s: s.click(s.find(label="Join")))
    if "seat=" not in s.query_string:
        run.errors.append(f"not in the room after Join: {s.query_string!r}; {alerts(s)}")
    return run


async def answer_if_asked(student: Member) -> None:
    """After a run: a question on the page that this student has not answered gets a random choice."""
    radio = student.s.find(prefix="class_answer_")
    if radio is None or radio.disabled or student.s.states.get(radio.id) is not None:
        return
    choice = student.rng.choice(radio.options())
    run = await student.act(lambda s: s.set(radio, choice))
    if run.ok:
        student.answer = choice
