"""The live class's core (cnnviz.classroom): room logic on a fake clock, and one contract suite
run against both stores, MemoryStore and a real redis-server (tests/redis_server.py)."""
from __future__ import annotations

import threading
import time

import pytest
import redis as redis_py

from cnnviz.classroom import Limits, RoomError, Rooms, rooms_for_server
from cnnviz.classroom import codes, rooms as rooms_module
from cnnviz.classroom.errors import StoreUnavailable
from cnnviz.classroom.rooms import Status
from cnnviz.classroom.store import MemoryStore, RedisStore, store_from_env
from redis_server import _port, redis_url  # noqa: F401  (the fixture)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def make_rooms(clock, **limits) -> Rooms:
    return Rooms(MemoryStore(clock), Limits(**limits), clock)


@pytest.fixture
def rooms(clock):
    return make_rooms(clock)


@pytest.fixture
def room(rooms):
    return rooms.start()


def one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert text and "\n" not in text and len(text) < 200
    return text


# -- codes ----------------------------------------------------------------------------------------
def test_codes_come_from_the_unambiguous_alphabet():
    assert len(codes.ALPHABET) == 31 and not set("01OIL") & set(codes.ALPHABET)
    made = {codes.new_code() for _ in range(200)}
    assert len(made) == 200
    assert all(len(c) == codes.LENGTH and set(c) <= set(codes.ALPHABET) for c in made)


def test_parse_code_tidies_what_people_type():
    assert codes.parse_code("  ab3-k7q ") == "AB3K7Q"
    assert codes.parse_code("AB3 K7Q") == "AB3K7Q"


@pytest.mark.parametrize("bad", ["", "ABC", "ABCDEFG", "AB0K7Q", "ABIK7Q", "AB\nK7Q", "x" * 1000, None, 123456])
def test_parse_code_refuses_in_one_line(bad):
    with pytest.raises(RoomError) as e:
        codes.parse_code(bad)
    one_line(e)


# -- the teacher's room ---------------------------------------------------------------------------
def test_a_room_is_its_teachers(rooms, room):
    assert rooms.exists(room.code) and rooms.exists(room.code.lower())
    assert rooms.is_teacher(room.code, room.key)
    assert not rooms.is_teacher(room.code, room.key + "x")
    assert not rooms.is_teacher(room.code, None)
    other = "ZZZZZZ" if room.code != "ZZZZZZ" else "YYYYYY"
    assert not rooms.exists(other)
    assert not rooms.exists("bad code")


@pytest.mark.parametrize("action", [
    lambda r, c, k: r.end(c, k),
    lambda r, c, k: r.teacher_seen(c, k),
    lambda r, c, k: r.set_view(c, k, "convolution", {}),
    lambda r, c, k: r.ask(c, k, "Which?", ["a", "b"], 0, ["", "no"]),
    lambda r, c, k: r.reveal(c, k),
    lambda r, c, k: r.remove_drawing(c, k, "1"),
])
@pytest.mark.parametrize("wrong_key", ["", "guess", None])
def test_teacher_only_actions_refuse_a_wrong_key(rooms, room, action, wrong_key):
    rooms.ask(room.code, room.key, "Which?", ["a", "b"], 0)
    with pytest.raises(RoomError) as e:
        action(rooms, room.code, wrong_key)
    assert "teacher" in one_line(e)
    assert rooms.exists(room.code) and not rooms.poll(room.code).revealed


def test_end_deletes_everything_of_the_room(rooms, room):
    seat = rooms.join(room.code, "Ann", "10.0.0.1")
    poll = rooms.ask(room.code, room.key, "Which?", ["a", "b"], 0)
    rooms.answer(room.code, seat, poll.id, 1)
    rooms.send_drawing(room.code, seat, PNG, "7")
    assert len(rooms.store.scan(rooms_module.PREFIX + room.code)) == 7
    rooms.end(room.code, room.key)
    assert rooms.store.scan(rooms_module.PREFIX) == []
    assert not rooms.exists(room.code)
    for call in (lambda: rooms.students(room.code), lambda: rooms.join(room.code, "Bo", "10.0.0.2")):
        with pytest.raises(RoomError) as e:
            call()
        assert "no class" in one_line(e)


def test_a_room_ends_after_the_teacher_is_absent(clock):
    rooms = make_rooms(clock, teacher_absent_seconds=100)
    kept, left = rooms.start(), rooms.start()
    for _ in range(3):            # the heartbeat keeps a room well past 100 s
        clock.now += 60
        rooms.teacher_seen(kept.code, kept.key)
    assert rooms.exists(kept.code) and not rooms.exists(left.code)
    assert rooms.store.scan(rooms_module.PREFIX + left.code) == []   # dropped when found ended
    clock.now += 101
    assert not rooms.exists(kept.code)
    with pytest.raises(RoomError):
        rooms.teacher_seen(kept.code, kept.key)


def test_the_store_drops_an_ended_room_by_itself(clock):
    rooms = make_rooms(clock, teacher_absent_seconds=100)
    room = rooms.start()
    rooms.join(room.code, "Ann", "10.0.0.1")
    clock.now += 100 + rooms_module._STORE_SLACK + 1
    assert rooms.store.scan(rooms_module.PREFIX) == []   # nobody asked: expiry alone


def test_rooms_per_server_are_limited_and_freed(clock):
    rooms = make_rooms(clock, max_rooms=2, teacher_absent_seconds=100)
    first, _ = rooms.start(), rooms.start()
    with pytest.raises(RoomError) as e:
        rooms.start()
    assert "2 classes" in one_line(e)
    rooms.end(first.code, first.key)
    rooms.start()
    clock.now += 101              # both rooms left by their teachers
    rooms.start()


# -- students -------------------------------------------------------------------------------------
def test_students_join_with_a_nickname(rooms, room):
    seat = rooms.join(room.code.lower(), "  Ann  ", "10.0.0.1")
    rooms.join(room.code, "bo", "10.0.0.1")
    assert [s.nickname for s in rooms.students(room.code)] == ["Ann", "bo"]
    me = rooms.student(room.code, seat)
    assert me.nickname == "Ann" and me.following
    assert rooms.student(room.code, "not-a-seat") is None and rooms.student(room.code, None) is None


@pytest.mark.parametrize("bad,why", [("", "empty"), ("   ", "empty"), ("x" * 25, "24"),
                                     ("a\nb", "cannot be shown"), ("a\x00b", "cannot be shown"),
                                     ("a\u202eb", "cannot be shown"), (None, "text"), (7, "text")])
def test_bad_nicknames_get_one_line(rooms, room, bad, why):
    with pytest.raises(RoomError) as e:
        rooms.join(room.code, bad, "10.0.0.1")
    assert why in one_line(e)
    assert rooms.students(room.code) == []


def test_a_nickname_is_taken_once_per_room(rooms, room):
    rooms.join(room.code, "Ann", "10.0.0.1")
    with pytest.raises(RoomError) as e:
        rooms.join(room.code, "ANN", "10.0.0.2")
    assert "already has this nickname" in one_line(e)
    assert len(rooms.students(room.code)) == 1
    other = rooms.start()
    rooms.join(other.code, "Ann", "10.0.0.1")


def test_students_per_room_are_limited(clock):
    rooms = make_rooms(clock, max_students=3)
    room = rooms.start()
    for name in "abc":
        rooms.join(room.code, name, "10.0.0.1")
    with pytest.raises(RoomError) as e:
        rooms.join(room.code, "d", "10.0.0.1")
    assert "full (3" in one_line(e)
    assert len(rooms.students(room.code)) == 3


def test_failed_joins_are_limited_per_address_per_minute(clock):
    rooms = make_rooms(clock, joins_per_minute=5)
    room = rooms.start()
    clock.now = 60 * (clock.now // 60)          # the start of a minute
    for _ in range(5):
        with pytest.raises(RoomError):
            rooms.join("AAAAAA" if room.code != "AAAAAA" else "BBBBBB", "Eve", "6.6.6.6")
    with pytest.raises(RoomError) as e:          # even the right code now
        rooms.join(room.code, "Eve", "6.6.6.6")
    assert "Too many tries" in one_line(e)
    rooms.join(room.code, "Ann", "10.0.0.1")     # another address is not affected
    for n in range(10):                          # nor are successful joins from one address (a school)
        rooms.join(room.code, f"kid{n}", "10.0.0.1")
    clock.now += 60
    rooms.join(room.code, "Eve", "6.6.6.6")


def test_following_and_heartbeat(rooms, room, clock):
    seat = rooms.join(room.code, "Ann", "10.0.0.1")
    rooms.set_following(room.code, seat, False)
    assert not rooms.student(room.code, seat).following
    clock.now += 5
    rooms.seen(room.code, seat)
    assert rooms.student(room.code, seat).seen == clock.now
    rooms.set_following(room.code, seat, True)
    assert rooms.students(room.code)[0].following
    with pytest.raises(RoomError) as e:
        rooms.seen(room.code, "forged")
    assert "join it again" in one_line(e)


# -- the view -------------------------------------------------------------------------------------
def test_the_view_bumps_its_version_only_on_change(rooms, room):
    assert rooms.view(room.code) is None
    v1 = rooms.set_view(room.code, room.key, "convolution", {"kernel": "sobel_x", "key": room.key,
                                                              "room": room.code, "seat": "s"})
    assert v1.query == {"kernel": "sobel_x"} and v1.version == 1
    assert rooms.set_view(room.code, room.key, "convolution", {"kernel": "sobel_x"}) == v1
    v2 = rooms.set_view(room.code, room.key, "convolution", {"kernel": "sobel_y"})
    v3 = rooms.set_view(room.code, room.key, "", {})
    assert (v2.version, v3.version) == (2, 3) and rooms.view(room.code) == v3


def test_status_reads_the_view_version_and_the_question_at_once(rooms, room):
    assert rooms.status(room.code) == Status(None, None)
    rooms.set_view(room.code, room.key, "convolution", {"stride": "2"})
    seat = rooms.join(room.code, "ann", "10.0.0.1")
    poll = rooms.ask(room.code, room.key, "Which?", ["a", "b"], 1)
    assert rooms.status(room.code) == Status(1, (poll.id, False))
    rooms.answer(room.code, seat, poll.id, 0)
    assert rooms.status(room.code) == Status(1, (poll.id, False))     # answers do not change it
    rooms.reveal(room.code, room.key)
    rooms.set_view(room.code, room.key, "", {})
    assert rooms.status(room.code) == Status(2, (poll.id, True))
    rooms.end(room.code, room.key)
    with pytest.raises(RoomError):
        rooms.status(room.code)


@pytest.mark.parametrize("page,query", [("x" * 101, {}), ("a\nb", {}), ("network", {"a": 1}),
                                        ("network", ["a"]), ("network", {"a": "x" * 5000})])
def test_bad_views_are_refused(rooms, room, page, query):
    with pytest.raises(RoomError) as e:
        rooms.set_view(room.code, room.key, page, query)
    one_line(e)
    assert rooms.view(room.code) is None


# -- questions ------------------------------------------------------------------------------------
def ask_three(rooms, room):
    return rooms.ask(room.code, room.key, "Which map is Sobel x?", ["A", "B", "C"], 1,
                     ["A finds horizontal edges", "", "C is the input"])


def test_answers_are_changeable_until_the_reveal(rooms, room):
    seats = [rooms.join(room.code, n, "10.0.0.1") for n in ("a", "b", "c")]
    poll = ask_three(rooms, room)
    assert poll.counts == (0, 0, 0) and poll.right is None and poll.why_wrong == ()
    rooms.answer(room.code, seats[0], poll.id, 0)
    rooms.answer(room.code, seats[1], poll.id, 0)
    rooms.answer(room.code, seats[0], poll.id, 1)      # changed: still one answer
    shown = rooms.poll(room.code)
    assert (shown.counts, shown.answered, shown.revealed, shown.right, shown.why_wrong) == ((1, 1, 0), 2, False, None, ())
    assert rooms.my_answer(room.code, seats[0], poll.id) == 1
    assert rooms.my_answer(room.code, seats[2], poll.id) is None
    revealed = rooms.reveal(room.code, room.key)
    assert revealed.revealed and revealed.right == 1 and revealed.counts == (1, 1, 0)
    assert revealed.why_wrong == ("A finds horizontal edges", "", "C is the input")
    assert rooms.poll(room.code) == revealed
    with pytest.raises(RoomError) as e:
        rooms.answer(room.code, seats[2], poll.id, 2)
    assert "closed" in one_line(e)
    assert rooms.poll(room.code).counts == (1, 1, 0)
    assert rooms.reveal(room.code, room.key) == revealed    # twice: the same


def test_a_new_question_replaces_the_open_one(rooms, room):
    seat = rooms.join(room.code, "a", "10.0.0.1")
    first = ask_three(rooms, room)
    rooms.answer(room.code, seat, first.id, 2)
    second = rooms.ask(room.code, room.key, "Yes or no?", ["yes", "no"], 0)
    assert second.id != first.id and rooms.poll(room.code).counts == (0, 0)
    assert rooms.my_answer(room.code, seat, second.id) is None
    with pytest.raises(RoomError) as e:
        rooms.answer(room.code, seat, first.id, 0)
    assert "replaced" in one_line(e)


@pytest.mark.parametrize("choice", [-1, 3, True, "1", None, 1.0])
def test_an_answer_must_be_a_choice(rooms, room, choice):
    seat = rooms.join(room.code, "a", "10.0.0.1")
    poll = ask_three(rooms, room)
    with pytest.raises(RoomError) as e:
        rooms.answer(room.code, seat, poll.id, choice)
    one_line(e)
    assert rooms.poll(room.code).answered == 0


def test_only_students_of_the_room_answer(rooms, room):
    poll = ask_three(rooms, room)
    with pytest.raises(RoomError):
        rooms.answer(room.code, "forged", poll.id, 0)
    assert rooms.poll(room.code).answered == 0


@pytest.mark.parametrize("prompt,choices,right,why", [
    ("", ["a", "b"], 0, ()), ("Q", ["a"], 0, ()), ("Q", ["a", "b"], 2, ()), ("Q", ["a", "b"], True, ()),
    ("Q", ["a", ""], 0, ()), ("Q", "ab", 0, ()), ("Q", ["a", "b"], 0, ["x"]), ("Q", [str(i) for i in range(11)], 0, ()),
])
def test_bad_questions_are_refused(rooms, room, prompt, choices, right, why):
    with pytest.raises(RoomError) as e:
        rooms.ask(room.code, room.key, prompt, choices, right, why)
    one_line(e)
    assert rooms.poll(room.code) is None
    with pytest.raises(RoomError) as e:
        rooms.reveal(room.code, room.key)
    assert "No question" in one_line(e)


# -- the gallery ----------------------------------------------------------------------------------
def test_the_gallery_keeps_drawings_oldest_first(rooms, room, clock):
    ann, bo = rooms.join(room.code, "Ann", "10.0.0.1"), rooms.join(room.code, "Bo", "10.0.0.1")
    first = rooms.send_drawing(room.code, ann, PNG + b"1", "3")
    clock.now += 1
    second = rooms.send_drawing(room.code, bo, PNG + b"2", "")
    shown = rooms.gallery(room.code)
    assert [(d.id, d.nickname, d.asked, d.png) for d in shown] == [(first, "Ann", "3", PNG + b"1"),
                                                                   (second, "Bo", "", PNG + b"2")]
    assert shown[1].sent == shown[0].sent + 1
    rooms.remove_drawing(room.code, room.key, first)
    assert [d.id for d in rooms.gallery(room.code)] == [second]
    with pytest.raises(RoomError) as e:
        rooms.remove_drawing(room.code, room.key, first)
    assert "already" in one_line(e)


def test_drawings_per_student_are_limited_until_one_is_removed(clock):
    rooms = make_rooms(clock, max_drawings_per_student=2, max_gallery=3)
    room = rooms.start()
    ann, bo = rooms.join(room.code, "Ann", "1"), rooms.join(room.code, "Bo", "1")
    kept = [rooms.send_drawing(room.code, ann, PNG, "1") for _ in range(2)]
    with pytest.raises(RoomError) as e:
        rooms.send_drawing(room.code, ann, PNG, "1")
    assert "2 drawings" in one_line(e)
    rooms.send_drawing(room.code, bo, PNG, "1")
    with pytest.raises(RoomError) as e:                 # the room's gallery is full
        rooms.send_drawing(room.code, bo, PNG, "1")
    assert "full (3" in one_line(e)
    rooms.remove_drawing(room.code, room.key, kept[0])
    rooms.send_drawing(room.code, ann, PNG, "1")
    assert len(rooms.gallery(room.code)) == 3


@pytest.mark.parametrize("png,asked,why", [(b"GIF89a...", "1", "PNG"), ("text", "1", "PNG"),
                                           (PNG + b"\0" * 20_000, "1", "20 kB"),
                                           (PNG, "x" * 41, "40"), (PNG, "a\nb", "cannot be shown")])
def test_bad_drawings_are_refused(rooms, room, png, asked, why):
    seat = rooms.join(room.code, "Ann", "1")
    with pytest.raises(RoomError) as e:
        rooms.send_drawing(room.code, seat, png, asked)
    assert why in one_line(e)
    assert rooms.gallery(room.code) == []
    rooms.send_drawing(room.code, seat, PNG, "1")    # nothing was used up


def test_rooms_for_server_is_one_per_process(monkeypatch):
    monkeypatch.delenv("CNNVIZ_REDIS_URL", raising=False)
    monkeypatch.setattr(rooms_module, "_server_rooms", None)
    assert rooms_for_server() is rooms_for_server()
    assert isinstance(rooms_for_server().store, MemoryStore)


# -- one contract, both stores --------------------------------------------------------------------
@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        yield MemoryStore()
        return
    url = request.getfixturevalue("redis_url")
    redis_py.Redis.from_url(url).flushdb()
    made = RedisStore(url)
    yield made
    made.close()


def test_store_hashes(store):
    assert store.hgetall("h") == {} and store.hget("h", "f") is None and store.hlen("h") == 0
    store.hset("h", {"a": b"1", "b": b"\x00\xff"})
    assert store.hgetall("h") == {"a": b"1", "b": b"\x00\xff"} and store.hget("h", "b") == b"\x00\xff"
    assert store.hsetnx("h", "a", b"2") is False and store.hget("h", "a") == b"1"
    assert store.hsetnx("h", "c", b"3") is True and store.hlen("h") == 3
    assert store.hincrby("h", "n", 5) == 5 and store.hincrby("h", "n", -7) == -2
    assert store.hdel("h", "a", "missing") == 1 and store.hdel("h") == 0
    assert store.hdel("h", "b", "c", "n") == 3
    assert store.scan("h") == []                      # an emptied hash is gone
    store.hset("h", {"a": b"1"})
    store.delete("h", "other")
    assert store.hgetall("h") == {}


def test_store_scan_by_prefix(store):
    for key in ("room:A", "room:A:x", "room:B", "roomy", "z:room:A", "r*m:[1]"):
        store.hset(key, {"f": b"1"})
    assert sorted(store.scan("room:")) == ["room:A", "room:A:x", "room:B"]
    assert store.scan("r*m:[") == ["r*m:[1]"]          # glob characters taken literally


def test_store_expiry(store):
    store.hset("short", {"f": b"1"})
    store.hset("long", {"f": b"1"})
    store.expire(["short", "missing"], 1)
    store.expire(["long"], 60)
    assert store.hget("short", "f") == b"1"
    time.sleep(1.2)
    assert store.hgetall("short") == {} and store.scan("short") == []
    assert store.hget("long", "f") == b"1"
    assert store.hsetnx("short", "f", b"2") is True     # gone for good, a new key may start


def test_memory_store_expiry_reads_its_clock(clock):
    store = MemoryStore(clock)
    store.hset("k", {"f": b"1"})
    store.expire(["k"], 10)
    clock.now += 9.9
    assert store.hlen("k") == 1
    clock.now += 0.1
    assert store.hlen("k") == 0


def test_memory_store_frees_keys_nobody_reads_again(clock):
    rooms = make_rooms(clock, teacher_absent_seconds=100)
    for _ in range(5):                               # left by their teachers, never looked up again
        room = rooms.start()
        rooms.join(room.code, "Ann", "10.0.0.1")
        rooms.join(room.code, "Bo", "10.0.0.1")
        with pytest.raises(RoomError):
            rooms.join("AAAAAA" if room.code != "AAAAAA" else "BBBBBB", "Eve", "6.6.6.6")
    assert len(rooms.store) == 5 * 3 + 1             # room, students, nicknames; the failed joins
    clock.now += 100 + rooms_module._STORE_SLACK + 1
    rooms.store.hset("other", {"f": b"1"})           # any write sweeps
    assert len(rooms.store) == 1


def test_a_whole_lesson_on_each_store(store):
    rooms = Rooms(store)
    room = rooms.start()
    seat = rooms.join(room.code, "Ann", "10.0.0.1")
    assert rooms.set_view(room.code, room.key, "pooling", {"size": "2"}).version == 1
    poll = ask_three(rooms, room)
    rooms.answer(room.code, seat, poll.id, 2)
    assert rooms.poll(room.code).counts == (0, 0, 1)
    assert rooms.reveal(room.code, room.key).right == 1
    drawing = rooms.send_drawing(room.code, seat, PNG, "4")
    assert rooms.gallery(room.code)[0].png == PNG
    rooms.remove_drawing(room.code, room.key, drawing)
    rooms.teacher_seen(room.code, room.key)
    rooms.end(room.code, room.key)
    assert store.scan(rooms_module.PREFIX) == []


def _answer_at_once(rooms_objects, room, poll_id, seats, choice_of):
    start = threading.Barrier(len(seats))
    errors = []

    def one(i, seat):
        start.wait()
        try:
            rooms_objects[i % len(rooms_objects)].answer(room.code, seat, poll_id, choice_of(i))
        except Exception as e:            # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i, s)) for i, s in enumerate(seats)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_sixty_answers_at_once_are_sixty(store):
    rooms = Rooms(store)
    room = rooms.start()
    seats = [rooms.join(room.code, f"s{i}", "10.0.0.1") for i in range(60)]
    poll = ask_three(rooms, room)
    _answer_at_once([rooms], room, poll.id, seats, lambda i: i % 3)
    assert rooms.poll(room.code).counts == (20, 20, 20)
    _answer_at_once([rooms], room, poll.id, seats, lambda i: 1)     # everyone changes their mind
    assert rooms.reveal(room.code, room.key).counts == (0, 60, 0)


def test_two_processes_share_a_room_through_redis(redis_url):
    redis_py.Redis.from_url(redis_url).flushdb()
    app1, app2 = Rooms(RedisStore(redis_url)), Rooms(RedisStore(redis_url))
    room = app1.start()
    assert app2.exists(room.code) and app2.is_teacher(room.code, room.key)
    seats = [(app1, app2)[i % 2].join(room.code, f"s{i}", "10.0.0.1") for i in range(60)]
    assert len(app1.students(room.code)) == 60
    app2.set_view(room.code, room.key, "network", {"picture": "3"})
    assert app1.view(room.code).query == {"picture": "3"}
    poll = ask_three(app1, room)
    _answer_at_once([app1, app2], room, poll.id, seats, lambda i: i % 2)
    assert app2.reveal(room.code, room.key).counts == (30, 30, 0)
    assert app1.poll(room.code).revealed
    app2.end(room.code, room.key)
    assert not app1.exists(room.code)


def test_store_from_env(monkeypatch, redis_url):
    monkeypatch.setenv("CNNVIZ_REDIS_URL", redis_url)
    assert isinstance(store_from_env(), RedisStore)
    monkeypatch.setenv("CNNVIZ_REDIS_URL", " ")
    assert isinstance(store_from_env(), MemoryStore)


def test_an_unreachable_redis_is_one_line():
    rooms = Rooms(RedisStore(f"redis://127.0.0.1:{_port()}/0"))   # a free port: nobody listens
    with pytest.raises(StoreUnavailable) as e:
        rooms.start()
    assert isinstance(e.value, RoomError) and "not answering" in one_line(e)
