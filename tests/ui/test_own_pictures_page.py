"""AppTest for /train's "Your own pictures": classes named by the visitor, pictures added from files,
the camera and a .zip, the gallery's remove buttons, the caps, hostile input, and (slow) a real run
on the visitor's classes opened in the network explorer."""
from __future__ import annotations

import io
import pathlib
import time
import zipfile

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz import own_pictures
from cnnviz.ui import own_pictures_store

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = "cnnviz/ui/pages/train.py"


def png(seed: int, size=(40, 50)) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def zip_of(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def open_own() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"data": "own"})
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.stack_trace for e in at.exception]
    return at


def add_class(at: AppTest, name: str) -> None:
    at.text_input(key="own_new_class").input(name)
    next(b for b in at.button if b.label == "Add class").click().run()
    assert not at.exception, [e.stack_trace for e in at.exception]


def uploader(at: AppTest, prefix: str):
    return next(u for u in at.file_uploader if u.key and u.key.startswith(prefix))


def pictures(at: AppTest) -> own_pictures.PictureSet:
    return at.session_state[own_pictures_store.SET_KEY]


def counts_text(at: AppTest) -> list[str]:
    return [c.value for c in at.caption if " of ‘" in c.value and c.value[0].isdigit()]


@pytest.mark.slow   # about 17 s: each upload is decoded in a child process
def test_classes_files_camera_zip_remove_and_nothing_in_the_link():
    at = open_own()
    assert any("not written to disk" in c.value for c in at.caption)
    assert any("at most 200 pictures per class and 1,000 in all" in c.value for c in at.caption)
    assert at.button(key="train_start").disabled          # no classes: nothing to train

    add_class(at, "cup")
    add_class(at, " CUP ")                                # the same name: one line, nothing changes
    assert [e.value for e in at.error] == ["There is already a class called CUP."]
    assert pictures(at).class_names == ("cup",)
    add_class(at, "**pen** [x](//ev.il)")          # shown as typed, never as Markdown
    assert pictures(at).class_names == ("cup", "**pen** [x](//ev.il)")
    heads = [m.value for m in at.markdown if "of 200" in m.value]
    assert heads[1].startswith(r"**\*\*pen\*\* \[x\](//ev.il)**"), heads

    # Several files at once into the chosen class; one that is not a picture is named, the rest kept.
    at.selectbox(key="own_target").set_value(0).run()
    uploader(at, "own_files").set_value([("a.png", png(1), "image/png"), ("b.png", png(2), "image/png"),
                                         ("c.png", b"just text, not a picture", "image/png")]).run()
    assert pictures(at).counts() == (2, 0)
    assert "Added 2 pictures to ‘cup’" in at.warning[0].value and "could not be read" in at.warning[0].value
    assert "2 pictures of ‘cup’" in counts_text(at)

    # The camera: each photo is added at once and a fresh camera is shown for the next one.
    at.segmented_control(key="own_source").set_value("camera").run()
    jpeg = io.BytesIO()
    Image.fromarray(np.full((48, 64, 3), 200, np.uint8)).save(jpeg, "JPEG")
    at.selectbox(key="own_target").set_value(1).run()
    first = at.camera_input[0].key
    at.camera_input[0].set_value(("shot.jpg", jpeg.getvalue(), "image/jpeg")).run()
    assert pictures(at).counts() == (2, 1)
    assert at.camera_input[0].key != first

    # A zip of two classes: 'cup' joins the class of that name, 'mug' is new.
    zipped = zip_of({f"photos/{c}/{i}.png": png(10 * k + i) for k, c in enumerate(("cup", "mug"))
                     for i in range(3)} | {"photos/mug/notes.txt": b"hello"})
    uploader(at, "own_zip").set_value(("two.zip", zipped, "application/zip")).run()
    assert pictures(at).class_names == ("cup", "**pen** [x](//ev.il)", "mug")
    assert pictures(at).counts() == (5, 1, 3)
    assert any(w.value.startswith("two.zip: added 6 pictures from 2 folders") for w in [*at.warning, *at.success])

    # A hostile zip: one line, every picture already added is kept.
    evil = zip_of({"../outside/x.png": png(3)})
    uploader(at, "own_zip").set_value(("evil.zip", evil, "application/zip")).run()
    assert len(at.error) == 1 and at.error[0].value.startswith("evil.zip:"), [e.value for e in at.error]
    assert pictures(at).counts() == (5, 1, 3)

    # Remove one picture of 'mug' from its gallery.
    mug = pictures(at)
    target = int(np.flatnonzero(mug.labels == 2)[0])
    at.button(key=f"own_rm_{target}").click().run()
    assert pictures(at).counts() == (5, 1, 2)
    assert "2 pictures of ‘mug’" in counts_text(at)

    # The pen class has one picture: Start stays off and says why.
    assert at.button(key="train_start").disabled
    assert any("at least 2 pictures" in c.value for c in at.caption)
    at.button(key="own_drop_1").click().run()
    assert pictures(at).class_names == ("cup", "mug")
    assert not at.button(key="train_start").disabled
    assert any(c.value.startswith("Held out: 20% of each class, 2 pictures (1 of ‘cup’, 1 of ‘mug’)")
               for c in at.caption)

    # The link carries the dataset choice and settings, never the pictures or the class names.
    link = dict(at.query_params)
    assert link["data"] == "own" and set(link) <= {"data", "epochs", "batch", "lr", "optimizer", "transfer"}, link
    assert not any(name in value for value in link.values() for name in ("cup", "mug", "pen")), link


def test_caps_leave_pictures_out_with_one_line():
    at = open_own()
    add_class(at, "a")
    add_class(at, "b")
    full = own_pictures.PictureSet.empty(("a", "b"))
    full, _ = full.with_pictures(0, [np.full((32, 32, 3), i % 250, np.uint8)
                                     for i in range(own_pictures.MAX_PER_CLASS - 1)])
    at.session_state[own_pictures_store.SET_KEY] = full
    at.selectbox(key="own_target").set_value(0).run()
    uploader(at, "own_files").set_value([(f"{i}.png", png(i), "image/png") for i in range(3)]).run()
    assert pictures(at).counts() == (own_pictures.MAX_PER_CLASS, 0)
    assert "Added 1 picture to ‘a’" in at.warning[0].value and "2 of the 3 files were left out" in at.warning[0].value
    # a full class says so instead of offering more
    assert any("is full: at most 200 pictures per class" in c.value for c in at.caption)
    # renaming: a taken name is refused in one line, a new one keeps the pictures
    at.text_input(key="own_rename_0_a").input("B")
    at.button(key="own_rename_go_0").click().run()
    assert [e.value for e in at.error] == ["There is already a class called B."]
    at.text_input(key="own_rename_0_a").input("apple")
    at.button(key="own_rename_go_0").click().run()
    assert pictures(at).class_names == ("apple", "b") and pictures(at).counts() == (own_pictures.MAX_PER_CLASS, 0)
    # ten classes are the most
    for name in "cdefghij":
        add_class(at, name)
    assert len(pictures(at).class_names) == own_pictures.MAX_CLASSES
    assert at.text_input(key="own_new_class").disabled


def shapes_zip(n_per_class: int, classes=("circle", "square"), seed: int = 1) -> bytes:
    """A zip of drawn shapes, a folder per class (own_pictures.shapes draws them)."""
    drawn = own_pictures.shapes(n_per_class, seed=seed)
    entries = {}
    for i, (image, label) in enumerate(zip(drawn.images, drawn.labels)):
        name = drawn.class_names[label]
        if name in classes:
            buf = io.BytesIO()
            Image.fromarray(image).save(buf, "PNG")
            entries[f"shapes/{name}/{i}.png"] = buf.getvalue()
    return zip_of(entries)


def finish(at: AppTest, label: str = "Held-out accuracy") -> None:
    end = time.monotonic() + 240
    while time.monotonic() < end and not any(m.label == label for m in at.metric):
        time.sleep(1.0)
        at.run()
    assert not at.exception, [e.stack_trace for e in at.exception]
    assert any(m.label == label for m in at.metric), [e.value for e in at.error]


@pytest.mark.slow
def test_train_from_scratch_and_by_transfer_then_explore():
    from cnnviz.ui import training_service
    training_service.trainer.clear()
    at = open_own()
    uploader(at, "own_zip").set_value(("shapes.zip", shapes_zip(20), "application/zip")).run()
    assert pictures(at).counts() == (20, 20)
    assert at.session_state["train_epochs"] > 2       # own pictures start with settings for few pictures
    assert not at.button(key="train_start").disabled
    at.button(key="train_start").click().run()
    finish(at)
    text = " ".join(m.value for m in at.markdown)
    assert "Right per class" in text and "Confusion matrix" in text
    held = [c.value for c in at.caption if c.value.startswith("‘circle’: ")]
    assert held and held[0].endswith("right."), held             # per class, as text: 'circle': 4 of 4 right
    assert any("train again by transfer" in c.value for c in at.caption)
    # Transfer on the same pictures and seed: both accuracies side by side on the same split.
    at.radio(key="train_transfer").set_value(True).run()
    assert any("frozen" in m.value for m in at.markdown)
    at.button(key="train_start").click().run()
    finish(at)
    end = time.monotonic() + 60
    while time.monotonic() < end and not at.table:
        time.sleep(0.5)
        at.run()
    table = at.table[0].value
    assert list(table["way"]) == ["From scratch", "Transfer"]
    assert all(r.endswith(" of 8") for r in table["right"])      # the same 8 held-out pictures
    # The explorer: the user's classes, the held-out pictures as its test set.
    at.button(key="train_explore").click().run()
    assert not at.exception, [e.stack_trace for e in at.exception]
    assert at.toggle(key="net_use_trained").value is True
    assert any("Your classes: ‘circle’, ‘square’" in c.value for c in at.caption)
    assert at.header and any(h.value.startswith("Prediction: ") for h in at.header)
    assert any("the 8 held out from training" in c.value for c in at.caption)
    training_service.trainer().close()
    training_service.trainer.clear()
