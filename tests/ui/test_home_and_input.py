"""Home page and the shared sidebar image input, driven with streamlit.testing.v1.AppTest."""
from __future__ import annotations

import io
import pathlib

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz import decoding, images, samples
from cnnviz.ui import page_list, widgets

APP = str(pathlib.Path(__file__).resolve().parents[2] / "app.py")


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def at():
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    assert not app.exception
    return app


def picture(app) -> images.Picture:
    return app.session_state[widgets.PICTURE_KEY]


def source(app, name: str):
    app.segmented_control(key=widgets.SOURCE_KEY).set_value(name).run()
    assert not app.exception
    return app


def main_text(app) -> str:
    return "\n".join(m.value for m in app.main.markdown)


def test_home_loads_with_the_default_sample(at):
    assert at.title[0].value == "Inside a convolutional neural network"
    pic = picture(at)
    assert pic.name == "sample: Handwritten 3" and pic.pixels.shape == (28, 28)
    assert at.sidebar.selectbox(key=widgets.SAMPLE_KEY).value == samples.DEFAULT_SAMPLE
    assert "**28 × 28** (height × width)" in main_text(at)
    assert "sample: Handwritten 3" in at.sidebar.caption[-1].value
    links = [el for el in at.main if getattr(el, "type", "") == "page_link"]
    pages = " ".join(link.proto.page for link in links)
    for page in ("convolution", "activations", "pooling", "conv1d", "network"):
        assert page in pages
    assert not at.get("plotly_chart")         # Home draws pictures only: no chart library to load


def test_the_navigation_pages_are_made_once_per_session(at):
    pages = at.session_state[page_list._SESSION_PAGES]
    assert [p.url_path for p in pages] == ["", *(p.url_path for p in page_list.NAVIGATION), "home"]
    at.switch_page("cnnviz/ui/pages/pooling.py").run()
    assert not at.exception and at.session_state[page_list._SESSION_PAGES] is pages
    assert any("Pooling" in h.value for h in [*at.title, *at.header])
    at.switch_page("cnnviz/ui/pages/home.py").run()
    assert not at.exception and at.session_state[page_list._SESSION_PAGES] is pages
    other = AppTest.from_file(APP, default_timeout=60).run()
    assert not any(a is b for a, b in zip(other.session_state[page_list._SESSION_PAGES], pages))


def test_crop_sliders_change_the_numbers(at):
    size = at.slider(key="home_crop_size")
    assert size.value == 12 and at.slider(key="home_crop_top").max == 28 - 12
    size.set_value(5).run()
    at.slider(key="home_crop_top").set_value(0).run()
    at.slider(key="home_crop_left").set_value(0).run()
    assert not at.exception
    at.slider(key="home_crop_top").set_value(6).run()
    at.slider(key="home_crop_left").set_value(9).run()
    captions = [img.caption for element in at.main.get("image") for img in element.proto.imgs]
    assert "The grey values of rows 6–10 (left edge) and columns 9–13 (top edge)." in captions
    assert at.slider(key="home_crop_top").max == 28 - 5


def test_choosing_a_colour_sample_shows_channels(at):
    at.sidebar.selectbox(key=widgets.SAMPLE_KEY).set_value("cifar-cat").run()
    assert not at.exception
    assert picture(at).pixels.shape == (32, 32, 3)
    assert "**32 × 32 × 3**" in main_text(at)
    channel = at.segmented_control(key="home_channel")
    assert channel.value == "Red"
    channel.set_value("Blue").run()
    assert not at.exception


@pytest.mark.slow
def test_upload_changes_the_picture_once(at, monkeypatch):
    calls = []
    real = decoding.decode_in_child
    monkeypatch.setattr(decoding, "decode_in_child", lambda *a, **k: calls.append(1) or real(*a, **k))
    source(at, "Upload")
    assert picture(at).name == "sample: Handwritten 3"           # nothing uploaded yet
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[..., 1] = 200
    at.file_uploader(key=widgets.UPLOAD_KEY).set_value(("green.png", png(rgb), "image/png")).run()
    assert not at.exception
    pic = picture(at)
    assert pic.name == "upload: green.png" and pic.pixels.shape == (40, 60, 3)
    assert "**40 × 60 × 3**" in main_text(at)
    assert not at.sidebar.error
    at.run()                                                       # same file: not decoded again
    at.slider(key="home_crop_size").set_value(6).run()
    assert len(calls) == 1 and picture(at) is pic

    # the picture is shared with the other pages and survives a page switch
    at.switch_page("cnnviz/ui/pages/convolution.py").run()
    assert picture(at).name == "upload: green.png"
    at.switch_page("cnnviz/ui/pages/home.py").run()
    assert picture(at).name == "upload: green.png"
    assert not at.exception


@pytest.mark.slow
def test_bad_upload_shows_one_line_error_and_keeps_the_picture(at):
    source(at, "Upload")
    at.file_uploader(key=widgets.UPLOAD_KEY).set_value(("ok.png", png(np.full((8, 8), 99, np.uint8)),
                                                         "image/png")).run()
    before = picture(at)
    assert before.name == "upload: ok.png"
    at.file_uploader(key=widgets.UPLOAD_KEY).set_value(("notes.png", b"just some text, not a picture",
                                                         "image/png")).run()
    assert not at.exception
    assert len(at.sidebar.error) == 1
    message = at.sidebar.error[0].value
    assert "\n" not in message and "Accepted: PNG, JPEG, GIF, WebP, BMP, TIFF" in message
    assert picture(at) is before
    at.run()                                                       # the error stays while the file does
    assert len(at.sidebar.error) == 1 and picture(at) is before
    at.file_uploader(key=widgets.UPLOAD_KEY).set_value(("cut.png", png(np.zeros((64, 64), np.uint8))[:40],
                                                         "image/png")).run()
    assert "damaged" in at.sidebar.error[0].value and picture(at) is before


@pytest.mark.parametrize("bad", [b"", b"GIF89a\x01\x00\x01\x00", b"%PDF-1.7 ..."])
def test_other_bad_uploads(at, bad):
    source(at, "Upload")
    at.file_uploader(key=widgets.UPLOAD_KEY).set_value(("x.png", bad, "image/png")).run()
    assert not at.exception and len(at.sidebar.error) == 1
    assert picture(at).name == "sample: Handwritten 3"


def test_back_to_sample_restores_the_chosen_sample(at):
    at.sidebar.selectbox(key=widgets.SAMPLE_KEY).set_value("fashion-ankle-boot").run()
    source(at, "Upload")
    at.file_uploader(key=widgets.UPLOAD_KEY).set_value(("a.png", png(np.zeros((9, 9), np.uint8)),
                                                         "image/png")).run()
    assert picture(at).name == "upload: a.png"
    source(at, "Sample")
    assert at.sidebar.selectbox(key=widgets.SAMPLE_KEY).value == "fashion-ankle-boot"
    assert picture(at).name == "sample: Ankle boot"


@pytest.mark.slow
def test_camera_photo_and_bad_camera_data(at):
    source(at, "Camera")
    photo = io.BytesIO()
    Image.fromarray(np.full((30, 40, 3), 128, np.uint8)).save(photo, format="JPEG")
    at.camera_input(key=widgets.CAMERA_KEY).set_value(("shot.jpg", photo.getvalue(), "image/jpeg")).run()
    assert not at.exception
    assert picture(at).name == "camera photo" and picture(at).pixels.shape == (30, 40, 3)
    at.camera_input(key=widgets.CAMERA_KEY).set_value(("shot2.jpg", b"\xff\xd8\xff\xe0broken",
                                                        "image/jpeg")).run()
    assert not at.exception and len(at.sidebar.error) == 1
    assert picture(at).name == "camera photo"


def test_draw_source_renders_and_clear_gives_a_new_canvas(at):
    source(at, "Draw")
    assert at.sidebar.slider(key=widgets.STROKE_KEY).value == 18
    said = " ".join(c.value for c in at.sidebar.caption)   # the keyboard's way round the canvas
    assert "with the keyboard, choose **Sample**" in said and "**Upload**" in said
    before = at.session_state[widgets.CANVAS_COUNTER_KEY]
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert at.session_state[widgets.CANVAS_COUNTER_KEY] == before + 1
    assert picture(at).name == "sample: Handwritten 3"             # nothing drawn: picture kept


def test_pages_run_alone_get_the_default_picture():
    app = AppTest.from_string(
        "from cnnviz.ui import widgets\nimport streamlit as st\n"
        "st.write(widgets.current_picture().name)")
    app.run()
    assert not app.exception and app.markdown[0].value == "sample: Handwritten 3"


def test_figures_for_the_home_page():
    from cnnviz.ui import figures

    gray = np.zeros((28, 28), np.float32)
    img = figures.crop_box_image(gray, 5, 6, 10, 10, size=280)
    assert img.size == (280, 280)
    a = np.asarray(img)
    assert tuple(a[5 * 10 + 15, 6 * 10]) == (255, 140, 0)          # the box's left edge
    assert tuple(a[0, 0]) == (0, 0, 0)
    big = figures.crop_box_image(np.ones((400, 600, 3), np.float32), 0, 0, 16, 16, size=300)
    assert big.size == (300, 200)
    values = np.array([[0, 128], [255, 7]], np.uint8)
    grid = np.asarray(figures.pixel_values_image(values, 3, 4, "green", size=200))
    cell = (200 - 30) // 2
    for r in range(2):
        for c in range(2):       # a cell's corner (clear of its number) has the value's shade
            corner = grid[30 + r * cell + 3, 30 + c * cell + 3]
            expected = np.round(np.array(figures.CHANNEL_COLOURS["green"]) * values[r, c] / 255)
            assert corner.tolist() == expected.astype(int).tolist()
    with pytest.raises(ValueError):
        figures.pixel_values_image(np.zeros((2, 2, 3)))


@pytest.mark.slow
def test_uploads_wait_for_a_free_decoding_slot(at):
    """When every decoding slot is taken, an upload says the server is busy, costs nothing, and
    is read on the next rerun once a slot is free."""
    source(at, "Upload")
    held = [decoding.slots.acquire(blocking=False) for _ in range(decoding.SLOTS)]
    try:
        assert all(held)
        at.file_uploader(key=widgets.UPLOAD_KEY).set_value(
            ("busy.png", png(np.full((8, 8), 50, np.uint8)), "image/png")).run()
        assert not at.exception
        assert any("busy" in e.value for e in at.error)
        assert picture(at).name == "sample: Handwritten 3"
    finally:
        for ok in held:
            if ok:
                decoding.slots.release()
    at.run()
    assert picture(at).name == "upload: busy.png" and not at.error
