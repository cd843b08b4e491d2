"""Shared input widgets and the session state every page reads.

The current image lives in st.session_state under PICTURE_KEY as an
images.Picture; the latest convolution output under FEATURE_MAP_KEY.
app.py calls image_source() once per run, so the sidebar control and the
picture are the same on every page.
"""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz import data, decoding, describe, images, samples, uploads
from cnnviz.ui import figures, st_image, url_state
from cnnviz.ui.plain_text import plain

PICTURE_KEY = "cnnviz_picture"
FEATURE_MAP_KEY = "cnnviz_feature_map"

SOURCES = ("Sample", "Upload", "Draw", "Camera")
SOURCE_ICONS = {"Sample": ":material/photo_library:", "Upload": ":material/upload:",
                "Draw": ":material/draw:", "Camera": ":material/photo_camera:"}
SOURCE_KEY = "cnnviz_source"            # the segmented control (Sample / Upload / Draw / Camera)
SAMPLE_KEY = "cnnviz_sample"            # the sample selectbox
UPLOAD_KEY = "cnnviz_upload"            # st.file_uploader
CAMERA_KEY = "cnnviz_camera"            # st.camera_input
STROKE_KEY = "cnnviz_stroke"            # the pen width slider
CANVAS_COUNTER_KEY = "cnnviz_canvas_n"  # bumped by "Clear": a new key gives an empty canvas
ORIGIN_KEY = "cnnviz_picture_origin"    # what the current picture was made from (no re-decoding)
ERROR_KEY = "cnnviz_input_error"        # (origin, message) of the last input that failed
THUMBNAIL_KEY = "cnnviz_thumbnail"       # (picture, its preview's PNG, its text) for the sidebar
LINKED_SAMPLE_KEY = "cnnviz_linked_sample"  # the sample in the address bar (None: not a sample)

CANVAS_SIZE = 240  # the sidebar is about 240 px wide inside
THUMBNAIL = 112


# --------------------------------------------------------------------------- shared state

def _ensure_picture() -> None:
    if PICTURE_KEY not in st.session_state:
        st.session_state[PICTURE_KEY] = samples.load_sample(samples.DEFAULT_SAMPLE)
        st.session_state[ORIGIN_KEY] = ("sample", samples.DEFAULT_SAMPLE)


def current_picture() -> images.Picture:
    """The image chosen in the sidebar (a sample until the person picks another)."""
    _ensure_picture()
    return st.session_state[PICTURE_KEY]


def set_picture(picture: images.Picture, origin: tuple = ("page",)) -> None:
    """Make `picture` the current picture of every page (origin: what it was made from)."""
    st.session_state[PICTURE_KEY] = picture
    st.session_state[ORIGIN_KEY] = tuple(origin)


def set_feature_map(feature_map: np.ndarray, label: str) -> None:
    """Remember the convolution page's output so the activation and pooling pages can use it."""
    st.session_state[FEATURE_MAP_KEY] = (feature_map, label)


def current_feature_map() -> tuple[np.ndarray, str] | None:
    return st.session_state.get(FEATURE_MAP_KEY)


# --------------------------------------------------------------------------- a slider whose range changes

def clamped_slider(label: str, key: str, lo: int, hi: int, default: int, help: str | None = None,
                   only_one: str | None = None, **options) -> int:
    """An integer slider whose range depends on the picture or settings (a position, a channel).

    Its remembered (or linked) value is moved into [lo, hi] first, with a line saying so when a
    link's value is moved; `default` is used when there is none. With a single possible value
    no slider is drawn, just `only_one` as a caption.
    options: more of st.slider's (step, disabled).
    """
    value = st.session_state.get(key, default)
    try:
        value = int(value)
    except (TypeError, ValueError):
        value = default
    st.session_state[key] = int(min(max(value, lo), hi))
    linked = url_state.take_linked(key)
    if linked is not None and st.session_state[key] != value:
        st.caption(plain(f"The link's {linked[0]}={value} does not fit here ({lo} to {hi}), so "
                         f"{st.session_state[key]} is shown."))
    if hi <= lo:
        if only_one:
            st.caption(only_one)
        return lo
    return st.slider(label, lo, hi, key=key, help=help, **options)


# --------------------------------------------------------------------------- links

IMAGE = url_state.choice("image", LINKED_SAMPLE_KEY, list(samples.SAMPLES), samples.DEFAULT_SAMPLE,
                         what="sample image")
"""The picture in a shared link: a sample's name. Uploads, drawings and photos stay private."""


def follow_link() -> None:
    """A shared link was opened: show the sample it names."""
    st.session_state[SOURCE_KEY] = "Sample"
    st.session_state[SAMPLE_KEY] = st.session_state.get(LINKED_SAMPLE_KEY) or samples.DEFAULT_SAMPLE


# --------------------------------------------------------------------------- the sidebar

def sample_label(name: str) -> str:
    """'Handwritten 3', 'Clothing: Ankle boot', 'Photo: Cat' for the sample selectbox."""
    s = samples.SAMPLES.get(name)
    if s is None:
        return name
    prefix = data.TABLE[s.dataset].sample_prefix if s.dataset else ""
    return f"{prefix}{s.title}"


def thumbnail(pixels: np.ndarray, size: int = THUMBNAIL) -> Image.Image:
    """A small, crisp preview (nearest-neighbour for tiny images, smooth for big ones)."""
    img = Image.fromarray(images.to_uint8(pixels))
    h, w = pixels.shape[:2]
    factor = size / max(h, w)
    new = (max(1, round(w * factor)), max(1, round(h * factor)))
    resample = Image.Resampling.NEAREST if factor >= 1 else Image.Resampling.LANCZOS
    return img.resize(new, resample)


def _thumbnail_and_text(picture: images.Picture) -> tuple[bytes, str]:
    """The sidebar's preview (PNG) and its text alternative, made once per picture and session
    (every full run draws the sidebar: this was ~2 % of a loaded server's CPU)."""
    kept = st.session_state.get(THUMBNAIL_KEY)
    if kept is None or kept[0] is not picture:
        small = thumbnail(picture.pixels)
        # described from the thumbnail (cheap on a large upload), on the picture's own 0-1 scale
        shown = np.asarray(small, np.float32) / (255.0 if picture.pixels.dtype.kind == "f" else 1.0)
        kept = (picture, figures.to_png(small),
                describe.picture(shown, f"Your picture {plain(picture.name)}", picture.pixels.shape))
        st.session_state[THUMBNAIL_KEY] = kept
    return kept[1], kept[2]


def _use(origin: tuple, load) -> None:
    """Set the picture from load() unless `origin` is already current or already failed."""
    if st.session_state.get(ORIGIN_KEY) == origin:
        return
    failed = st.session_state.get(ERROR_KEY)
    if failed and failed[0] == origin:
        return
    try:
        picture = load()
    except decoding.Busy as e:         # not remembered as failed: the next rerun tries again
        st.error(str(e), icon=":material/hourglass_top:")
        return
    except images.ImageError as e:
        st.session_state[ERROR_KEY] = (origin, str(e))
        return
    if picture is not None:
        set_picture(picture, origin)
        st.session_state.pop(ERROR_KEY, None)


def _show_error(origin_prefix: tuple) -> None:
    failed = st.session_state.get(ERROR_KEY)
    if failed and failed[0][:len(origin_prefix)] == origin_prefix:
        st.error(plain(failed[1]), icon=":material/error:")


def _sample_control() -> str | None:
    names = list(samples.SAMPLES)
    name = st.selectbox("Sample image", names, index=names.index(samples.DEFAULT_SAMPLE),
                        format_func=sample_label, key=SAMPLE_KEY, persist_state="session",
                        help="Digits and clothes are 28 × 28 grey images (MNIST, Fashion-MNIST); "
                             "photos are 32 × 32 colour images (CIFAR-10).")
    if name is not None:
        _use(("sample", name), lambda: samples.load_sample(name))
    return name


def _upload_control() -> None:
    file = st.file_uploader(
        "Upload an image", type=list(uploads.ACCEPTED_EXTENSIONS), key=UPLOAD_KEY,
        help=f"{uploads.ACCEPTED}. Large images are scaled down so the longest side is 512 pixels.")
    if file is not None:
        _use(("upload", file.file_id),
             lambda: decoding.decode(file.getvalue(), f"upload: {file.name}", "upload"))
        _show_error(("upload", file.file_id))


def _camera_control() -> None:
    shot = st.camera_input("Take a photo", key=CAMERA_KEY)
    if shot is not None:
        _use(("camera", shot.file_id), lambda: decoding.decode(shot.getvalue(), "camera photo", "camera"))
        _show_error(("camera", shot.file_id))


def drawing_canvas(keyboard_alternative: str, key: str = "cnnviz", size: int = CANVAS_SIZE):
    """A black square to draw on in white, its pen width and a Clear button; the canvas's result
    (None when the component cannot run). key: a prefix for the widgets' keys."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception:  # the component registers only under `streamlit run`
        st.info("Drawing needs the browser app (`streamlit run app.py`).")
        return None
    st.caption("Draw in white on the black square, e.g. a digit as big as the square. "
               f"The square needs a mouse, pen or finger; {keyboard_alternative}")
    st.space(28)  # room for the canvas's floating toolbar, which would cover the caption
    counter_key, stroke_key = f"{key}_canvas_n", f"{key}_stroke"
    counter = st.session_state.setdefault(counter_key, 0)
    width = st.session_state.get(stroke_key, 18)
    result = st_canvas(stroke_width=width, stroke_color="#FFFFFF", background_color="#000000",
                       height=size, width=size, drawing_mode="freedraw",
                       return_image_data=True, key=f"{key}_canvas_{counter}")
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    left.slider("Pen width", 4, 40, 18, key=stroke_key, persist_state="session")
    if right.button("Clear", icon=":material/delete:", width="stretch", key=f"{key}_clear"):
        clear_canvas(key)
        st.rerun()
    return result


def clear_canvas(key: str = "cnnviz") -> None:
    """The next run draws an empty canvas (a new widget key)."""
    st.session_state[f"{key}_canvas_n"] = st.session_state.get(f"{key}_canvas_n", 0) + 1


def _draw_control() -> None:
    result = drawing_canvas("with the keyboard, choose **Sample** (a handwritten digit of each "
                            "class) or **Upload** a picture instead.")
    raw = result.image_bytes if result is not None else None
    if raw:
        digest = hashlib.sha1(raw).hexdigest()
        _use(("draw", digest), lambda: images.from_canvas(result.image_data))


def image_source() -> None:
    """The sidebar: pick a sample, upload, draw or use the camera; keeps the shared picture."""
    _ensure_picture()
    with st.sidebar:
        st.markdown("#### Your image")
        source = st.segmented_control(
            "Image source", SOURCES, default="Sample", required=True, key=SOURCE_KEY,
            format_func=lambda s: f"{SOURCE_ICONS[s]} {s}", label_visibility="collapsed",
            persist_state="session") or "Sample"
        st.session_state[LINKED_SAMPLE_KEY] = None
        if source == "Sample":
            st.session_state[LINKED_SAMPLE_KEY] = _sample_control()
        elif source == "Upload":
            _upload_control()
        elif source == "Draw":
            _draw_control()
        else:
            _camera_control()
        picture = st.session_state[PICTURE_KEY]
        if source != "Draw":
            preview, text = _thumbnail_and_text(picture)
            st_image.show(preview, width=THUMBNAIL, alt=text)
        details = plain("; ".join(picture.notes))
        st.caption(f"**{plain(picture.name)}** · {picture.shape_text}" + (f"  \n{details}" if details else ""))
