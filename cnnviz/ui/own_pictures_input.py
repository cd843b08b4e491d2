"""Adding pictures to a class of "Your own pictures": the camera (several in a row), the drawing
canvas, picture files (several at once) or one .zip with a folder per class.

Each way ends in store.add(...) or store.merge(...), which keep the set within its caps; a file
that cannot be read is named in one line and nothing already added is lost. Every file goes
through the project's upload budget (cnnviz.decoding: checked, then decoded in a child process).
"""
from __future__ import annotations

import streamlit as st

from cnnviz import images, own_pictures, uploads
from cnnviz.ui import own_pictures_store as store
from cnnviz.ui.plain_text import plain

SOURCES = {"camera": ":material/photo_camera: Camera", "draw": ":material/draw: Draw",
           "files": ":material/upload: Files"}
SOURCE_KEY = "own_source"
TARGET_KEY = "own_target"
FRESH_KEY = "own_fresh"        # bumped after each addition: a new key gives an empty widget
CANVAS_SIZE = 240
ZIP_MB = max(1, own_pictures.Limits().max_bytes // 2**20)


def _fresh() -> int:
    return st.session_state.setdefault(FRESH_KEY, 0)


def _renew() -> None:
    st.session_state[FRESH_KEY] = _fresh() + 1


def _from_camera(key: str, target: int) -> None:
    shot = st.session_state.get(key)
    if shot is None:
        return
    try:
        pictures, note = own_pictures.read_files([("camera photo", shot.getvalue())])
    except images.ImageError as e:   # decoding.Busy: the photo is simply not added
        pictures, note = [], str(e)
    if pictures:
        store.add(target, pictures, "photo")
    else:
        store.say("error", f"The photo was not added: {note}")
    _renew()   # the camera comes back at once for the next photo


def _from_files(key: str, target: int) -> None:
    files = st.session_state.get(key) or []
    if not files:
        return
    room = store.room(target)
    notes = []
    if len(files) > room:
        notes.append(f"{len(files) - room} of the {len(files)} files were left out: at most "
                     f"{own_pictures.MAX_PER_CLASS} per class and {own_pictures.MAX_TOTAL:,} in all")
    try:
        pictures, note = own_pictures.read_files([(f.name, f.getvalue()) for f in files[:room]])
    except images.ImageError as e:   # decoding.Busy: the server is reading others' pictures
        store.say("error", str(e))
    else:
        notes.append(note)
        note = "; ".join(n for n in notes if n)
        if pictures:
            store.add(target, pictures, "picture", note)
        else:
            store.say("error", "No picture was added: " + (note or "the files were empty") + ".")
    _renew()


def _from_zip(key: str) -> None:
    f = st.session_state.get(key)
    if f is None:
        return
    try:
        incoming, note = own_pictures.read_zip(f.getvalue())
    except (own_pictures.PictureError, images.ImageError) as e:
        store.say("error", f"{f.name}: {e}")
    else:
        store.merge(incoming, note, f.name)
    _renew()


def _camera(target: int, name: str) -> None:
    key = f"own_camera_{_fresh()}"
    st.camera_input(f"Take a picture for {plain(name)}", key=key, on_change=_from_camera, args=(key, target),
                    help="Each photo is added at once and the camera comes back for the next one: "
                         "turn the object a little between photos.")


def _draw(target: int, name: str) -> None:
    try:
        from streamlit_drawable_canvas import st_canvas
    except Exception:  # the component registers only under `streamlit run`
        st.info("Drawing needs the browser app (`streamlit run app.py`).")
        return
    st.caption("Draw in white on the black square, as the sidebar's **Draw** does, so the explorer "
               "later sees your drawings the way the network learnt them. The square needs a mouse, "
               "pen or finger; with the keyboard, add picture files instead.")
    st.space(28)  # room for the canvas's floating toolbar
    result = st_canvas(stroke_width=st.session_state.get("own_stroke", 18), stroke_color="#FFFFFF",
                       background_color="#000000", height=CANVAS_SIZE, width=CANVAS_SIZE,
                       drawing_mode="freedraw", return_image_data=True, key=f"own_canvas_{_fresh()}")
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    left.slider("Pen width", 4, 40, 18, key="own_stroke")
    drawn = images.from_canvas(result.image_data) if result is not None else None
    if right.button(f"Add to {plain(name)}", icon=":material/add:", disabled=drawn is None, key="own_add_drawing",
                    width="stretch"):
        store.add(target, [drawn.pixels], "drawing")
        _renew()
        st.rerun()


def _files(target: int, name: str) -> None:
    key = f"own_files_{_fresh()}"
    st.file_uploader(f"Picture files for {plain(name)} (several at once)", type=list(uploads.ACCEPTED_EXTENSIONS),
                     accept_multiple_files=True, key=key, on_change=_from_files, args=(key, target),
                     help=f"{uploads.ACCEPTED}. Each is cut to its centre square and made 32 × 32.")


def add_panel(pictures: own_pictures.PictureSet) -> None:
    """'Add pictures to <class> from <camera | draw | files>', then the widget for that way."""
    names = pictures.class_names
    with st.container(border=True, key="own_add_panel"):
        st.markdown("**Add pictures**")
        if not names:
            st.caption("Name a class first.")
            return
        if st.session_state.get(TARGET_KEY) not in range(len(names)):
            st.session_state[TARGET_KEY] = 0
        target = st.selectbox("To the class", list(range(len(names))), format_func=lambda i: names[i],
                              key=TARGET_KEY)
        how = st.segmented_control("From", list(SOURCES), format_func=SOURCES.get, key=SOURCE_KEY,
                                   default="files", required=True) or "files"
        if store.room(target) == 0:
            st.caption(f"{plain(names[target])} is full: at most {own_pictures.MAX_PER_CLASS} pictures per "
                       f"class and {own_pictures.MAX_TOTAL:,} in all. Remove some to add others.")
            return
        {"camera": _camera, "draw": _draw, "files": _files}[how](target, names[target])


def zip_panel() -> None:
    key = f"own_zip_{_fresh()}"
    st.file_uploader("Or one .zip holding a folder per class", type=["zip"], key=key, on_change=_from_zip,
                     args=(key,), max_upload_size=ZIP_MB,
                     help="The layout keras.utils.image_dataset_from_directory reads: cup/1.jpg, "
                          "cup/2.jpg, mug/1.jpg, … (possibly inside one top folder). Each folder "
                          "becomes a class, or adds to the class of that name. Checked before it "
                          "is opened; files that are not pictures are skipped and counted.")

