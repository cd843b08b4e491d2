"""A live class's rooms: the teacher's room, its students, the view they follow, the question
asked, the answers and the gallery of drawings. No Streamlit here; the /class page calls Rooms.

Every rule is here once, over the small store contract of cnnviz.classroom.store, so a room
behaves the same in one process (MemoryStore) and across processes (RedisStore). The keys of
room CODE:

    cnnviz:room:CODE             the room: teacher key's hash, teacher_seen, view, poll, counters
    cnnviz:room:CODE:students    seat token -> {nickname, following, seen}
    cnnviz:room:CODE:nicknames   nickname (case-folded) -> seat token (a nickname is taken once)
    cnnviz:room:CODE:answers     seat token -> "poll_id:choice" (one per seat; counted from here)
    cnnviz:room:CODE:drawings    drawing id -> {nickname, asked, sent, seat}
    cnnviz:room:CODE:pngs        drawing id -> the PNG
    cnnviz:room:CODE:sent        seat token -> drawings in the gallery
    cnnviz:joins:MINUTE          address -> failed joins in that minute (the code-guessing limit)

A room lives while its teacher is seen (teacher_seen, a heartbeat) and ends
Limits.teacher_absent_seconds after the last one, or when the teacher ends it; its keys expire
in the store a minute after that and end() deletes them all at once. Rooms checks the time
itself, so an ended room is refused even before the store has dropped it.

Answers are counted exactly under concurrency: each is one HSET of the student's own field, and
the counts are computed from the hash; the reveal first marks the poll revealed, then freezes
the counts, and an answer checks the mark after writing it, so no answer is counted twice or
lost silently. Only failed joins count against an address's limit (a school's students often
share one address; guessing codes is what the limit stops); see cnnviz.classroom.codes for why
codes cannot be guessed in practice.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import threading
import time
from dataclasses import dataclass, field

from cnnviz.classroom.codes import new_code, parse_code
from cnnviz.classroom.errors import RoomError
from cnnviz.classroom.store import store_from_env

__all__ = ["Rooms", "RoomError", "Limits", "Teacher", "View", "Student", "Poll", "Status", "Drawing",
           "rooms_for_server"]

PREFIX = "cnnviz:room:"
_PARTS = ("", ":students", ":nicknames", ":answers", ":drawings", ":pngs", ":sent")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HIDDEN_QUERY = frozenset({"room", "key", "seat"})   # never part of the view students follow
_TEACHER_WRITE_EVERY = 30.0                          # s between stored teacher heartbeats
_STORE_SLACK = 60                                    # s the store keeps a room past its end

_NO_ROOM = "There is no class with this code running (it may have ended)."
_NOT_TEACHER = "Only the class's teacher can do this."
_NO_SEAT = "You are not in this class any more; join it again."


@dataclass(frozen=True)
class Limits:
    max_rooms: int = 50
    max_students: int = 200
    joins_per_minute: int = 20          # failed joins per address per minute
    teacher_absent_seconds: float = 3 * 3600
    max_drawings_per_student: int = 5
    max_drawing_bytes: int = 20_000     # a sent drawing is a 96 px grey PNG (class_gallery): <10 kB
    max_nickname_chars: int = 24
    max_gallery: int = 300              # drawings in one room
    max_prompt_chars: int = 500
    max_choices: int = 10
    max_choice_chars: int = 200
    max_page_chars: int = 100
    max_query_items: int = 50
    max_query_chars: int = 4000         # all keys and values of a view's query together
    max_asked_chars: int = 40


@dataclass(frozen=True)
class Teacher:
    code: str
    key: str


@dataclass(frozen=True)
class View:
    page: str
    query: dict[str, str]
    version: int


@dataclass(frozen=True)
class Student:
    nickname: str
    following: bool
    seen: float


@dataclass(frozen=True)
class Poll:
    id: int
    prompt: str
    choices: tuple[str, ...]
    counts: tuple[int, ...]
    answered: int
    revealed: bool
    right: int | None = None
    why_wrong: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Status:
    """What a member's page shows of the room, in one read: the view's version and the question's
    (id, revealed); None where there is none yet."""
    view: int | None
    poll: tuple[int, bool] | None


@dataclass(frozen=True)
class Drawing:
    id: str
    nickname: str
    asked: str
    png: bytes
    sent: float


def _dump(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _load(raw: bytes | None):
    return None if raw is None else json.loads(raw)


def _key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).hexdigest().encode()


def _one_line(text, what: str, most: int, *, empty_ok: bool = False) -> str:
    """`text` trimmed; RoomError unless it is printable text of 1..most characters."""
    if not isinstance(text, str):
        raise RoomError(f"The {what} must be text.")
    text = text.strip()
    if not text and not empty_ok:
        raise RoomError(f"The {what} is empty.")
    if len(text) > most:
        raise RoomError(f"The {what} is longer than {most} characters.")
    if not text.isprintable():
        raise RoomError(f"The {what} has characters that cannot be shown (line breaks or control characters).")
    return text


class Rooms:
    """The rooms of a live class in `store` (MemoryStore or RedisStore). Thread-safe and
    process-safe as the store is; `clock` gives seconds (injectable for tests)."""

    def __init__(self, store, limits: Limits = Limits(), clock=time.time):
        self.store = store
        self.limits = limits
        self.clock = clock

    # -- keys and the room itself -------------------------------------------------------------
    @staticmethod
    def _key(code: str, part: str = "") -> str:
        return PREFIX + code + part

    def _keys(self, code: str) -> list[str]:
        return [self._key(code, part) for part in _PARTS]

    def _alive(self, meta: dict[str, bytes]) -> bool:
        seen = meta.get("teacher_seen")
        return seen is not None and self.clock() - float(seen) < self.limits.teacher_absent_seconds

    def _meta(self, code: str) -> tuple[str, dict[str, bytes]]:
        """(code, the room's fields) of a running room; RoomError for a bad, unknown or ended one.
        An ended room found here is deleted."""
        code = parse_code(code)
        meta = self.store.hgetall(self._key(code))
        if "teacher_seen" not in meta:          # unknown, or being made by start()
            raise RoomError(_NO_ROOM)
        if not self._alive(meta):
            self.store.delete(*self._keys(code))
            raise RoomError(_NO_ROOM)
        return code, meta

    def _teacher(self, code: str, key) -> tuple[str, dict[str, bytes]]:
        code, meta = self._meta(code)
        if not isinstance(key, str) or not hmac.compare_digest(_key_hash(key), meta.get("key", b"")):
            raise RoomError(_NOT_TEACHER)
        return code, meta

    def _keep(self, code: str, meta: dict[str, bytes], *parts: str) -> None:
        """Let the store drop these keys of the room shortly after the room ends."""
        end = float(meta["teacher_seen"]) + self.limits.teacher_absent_seconds
        ttl = max(1, math.ceil(end - self.clock())) + _STORE_SLACK
        self.store.expire([self._key(code, p) for p in parts], ttl)

    def _rooms_alive(self) -> int:
        alive = 0
        for key in self.store.scan(PREFIX):
            code = key[len(PREFIX):]
            if ":" in code:
                continue
            meta = self.store.hgetall(key)
            if "key" not in meta:               # a counter written after end(): a stray
                self.store.delete(*self._keys(code))
                continue
            if "teacher_seen" not in meta:      # being made by start()
                continue
            if self._alive(meta):
                alive += 1
            else:
                self.store.delete(*self._keys(code))
        return alive

    # -- the teacher's room ---------------------------------------------------------------------
    def start(self) -> Teacher:
        full = RoomError(f"This server already runs {self.limits.max_rooms} classes, the most it "
                         "can; try again when one has ended.")
        if self._rooms_alive() >= self.limits.max_rooms:
            raise full
        key = secrets.token_urlsafe(24)
        while True:
            code = new_code()
            if self.store.hsetnx(self._key(code), "key", _key_hash(key)):
                break
        now = self.clock()
        meta = {"teacher_seen": repr(now).encode(), "created": repr(now).encode()}
        self.store.hset(self._key(code), meta)
        self._keep(code, meta, "")
        if self._rooms_alive() > self.limits.max_rooms:   # another start() won the last place
            self.store.delete(*self._keys(code))
            raise full
        return Teacher(code, key)

    def is_teacher(self, code, key) -> bool:
        try:
            self._teacher(code, key)
        except RoomError:
            return False
        return True

    def end(self, code, key) -> None:
        code, _ = self._teacher(code, key)
        self.store.delete(*self._keys(code))

    def exists(self, code) -> bool:
        """Whether a room runs with this code. Not rate-limited: let visitors' typed codes go
        through join(), which is."""
        try:
            self._meta(code)
        except RoomError:
            return False
        return True

    def teacher_seen(self, code, key) -> None:
        code, meta = self._teacher(code, key)
        now = self.clock()
        if now - float(meta["teacher_seen"]) < _TEACHER_WRITE_EVERY:
            return
        meta = {"teacher_seen": repr(now).encode()}
        self.store.hset(self._key(code), meta)
        self._keep(code, meta, *_PARTS)

    # -- students -------------------------------------------------------------------------------
    def _count_failed_join(self, address: str) -> None:
        minute = int(self.clock() // 60)
        key = f"cnnviz:joins:{minute}"
        self.store.hincrby(key, address, 1)
        self.store.expire([key], 120)

    def join(self, code, nickname, address) -> str:
        """A new student's secret seat token. The code is checked before the nickname; an address
        with joins_per_minute failed joins this minute is refused whatever it sends."""
        address = str(address or "unknown")[:100]
        failed = self.store.hget(f"cnnviz:joins:{int(self.clock() // 60)}", address)
        if failed is not None and int(failed) >= self.limits.joins_per_minute:
            raise RoomError("Too many tries to join from this address; wait a minute and try again.")
        try:
            code, meta = self._meta(code)
        except RoomError:
            self._count_failed_join(address)
            raise
        nickname = _one_line(nickname, "nickname", self.limits.max_nickname_chars)
        seat = secrets.token_urlsafe(16)
        if self.store.hincrby(self._key(code), "students", 1) > self.limits.max_students:
            self.store.hincrby(self._key(code), "students", -1)
            raise RoomError(f"This class is full ({self.limits.max_students} students).")
        if not self.store.hsetnx(self._key(code, ":nicknames"), nickname.casefold(), seat.encode()):
            self.store.hincrby(self._key(code), "students", -1)
            raise RoomError("Someone in this class already has this nickname; pick another.")
        student = {"nickname": nickname, "following": True, "seen": self.clock()}
        self.store.hset(self._key(code, ":students"), {seat: _dump(student)})
        self._keep(code, meta, ":students", ":nicknames")
        return seat

    def _seat(self, code: str, seat) -> dict:
        raw = self.store.hget(self._key(code, ":students"), seat) if isinstance(seat, str) else None
        if raw is None:
            raise RoomError(_NO_SEAT)
        return _load(raw)

    def student(self, code, seat) -> Student | None:
        code, _ = self._meta(code)
        try:
            return Student(**self._seat(code, seat))
        except RoomError:
            return None

    def _update_student(self, code, seat, **changes) -> None:
        code, _ = self._meta(code)
        student = self._seat(code, seat) | changes
        self.store.hset(self._key(code, ":students"), {seat: _dump(student)})

    def seen(self, code, seat) -> None:
        self._update_student(code, seat, seen=self.clock())

    def set_following(self, code, seat, following: bool) -> None:
        self._update_student(code, seat, following=bool(following), seen=self.clock())

    def students(self, code) -> list[Student]:
        code, _ = self._meta(code)
        found = [Student(**_load(raw)) for raw in self.store.hgetall(self._key(code, ":students")).values()]
        return sorted(found, key=lambda s: (s.nickname.casefold(), s.nickname))

    # -- the view students follow ---------------------------------------------------------------
    def _clean_view(self, page, query) -> tuple[str, dict[str, str]]:
        page = _one_line(page, "page", self.limits.max_page_chars, empty_ok=True)
        if not isinstance(query, dict):
            raise RoomError("The page's settings must be name=value pairs.")
        clean = {}
        for name, value in query.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise RoomError("The page's settings must be text.")
            if name not in _HIDDEN_QUERY:
                clean[name] = value
        if (len(clean) > self.limits.max_query_items
                or sum(len(k) + len(v) for k, v in clean.items()) > self.limits.max_query_chars):
            raise RoomError("The page's settings are too long to share with the class.")
        return page, dict(sorted(clean.items()))

    def set_view(self, code, key, page, query) -> View:
        code, meta = self._teacher(code, key)
        page, query = self._clean_view(page, query)
        current = self.view(code)
        if current is not None and (current.page, current.query) == (page, query):
            return current
        version = self.store.hincrby(self._key(code), "view_version", 1)
        self.store.hset(self._key(code), {"view": _dump({"page": page, "query": query, "version": version})})
        return View(page, query, version)

    def view(self, code) -> View | None:
        _, meta = self._meta(code)
        found = _load(meta.get("view"))
        return None if found is None else View(found["page"], found["query"], found["version"])

    def status(self, code) -> Status:
        """The room's view version and question, read at once (no answers counted): what a
        process's watcher compares with what each member's page shows. RoomError once it ended."""
        _, meta = self._meta(code)
        view, poll = _load(meta.get("view")), _load(meta.get("poll"))
        return Status(None if view is None else view["version"],
                      None if poll is None else (poll["id"], bool(poll["revealed"] and poll["counts"] is not None)))

    # -- questions ------------------------------------------------------------------------------
    def ask(self, code, key, prompt, choices, right, why_wrong=()) -> Poll:
        code, meta = self._teacher(code, key)
        lim = self.limits
        prompt = _one_line(prompt, "question", lim.max_prompt_chars)
        if isinstance(choices, str) or not 2 <= len(choices := list(choices)) <= lim.max_choices:
            raise RoomError(f"A question has 2 to {lim.max_choices} choices.")
        choices = [_one_line(c, "choice", lim.max_choice_chars) for c in choices]
        if not isinstance(right, int) or isinstance(right, bool) or not 0 <= right < len(choices):
            raise RoomError("The right answer must be one of the choices.")
        why_wrong = list(why_wrong or [""] * len(choices))
        if len(why_wrong) != len(choices):
            raise RoomError("Say why each choice is wrong (one text per choice).")
        why_wrong = [_one_line(w, "explanation", lim.max_prompt_chars, empty_ok=True) for w in why_wrong]
        why_wrong[right] = ""
        poll_id = self.store.hincrby(self._key(code), "poll_seq", 1)
        stored = {"id": poll_id, "prompt": prompt, "choices": choices, "right": right,
                  "why_wrong": why_wrong, "revealed": False, "counts": None}
        self.store.hset(self._key(code), {"poll": _dump(stored)})
        self.store.delete(self._key(code, ":answers"))     # the replaced poll's answers
        return self._poll(code, stored)

    def _poll(self, code: str, stored: dict | None) -> Poll | None:
        if stored is None:
            return None
        counts = stored["counts"]
        if counts is None:
            counts = [0] * len(stored["choices"])
            for value in self.store.hgetall(self._key(code, ":answers")).values():
                poll_id, choice = map(int, value.split(b":"))
                if poll_id == stored["id"]:
                    counts[choice] += 1
        revealed = stored["revealed"] and stored["counts"] is not None
        return Poll(stored["id"], stored["prompt"], tuple(stored["choices"]), tuple(counts), sum(counts),
                    revealed, stored["right"] if revealed else None,
                    tuple(stored["why_wrong"]) if revealed else ())

    def poll(self, code) -> Poll | None:
        """The question asked, with the live counts; right and why_wrong only once revealed."""
        code, meta = self._meta(code)
        return self._poll(code, _load(meta.get("poll")))

    def _open_poll(self, code: str, poll_id) -> dict:
        stored = _load(self.store.hget(self._key(code), "poll"))
        if stored is None or stored["id"] != poll_id:
            raise RoomError("This question has been replaced; answer the new one.")
        if stored["revealed"]:
            raise RoomError("The answer has been shown; answers are closed.")
        return stored

    def answer(self, code, seat, poll_id, choice: int) -> None:
        code, meta = self._meta(code)
        self._seat(code, seat)
        stored = self._open_poll(code, poll_id)
        if not isinstance(choice, int) or isinstance(choice, bool) or not 0 <= choice < len(stored["choices"]):
            raise RoomError("Pick one of the choices.")
        self.store.hset(self._key(code, ":answers"), {seat: f"{poll_id}:{choice}".encode()})
        self._keep(code, meta, ":answers")
        self._open_poll(code, poll_id)   # revealed meanwhile: the frozen counts may lack this answer

    def my_answer(self, code, seat, poll_id) -> int | None:
        code, _ = self._meta(code)
        raw = self.store.hget(self._key(code, ":answers"), seat) if isinstance(seat, str) else None
        if raw is None:
            return None
        answered_poll, choice = map(int, raw.split(b":"))
        return choice if answered_poll == poll_id else None

    def reveal(self, code, key) -> Poll:
        code, meta = self._teacher(code, key)
        stored = _load(meta.get("poll"))
        if stored is None:
            raise RoomError("No question has been asked.")
        if not stored["revealed"]:
            stored["revealed"] = True           # first closed, then counted: see the docstring
            self.store.hset(self._key(code), {"poll": _dump(stored)})
            stored["counts"] = list(self._poll(code, stored).counts)
            self.store.hset(self._key(code), {"poll": _dump(stored)})
        return self._poll(code, stored)

    # -- the gallery ----------------------------------------------------------------------------
    def send_drawing(self, code, seat, png: bytes, asked: str) -> str:
        code, meta = self._meta(code)
        student = self._seat(code, seat)
        lim = self.limits
        asked = _one_line(asked, "label", lim.max_asked_chars, empty_ok=True)
        if not isinstance(png, (bytes, bytearray)) or not bytes(png).startswith(_PNG_SIGNATURE):
            raise RoomError("A drawing must be a PNG picture.")
        if len(png) > lim.max_drawing_bytes:
            raise RoomError(f"The drawing is larger than {lim.max_drawing_bytes // 1000} kB.")
        room, sent = self._key(code), self._key(code, ":sent")
        if self.store.hincrby(sent, seat, 1) > lim.max_drawings_per_student:
            self.store.hincrby(sent, seat, -1)
            raise RoomError(f"You have sent {lim.max_drawings_per_student} drawings, the most one "
                            "student can; the teacher can remove one.")
        if self.store.hincrby(room, "gallery", 1) > lim.max_gallery:
            self.store.hincrby(room, "gallery", -1)
            self.store.hincrby(sent, seat, -1)
            raise RoomError(f"The class's gallery is full ({lim.max_gallery} drawings).")
        drawing_id = str(self.store.hincrby(room, "drawing_seq", 1))
        self.store.hset(self._key(code, ":pngs"), {drawing_id: bytes(png)})   # before its entry
        entry = {"nickname": student["nickname"], "asked": asked, "sent": self.clock(), "seat": seat}
        self.store.hset(self._key(code, ":drawings"), {drawing_id: _dump(entry)})
        self._keep(code, meta, ":sent", ":pngs", ":drawings")
        return drawing_id

    def gallery(self, code) -> list[Drawing]:
        """The room's drawings, oldest first."""
        code, _ = self._meta(code)
        pngs = self.store.hgetall(self._key(code, ":pngs"))
        found = []
        for drawing_id, raw in self.store.hgetall(self._key(code, ":drawings")).items():
            if drawing_id in pngs:
                entry = _load(raw)
                found.append(Drawing(drawing_id, entry["nickname"], entry["asked"], pngs[drawing_id], entry["sent"]))
        return sorted(found, key=lambda d: int(d.id))

    def remove_drawing(self, code, key, drawing_id) -> None:
        code, _ = self._teacher(code, key)
        drawing_id = str(drawing_id)
        entry = _load(self.store.hget(self._key(code, ":drawings"), drawing_id))
        if entry is None or not self.store.hdel(self._key(code, ":drawings"), drawing_id):
            raise RoomError("This drawing has already been removed.")
        self.store.hdel(self._key(code, ":pngs"), drawing_id)
        self.store.hincrby(self._key(code), "gallery", -1)
        self.store.hincrby(self._key(code, ":sent"), entry["seat"], -1)


_server_rooms: Rooms | None = None
_server_lock = threading.Lock()


def rooms_for_server() -> Rooms:
    """This process's Rooms, over store_from_env() (made once)."""
    global _server_rooms
    with _server_lock:
        if _server_rooms is None:
            _server_rooms = Rooms(store_from_env())
        return _server_rooms
