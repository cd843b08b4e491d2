"""The live class (/class) through AppTest: a teacher and students as separate sessions of one
server process, sharing its rooms (the embedded store): start, join, follow, ask, gallery.

AppTest keeps running the page it was pointed at, so a student moved by st.switch_page (the
teacher's view) is checked in the run that moved it.
"""
from __future__ import annotations

import io
import pathlib

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz import samples
from cnnviz.classroom import rooms_for_server
from cnnviz.ui import class_session

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = "cnnviz/ui/pages/"
CONVOLUTION = "Convolution: sliding a kernel over an image"     # the page's title


def open_page(page: str = "class_room", query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.switch_page(PAGES + f"{page}.py").run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}: {[b.label for b in at.button]}"
    return found[0]


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def state(at: AppTest, key: str):
    """A session-state value, or None where the session holds none."""
    return at.session_state[key] if key in at.session_state else None


def html(at: AppTest) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


@pytest.fixture
def teacher():
    at = open_page()
    button(at, "Start a class").click().run()
    assert not at.exception and not at.error
    yield at
    if state(at, class_session.ROOM_KEY):
        rooms_for_server().end(at.session_state[class_session.ROOM_KEY], at.session_state[class_session.TEACHER_KEY])


def code_of(teacher: AppTest) -> str:
    return teacher.session_state[class_session.ROOM_KEY]


def join(code: str, nickname: str, by_link: bool = True) -> AppTest:
    at = open_page(query={"room": code} if by_link else None)
    if not by_link:
        at.text_input(key="class_join_code").input(code.lower())
    at.text_input(key="class_join_nickname").input(nickname)
    button(at, "Join").click().run()
    assert not at.exception
    return at


# --------------------------------------------------------------------------- start and join

def test_start_shows_the_code_large_with_its_qr_code_and_links(teacher):
    code = code_of(teacher)
    assert len(code) == 6 and dict(teacher.query_params)["room"] == code
    key = dict(teacher.query_params)["key"]
    assert rooms_for_server().is_teacher(code, key)
    shown = html(teacher)
    assert f'class="cz-code"' in shown and f">{code}</p>" in shown
    assert f"/class?room={code}" in shown
    qr = [i for i in teacher.main.get("image")]
    assert qr, "no QR code image"
    assert any(f"/class?room={code}" in (img.alt or "") for i in qr for img in i.proto.imgs)
    assert any(key in c.value and f"room={code}" in c.value for c in teacher.code)   # the teacher link
    assert "0** joined" in texts(teacher) and "What is kept, and for how long" in [e.label for e in teacher.expander]


def test_a_teacher_link_reopens_the_class_as_its_teacher(teacher):
    code, key = code_of(teacher), dict(teacher.query_params)["key"]
    again = open_page(query={"room": code, "key": key})
    assert again.session_state[class_session.TEACHER_KEY] == key
    assert button(again, "End the class now")
    wrong = ("y" if key[0] == "x" else "x") + key[1:]                   # a wrong key, never the right one
    stranger = open_page(query={"room": code, "key": wrong})
    assert class_session.TEACHER_KEY not in stranger.session_state or not stranger.session_state[class_session.TEACHER_KEY]
    assert any("has ended, or this teacher link is not its own" in i.value for i in stranger.info)


def test_join_by_code_and_by_link_and_bad_codes_and_nicknames(teacher):
    code = code_of(teacher)
    ana = join(code, "Ana", by_link=False)                   # typed, in lower case
    assert ana.session_state[class_session.SEAT_KEY] and "Class **" + code in texts(ana)
    assert "key" not in dict(ana.query_params) and dict(ana.query_params)["room"] == code
    seat = ana.session_state[class_session.SEAT_KEY]
    again = open_page("convolution", {"room": code, "seat": seat})   # a reload, or another page
    assert "Class **" + code + "** · Ana" in texts(again) and button(again, "Look around")
    bo = join(code, "**Bo** [x](http://e.vil)")              # markup shown as plain text
    assert not bo.error
    teacher.run()
    who = texts(teacher)
    assert "2** joined" in who and "Ana" in who and r"\*\*Bo\*\* \[x\](http\:" in who

    for typed, says in [("OO0", "A class code has 6 letters"), ("AAAAAI", "without I, L and O"),
                        ("ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY", "no class with this code")]:
        at = open_page()
        at.text_input(key="class_join_code").input(typed)
        at.text_input(key="class_join_nickname").input("Cy")
        button(at, "Join").click().run()
        assert len(at.error) == 1 and says in at.error[0].value, (typed, [e.value for e in at.error])
        assert at.text_input(key="class_join_nickname").value == "Cy"       # nothing lost
    for nickname, says in [("", "nickname is empty"), ("Ana", "already has this nickname"),
                           ("Bo\x07b", "cannot be shown")]:
        at = open_page(query={"room": code})
        at.text_input(key="class_join_nickname").input(nickname)
        button(at, "Join").click().run()
        assert len(at.error) == 1 and says in at.error[0].value, (nickname, [e.value for e in at.error])


def test_limits_are_one_line_each(monkeypatch):
    from cnnviz.classroom import Limits, Rooms
    from cnnviz.classroom.store import MemoryStore
    small = Rooms(MemoryStore(), Limits(max_rooms=1, max_students=1, joins_per_minute=2))
    monkeypatch.setattr(class_session, "rooms", lambda: small)
    first = open_page()
    button(first, "Start a class").click().run()
    code = first.session_state[class_session.ROOM_KEY]
    second = open_page()
    button(second, "Start a class").click().run()
    assert len(second.error) == 1 and "already runs 1 classes" in second.error[0].value
    join(code, "Ana")
    bo = join(code, "Bo")
    assert len(bo.error) == 1 and "This class is full (1 students)" in bo.error[0].value
    guesser, said = open_page(), []
    for _ in range(3):
        guesser.text_input(key="class_join_code").input("ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY")
        guesser.text_input(key="class_join_nickname").input("Cy")
        button(guesser, "Join").click().run()
        said.append([e.value for e in guesser.error])
    assert said[0] == ["There is no class with this code running (it may have ended)."], said
    assert said[-1] == ["Too many tries to join from this address; wait a minute and try again."], said


def test_a_made_up_seat_link_says_the_same_of_a_running_class_and_none(teacher):
    code = code_of(teacher)
    other = "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"
    said = []
    for room in (code, other):
        at = open_page("convolution", {"room": room, "seat": "made-up-seat"})
        said.append([i.value.replace(room, "CODE") for i in at.info if "class" in i.value])
        assert not state(at, class_session.ROOM_KEY)
    assert said[0] == said[1] == ["The class CODE has ended, or you are no longer in it."], said


def test_leaving_and_ending(teacher):
    code = code_of(teacher)
    ana = join(code, "Ana")
    button(ana, "Leave the class").click().run()
    assert not state(ana, class_session.SEAT_KEY)
    assert "Join" in [b.label for b in ana.button]
    bo = join(code, "Bo")
    button(teacher, "End the class now").click().run()
    assert not rooms_for_server().exists(code)
    assert any("has ended" in s.value for s in teacher.success)
    bo.run()
    assert any(code in i.value and "ended" in i.value for i in bo.info)
    assert "Join" in [b.label for b in bo.button]


# --------------------------------------------------------------------------- following

def test_students_follow_the_teachers_page_and_settings(teacher):
    code = code_of(teacher)
    ana, bo = join(code, "Ana"), join(code, "Bo")
    teacher.switch_page(PAGES + "convolution.py").run()
    teacher.slider(key="conv_stride").set_value(2).run()
    assert not teacher.exception
    view = rooms_for_server().view(code)
    assert view.page == "convolution" and view.query.get("stride") == "2"
    assert not {"room", "key", "seat"} & set(view.query)

    ana.run()                                    # the watch sees the new version and moves her
    assert [t.value for t in ana.title] == [CONVOLUTION]
    assert ana.session_state["conv_stride"] == 2
    assert dict(ana.query_params)["seat"] and "key" not in dict(ana.query_params)

    button(bo, "Look around").click().run()      # Bo explores on his own
    assert "Following" not in [b.label for b in bo.button] and button(bo, "Back to the teacher")
    bo.run()
    assert [t.value for t in bo.title] == ["A live class"]     # not moved
    teacher.run()
    assert "1** following" in texts(teacher)

    teacher.slider(key="conv_stride").set_value(1).run()       # back to the default: left out of the link
    ana.run()
    assert [t.value for t in ana.title] == [CONVOLUTION] and ana.session_state["conv_stride"] == 1
    button(bo, "Back to the teacher").click().run()            # one click: the teacher's view
    assert [t.value for t in bo.title] == [CONVOLUTION] and bo.session_state["conv_stride"] == 1


# --------------------------------------------------------------------------- asking the class

def test_a_lesson_question_counts_answers_and_reveals(teacher):
    code = code_of(teacher)
    students = [join(code, name) for name in ("Ana", "Bo", "Cy")]
    teacher.selectbox(key="class_ask_step").set_value(2).run()
    teacher.number_input(key="class_ask_seed").set_value(4821).run()
    button(teacher, "Ask the class").click().run()
    poll = rooms_for_server().poll(code)
    assert poll.prompt.startswith("Step 2, question set 4821: ") and len(poll.choices) >= 3

    answers = {}
    for i, at in enumerate(students):
        at.run()
        radio = at.radio(key=f"class_answer_{poll.id}")
        answers[i] = i % 2                       # Ana and Cy pick choice 0, Bo choice 1
        radio.set_value(radio.options[answers[i]]).run()
        assert "You can change it" in texts(at)
    radio = students[2].radio(key=f"class_answer_{poll.id}")       # Cy changes her mind
    radio.set_value(radio.options[1]).run()
    answers[2] = 1
    teacher.run()
    shown = html(teacher)
    counts = [sum(1 for a in answers.values() if a == c) for c in range(len(poll.choices))]
    assert "3** of 3 answered" in texts(teacher)
    for choice, n in zip(poll.choices, counts):
        assert f'{choice}</span>' in shown and f'<span class="cz-count">{n} (' in shown

    button(teacher, "Reveal the answer").click().run()
    done = rooms_for_server().poll(code)
    right = done.right
    said = " ".join(s.value for s in teacher.success)
    assert f"The answer is **{done.choices[right]}**: {counts[right]} of 3" in said
    for i, at in enumerate(students):
        at.run()
        if answers[i] == right:
            assert any("Right" in s.value for s in at.success)
        else:
            assert any(done.why_wrong[answers[i]] in w.value for w in at.warning)
        assert f"class_answer_{poll.id}" not in [r.key for r in at.radio]    # closed


def test_on_other_pages_students_answer_under_the_class_bar(teacher):
    code = code_of(teacher)
    ana = join(code, "Ana")
    teacher.segmented_control(key="class_ask_kind").set_value("Which map is Sobel x?").run()
    button(teacher, "Ask the class").click().run()
    poll = rooms_for_server().poll(code)
    assert poll.choices == ("Map A", "Map B", "Map C", "Map D")
    teacher.switch_page(PAGES + "pooling.py").run()
    ana.run()
    assert [t.value for t in ana.title] == ["Pooling & dropout"]
    ana.radio(key=f"class_answer_{poll.id}").set_value("Map B").run()
    assert rooms_for_server().my_answer(code, ana.session_state[class_session.SEAT_KEY], poll.id) == 1
    teacher.run()                                  # the teacher's bar on /pooling: count and Reveal
    assert "1** of 1 answered" in texts(teacher)
    button(teacher, "Reveal the answer").click().run()
    assert rooms_for_server().poll(code).revealed


# --------------------------------------------------------------------------- the gallery

def digit_photo(name: str) -> bytes:
    pixels = samples.load_sample(name).pixels
    out = io.BytesIO()
    Image.fromarray((np.asarray(pixels) * 255).astype(np.uint8)).resize((84, 84)).save(out, format="JPEG", quality=95)
    return out.getvalue()


@pytest.mark.slow
def test_gallery_send_predict_open_for_everyone_and_remove(teacher):
    code = code_of(teacher)
    ana = join(code, "Ana")
    teacher.selectbox(key="class_draw_digit").set_value("7").run()
    ana.run()
    assert [t.value for t in ana.title] == ["A live class"]
    assert "The teacher asks for a **7**" in texts(ana)
    assert ana.selectbox(key="class_send_digit").value == "7"
    ana.segmented_control(key="class_send_how").set_value("Photo").run()
    ana.camera_input(key="class_photo").set_value(("digit.jpg", digit_photo("mnist-7"), "image/jpeg")).run()
    button(ana, "Send to the class").click().run()
    assert any("Sent your 7" in s.value for s in ana.success), [e.value for e in ana.error]
    button(ana, "Send to the class").click().run()            # the same photo again: a second drawing
    assert len(rooms_for_server().gallery(code)) == 2

    teacher.run()
    assert not teacher.exception
    said = texts(teacher)
    assert "**Ana** · drew 7" in said and "network: **7** ✓" in said
    assert "read **2 of 2** drawings" in said
    assert "drawn \\ predicted" in html(teacher)

    first = rooms_for_server().gallery(code)[0].id
    teacher.button(key=f"class_open_{first}").click().run()
    assert [t.value for t in teacher.title] == ["Network explorer"]
    view = rooms_for_server().view(code)
    assert view.page == "network" and view.query["drawing"] == first
    ana.run()                                                  # Ana's session fetches the drawing
    assert [t.value for t in ana.title] == ["Network explorer"]
    assert ana.session_state["cnnviz_picture"].name == "class drawing by Ana"

    teacher.switch_page(PAGES + "class_room.py").run()
    teacher.button(key=f"class_remove_{first}").click().run()
    assert [d.id for d in rooms_for_server().gallery(code)] != [] and first not in [
        d.id for d in rooms_for_server().gallery(code)]


def test_a_blank_drawing_is_not_sent(teacher):
    ana = join(code_of(teacher), "Ana")
    button(ana, "Send to the class").click().run()
    assert len(ana.error) == 1 and "Draw a digit first" in ana.error[0].value


@pytest.mark.slow
def test_what_will_the_network_answer_shows_the_picture_and_reveals_the_prediction(teacher):
    code = code_of(teacher)
    ana = join(code, "Ana")
    teacher.selectbox(key="cnnviz_sample").set_value("mnist-7").run()
    teacher.segmented_control(key="class_ask_kind").set_value("What will the network answer?").run()
    assert teacher.selectbox(key="class_ask_net").value == "mnist"
    button(teacher, "Ask: what will the network answer?").click().run()
    assert not teacher.exception
    poll = rooms_for_server().poll(code)
    assert poll.prompt.endswith("[picture: sample mnist-7]") and len(poll.choices) == 10
    ana.run()
    alts = [img.alt for el in ana.main.get("image") for img in el.proto.imgs]
    assert any(alt.startswith("The picture the question is about") for alt in alts), alts
    assert "[picture" not in texts(ana)
    ana.radio(key=f"class_answer_{poll.id}").set_value("1").run()
    button(teacher, "Reveal the answer").click().run()
    done = rooms_for_server().poll(code)
    assert done.choices[done.right] == "7"                        # the digits network reads the sample 7
    assert "only" in done.why_wrong[1] and "%" in done.why_wrong[1]
    ana.run()
    assert any("The answer is **7**" in w.value for w in ana.warning)


def test_the_teacher_trains_on_the_class_drawings(teacher):
    from cnnviz.ui import class_gallery, own_pictures_store
    code, rooms = code_of(teacher), rooms_for_server()
    seats = [rooms.join(code, name, "10.0.0.1") for name in ("Ana", "Bo")]
    rooms.send_drawing(code, seats[0], class_gallery.to_png(samples.load_sample("mnist-3")), "3")
    teacher.run()
    button(teacher, "Train on the class's drawings").click().run()      # one class: not yet
    assert [t.value for t in teacher.title] == ["A live class"]
    assert len(teacher.error) == 1 and "cannot be trained on yet" in teacher.error[0].value

    for seat, (name, digit) in zip(seats * 2, [("mnist-3", "3"), ("mnist-7", "7"), ("mnist-7", "7")]):
        rooms.send_drawing(code, seat, class_gallery.to_png(samples.load_sample(name)), digit)
    teacher.run()
    button(teacher, "Train on the class's drawings").click().run()
    assert not teacher.exception
    assert [t.value for t in teacher.title] == ["Train a CNN"]
    assert teacher.session_state["train_dataset"] == "own"
    pictures = teacher.session_state[own_pictures_store.SET_KEY]
    assert pictures.class_names == ("3", "7") and pictures.counts() == (2, 2)
    assert pictures.images.shape == (4, 32, 32, 3)
    assert any("The class's drawings: 4 pictures in 2 classes" in m.value for m in teacher.success)
    assert rooms.view(code).page == "train"                # the class follows to /train


def test_a_teacher_on_their_own_network_is_told_that_students_see_the_chosen_one(teacher):
    from test_model_files import tiny_cnn

    from cnnviz.ui import model_cache, training_service
    note = "Students who follow you see"
    for at, leads in ((teacher, True), (open_page("home"), False)):
        at.session_state[training_service.TRAINED_KEY] = model_cache.load_own(tiny_cnn(), "own:tiny")
        at.session_state["net_use_trained"] = True
        at.switch_page(PAGES + "network.py").run()
        assert not at.exception, at.exception
        shown = [c.value for c in at.caption if note in c.value]
        assert len(shown) == int(leads), shown
    assert "**Digits (MNIST)** here, not this network" in shown_on(teacher, note)
    teacher.session_state["net_use_trained"] = False                # the shipped network: nothing to say
    teacher.run()
    assert not shown_on(teacher, note)


def shown_on(at: AppTest, text: str) -> str:
    return " ".join(c.value for c in at.caption if text in c.value)
