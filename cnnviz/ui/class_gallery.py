"""The class gallery: students draw a digit (or photograph one) and send it to the room; the
teacher's screen runs a network on every drawing: each one's prediction, the class's accuracy
on its own drawings, what was drawn against what was predicted, and one drawing opened in the
network explorer for everyone. Drawings live only in the room (Rooms.send_drawing).
"""
from __future__ import annotations

import io

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz import decoding, describe, images, uploads
from cnnviz.classroom import RoomError
from cnnviz.ui import accessible, share, st_image, widgets
from cnnviz.ui.plain_text import plain

SENT_SIDE = 96                 # px: a sent drawing's longest side (a few kB as PNG)
DIGITS = [str(d) for d in range(10)]
ASKED_KEY = "class_draw_digit"   # the digit the teacher asks for (a /class page setting)
PREDICTIONS = "class_gallery_predictions"   # {(room, drawing id, network): (class, probability)}
PICTURES = "class_gallery_pictures"         # {(room, drawing id): Picture or None}
CANVAS = "class"               # the student's canvas widgets' key prefix
NETWORK_KEY = "class_gallery_net"


def _rooms():
    from cnnviz.ui import class_session
    return class_session.rooms()


# --------------------------------------------------------------------------- pictures <-> PNG

def to_png(picture: images.Picture) -> bytes:
    """A drawing or photo as a small grey PNG (longest side SENT_SIDE)."""
    grey = Image.fromarray(images.to_uint8(images.to_gray(picture.pixels)))
    grey.thumbnail((SENT_SIDE, SENT_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    grey.save(out, format="PNG", optimize=True)
    return out.getvalue()


def picture(drawing) -> images.Picture:
    """A sent drawing as a Picture; its header is checked before any pixel is decoded (the bytes
    come from a visitor)."""
    return uploads.load_image(drawing.png, max_side=SENT_SIDE * 2,
                              name=f"class drawing by {drawing.nickname}", source="drawing")


def _seen_picture(code: str, drawing) -> images.Picture | None:
    """picture(), decoded once per session (the gallery redraws every few seconds); None when
    the bytes are no picture."""
    cache = st.session_state.setdefault(PICTURES, {})
    if (code, drawing.id) not in cache:
        try:
            cache[(code, drawing.id)] = picture(drawing)
        except images.ImageError:
            cache[(code, drawing.id)] = None
    return cache[(code, drawing.id)]


# --------------------------------------------------------------------------- a student sends

def _send(me, pic: images.Picture | None, asked: str) -> None:
    if pic is None:
        st.session_state["class_send_note"] = ("error", "Draw a digit first (the square is empty).")
        return
    try:
        _rooms().send_drawing(me.code, me.secret, to_png(pic), asked)
    except RoomError as e:
        st.session_state["class_send_note"] = ("error", str(e))
        return
    widgets.clear_canvas(CANVAS)
    st.session_state["class_send_note"] = ("sent", f"Sent your {asked or 'drawing'} to the class gallery.")


def send_form(me) -> None:
    """Draw (or photograph) a digit, say which it is, send it."""
    asked = st.session_state.get(ASKED_KEY)
    st.header("Draw for the class gallery", anchor=False)
    if asked is not None:
        st.markdown(f"The teacher asks for a **{asked}**.")
    how = st.segmented_control("How", ["Draw", "Photo"], default="Draw", required=True,
                               key="class_send_how", label_visibility="collapsed")
    pic = None
    if how == "Draw":
        result = widgets.drawing_canvas("with the keyboard, take a **Photo** of a digit written on paper.",
                                        key=CANVAS, size=240)
        if result is not None and result.image_data is not None:
            pic = images.from_canvas(result.image_data, "drawing")
    else:
        shot = st.camera_input("Photo of a digit written on paper", key="class_photo")
        if shot is not None:
            try:
                pic = decoding.decode(shot.getvalue(), "camera photo", "camera")
            except images.ImageError as e:
                st.error(plain(e), icon=":material/error:")
    if asked is not None and st.session_state.get("class_send_asked") != asked:
        st.session_state["class_send_asked"] = asked          # a new request: preselect its digit
        st.session_state["class_send_digit"] = asked
    digit = st.selectbox("Which digit is it?", DIGITS, index=None, key="class_send_digit",
                         placeholder="Choose the digit you drew")
    st.button("Send to the class", type="primary", icon=":material/send:", key="class_send",
              on_click=_send, args=(me, pic, digit or ""))
    note = st.session_state.pop("class_send_note", None)
    if note:
        (st.success if note[0] == "sent" else st.error)(plain(note[1]))


# --------------------------------------------------------------------------- the teacher's gallery

def _network():
    """The network chosen for the gallery (TensorFlow is imported here, once there are drawings)."""
    from cnnviz.ui import preload
    preload.import_tensorflow()
    from cnnviz.ui import model_cache
    names = model_cache.available()
    name = st.selectbox("Network", names, key=NETWORK_KEY,
                        index=names.index("mnist") if "mnist" in names else 0,
                        help="The network that answers for every drawing (digits: the MNIST network).")
    return model_cache.load(name)


def predictions(code: str, drawings, loaded) -> dict[str, tuple[int, float]]:
    """{drawing id: (predicted class, its probability)} by the network `loaded`; new drawings
    are run together, in one batch, and remembered for the session (-1: unreadable)."""
    from cnnviz import model_input
    known = st.session_state.setdefault(PREDICTIONS, {})
    new = [d for d in drawings if (code, d.id, loaded.name) not in known]
    batch, ids = [], []
    for d in new:
        pic = _seen_picture(code, d)
        try:
            if pic is None:
                raise ValueError("not a picture")
            x, _ = model_input.network_input(pic, loaded.probe.input_shape, loaded.card.get("dataset"))
        except ValueError:
            known[(code, d.id, loaded.name)] = (-1, 0.0)
            continue
        batch.append(x)
        ids.append(d.id)
    if batch:
        probs = np.asarray(loaded.model(np.stack(batch), training=False))
        for drawing_id, p in zip(ids, probs):
            known[(code, drawing_id, loaded.name)] = (int(np.argmax(p)), float(np.max(p)))
    return {d.id: known[(code, d.id, loaded.name)] for d in drawings}


def open_for_everyone(me, drawing_id: str, network: str) -> None:
    """Show a drawing in the network explorer: the teacher's view, which students follow (the
    drawing's id travels in the view; each student's session fetches it from the room)."""
    from cnnviz.ui import class_session
    st.switch_page(class_session.page_file("network"), query_params={
        "room": me.code, "key": me.secret, "drawing": drawing_id, "net": network})


def _remove(me, drawing_id: str) -> None:
    try:
        _rooms().remove_drawing(me.code, me.secret, drawing_id)
    except RoomError as e:
        st.session_state["class_gallery_error"] = str(e)


def gallery(me) -> None:
    """The teacher's gallery: every drawing with the network's answer, the accuracy, the
    confusion of drawn against predicted; remove one, or open one for everyone."""
    drawings = _rooms().gallery(me.code)
    error = st.session_state.pop("class_gallery_error", None)
    if error:
        st.error(plain(error), icon=":material/error:")
    if not drawings:
        st.caption("No drawings yet: students draw on the class page and send them here.")
        return
    loaded = _network()
    with st.spinner("The network looks at the drawings…"):
        found = predictions(me.code, drawings, loaded)
    class_names = loaded.card["class_names"]
    digits = loaded.card.get("dataset") == "mnist"
    judged = [(int(d.asked), found[d.id][0]) for d in drawings
              if digits and d.asked in DIGITS and found[d.id][0] >= 0]
    if judged:
        right = sum(a == p for a, p in judged)
        st.markdown(f"The network read **{right} of {len(judged)}** drawings as the digit their "
                    f"author meant (**{describe.percent(right / len(judged))}**).")
    columns = 5 if share.presenting() else 6
    for start in range(0, len(drawings), columns):
        row = st.columns(columns, gap="small")
        for column, d in zip(row, drawings[start:start + columns]):
            with column, st.container(border=True, key=f"class_drawing_{d.id}"):
                drawing_card(me, d, found[d.id], class_names, digits, loaded.name)
    if judged:
        confusion = np.zeros((10, 10), int)
        for a, p in judged:
            confusion[a, p] += 1
        st.html(accessible.table_html(confusion, "How many drawings of each digit (rows) the network "
                                      "read as each digit (columns)", DIGITS, DIGITS,
                                      corner="drawn \\ predicted"))
    train_button(me, drawings)


def as_picture_set(code: str, drawings):
    """The gallery as a dataset for /train: each drawing in the class of what its author was asked
    to draw (drawings without a label, or not a picture, are left out); (PictureSet, note)."""
    from cnnviz import own_pictures
    kept = [(d.asked, pic.pixels) for d in drawings
            if d.asked and (pic := _seen_picture(code, d)) is not None]
    names = sorted({asked for asked, _ in kept})
    pictures, note = own_pictures.PictureSet.from_arrays(
        [own_pictures.to_picture(pixels) for _, pixels in kept],
        np.array([names.index(asked) for asked, _ in kept], dtype=np.int64), names)
    left = len(drawings) - len(kept)
    return pictures, "; ".join(n for n in (note, f"{left} without a label or picture left out" if left else "") if n)


def _train_on_drawings(me, drawings) -> None:
    """Turn the gallery into this (the teacher's) session's own pictures and open /train on them."""
    from cnnviz import own_pictures
    from cnnviz.ui import class_session, own_pictures_store, own_pictures_training
    try:
        pictures, note = as_picture_set(me.code, drawings)
        pictures.check_trainable()
    except own_pictures.PictureError as e:
        st.error(plain(f"The drawings cannot be trained on yet: {e}"), icon=":material/error:")
        return
    own_pictures_store.replace_all(pictures, note, "The class's drawings")
    st.switch_page(class_session.page_file("train"), query_params={
        "room": me.code, "key": me.secret, "data": own_pictures_training.OWN})


def train_button(me, drawings) -> None:
    if st.button("Train on the class's drawings", icon=":material/model_training:", key="class_train",
                 help="Opens Train a CNN with the gallery as ‘Your own pictures’: one class per digit "
                      "asked for, each drawing in the class its author was asked to draw. Your own "
                      "pictures there are replaced; the class follows you to the page."):
        _train_on_drawings(me, drawings)


def drawing_card(me, d, found: tuple[int, float], class_names, digits: bool, network: str) -> None:
    pred, prob = found
    pic = _seen_picture(me.code, d)
    pixels = None if pic is None else pic.pixels
    said = class_names[pred] if pred >= 0 else "unreadable"
    verdict = " ✓" if digits and str(pred) == d.asked else (" ✗" if digits and d.asked in DIGITS else "")
    if pixels is not None:
        st_image.show(Image.fromarray(images.to_uint8(pixels)), width="stretch",
                      alt=describe.picture(pixels, f"Drawing by {plain(d.nickname)}"))
    st.markdown(f"**{plain(d.nickname)}** · drew {plain(d.asked or '?')}  \n"
                f"network: **{plain(said)}**{verdict} ({describe.percent(prob)})")
    with st.container(horizontal=True, gap="small"):
        if st.button("Explore", key=f"class_open_{d.id}", icon=":material/hub:",
                     help="Open this drawing in the network explorer, for everyone who follows."):
            open_for_everyone(me, d.id, network)
        st.button("Remove", key=f"class_remove_{d.id}", icon=":material/delete:",
                  on_click=_remove, args=(me, d.id))
