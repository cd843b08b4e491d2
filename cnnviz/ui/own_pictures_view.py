"""/train's dataset "Your own pictures": name 2-10 classes, add pictures to each, see them as a
gallery per class and remove any one. The pictures stay in this session (own_pictures_store)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import describe, own_pictures
from cnnviz.ui import own_pictures_input, own_pictures_store as store, st_image, widgets
from cnnviz.ui.plain_text import plain

NEW_NAME_KEY = "own_new_class"
PAGE_KEY = "own_gallery_page_{}"   # + class index: which page of its gallery is shown
PER_PAGE = 30
THUMB = 56

PRIVACY = ("Your pictures stay in this browser session, in the server's memory: they are not "
           "written to disk, never put into a link, and gone when you leave. A training run keeps a "
           "copy of its held-out pictures for its results until you press Reset, or for {minutes} "
           "minutes after you leave.")


def caps_text() -> str:
    return (f"{own_pictures.MIN_CLASSES} to {own_pictures.MAX_CLASSES} classes, at most "
            f"{own_pictures.MAX_PER_CLASS} pictures per class and {own_pictures.MAX_TOTAL:,} in all; "
            f"each is cut to its centre square and made {own_pictures.SIZE} × {own_pictures.SIZE} "
            "colour pixels, the size the pretrained CIFAR-10 network takes.")


def _add_class() -> None:
    name = st.session_state.get(NEW_NAME_KEY, "")
    if store.add_class(name):
        st.session_state[NEW_NAME_KEY] = ""
        st.session_state[own_pictures_input.TARGET_KEY] = len(store.current().class_names) - 1


def class_namer(pictures: own_pictures.PictureSet) -> None:
    full = len(pictures.class_names) >= own_pictures.MAX_CLASSES
    with st.form("own_class_form", border=False, enter_to_submit=True):
        left, right = st.columns([2, 1], vertical_alignment="bottom")
        left.text_input("Name a class", key=NEW_NAME_KEY, max_chars=own_pictures.MAX_NAME_CHARS,
                        placeholder="e.g. cup", disabled=full,
                        help=f"Up to {own_pictures.MAX_NAME_CHARS} characters; each class a different name.")
        right.form_submit_button("Add class", icon=":material/add:", on_click=_add_class, disabled=full,
                                 width="stretch")
    if full:
        st.caption(f"{own_pictures.MAX_CLASSES} classes is the most.")


def message() -> None:
    said = store.take_message()
    if said is None:
        return
    level, text = said
    icon = {"error": ":material/error:", "warning": ":material/info:", "success": ":material/check_circle:"}[level]
    getattr(st, level)(plain(text), icon=icon)


def count_text(n: int, name: str) -> str:
    return f"{n} picture{'s' * (n != 1)} of ‘{name}’"


def _thumbnail(pixels: np.ndarray):
    return widgets.thumbnail(pixels / 255.0, THUMB)


def rename_popover(index: int, name: str) -> None:
    with st.popover("Rename", icon=":material/edit:"):
        new = st.text_input("New name", value=name, max_chars=own_pictures.MAX_NAME_CHARS,
                            key=f"own_rename_{index}_{name}")
        if st.button("Rename", key=f"own_rename_go_{index}") and new != name:
            store.rename_class(index, new)
            st.rerun()


def class_gallery(pictures: own_pictures.PictureSet, index: int) -> None:
    """One class: its name and count, its pictures (a page at a time), each removable."""
    name = pictures.class_names[index]
    where = np.flatnonzero(pictures.labels == index)
    with st.container(border=True, key=f"own_class_{index}"):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(f"**{plain(name)}** · {len(where)} of {own_pictures.MAX_PER_CLASS}", width="stretch")
            rename_popover(index, name)
            st.button("Remove class", icon=":material/delete:", key=f"own_drop_{index}",
                      on_click=store.remove_class, args=(index,))
        if len(where) == 0:
            st.caption(f"No pictures of ‘{plain(name)}’ yet: add some above.")
            return
        pages = -(-len(where) // PER_PAGE)
        page = 0
        if pages > 1:
            page = st.segmented_control(
                f"Pictures of {plain(name)}", list(range(pages)), key=PAGE_KEY.format(index), default=0,
                format_func=lambda p: f"{p * PER_PAGE + 1}–{min((p + 1) * PER_PAGE, len(where))}",
                required=True) or 0
        shown = where[page * PER_PAGE:(page + 1) * PER_PAGE]
        with st.container(horizontal=True, gap="small", key=f"own_grid_{index}"):
            for k, i in enumerate(shown, start=page * PER_PAGE + 1):
                with st.container(width=THUMB + 8, gap=None):
                    st_image.show(_thumbnail(pictures.images[i]), width=THUMB,
                                  alt=describe.picture(pictures.images[i] / 255.0, f"Picture {k} of {name}",
                                                       pictures.images[i].shape))
                    st.button("Remove", key=f"own_rm_{i}", type="tertiary",
                              help=f"Remove picture {k} of {plain(name)}", on_click=store.remove_picture,
                              args=(int(i),))
        st.caption(count_text(len(where), plain(name)) + (f" (shown: {shown.size} from number {page * PER_PAGE + 1})"
                                                          if pages > 1 else ""))


def pictures_section() -> own_pictures.PictureSet:
    """The data section's body for "Your own pictures"; returns this session's set."""
    st.caption(f"Teach a network your own classes: name them, add pictures of each (from the camera, "
               f"a drawing or files), then train. {caps_text()}")
    from cnnviz.ui import training_service
    minutes = round(training_service.trainer().limits.keep_seconds / 60)
    st.caption(":material/lock: " + PRIVACY.format(minutes=minutes))
    pictures = store.current()
    left, right = st.columns([1, 1.35], gap="large")
    with left:
        class_namer(pictures)
        own_pictures_input.add_panel(pictures)
        own_pictures_input.zip_panel()
    with right:
        message()
        pictures = store.current()
        counts = pictures.counts()
        if not pictures.class_names:
            st.info("No classes yet. Name one on the left (e.g. ‘cup’), then another, or upload a "
                    ".zip with a folder per class.", icon=":material/category:")
        else:
            st.markdown(f"**{len(pictures.labels)} of {own_pictures.MAX_TOTAL:,} pictures in "
                        f"{len(pictures.class_names)} class{'es' * (len(counts) != 1)}**")
        for index in range(len(pictures.class_names)):
            class_gallery(pictures, index)
    return store.current()
