"""This session's "Your own pictures": one own_pictures.PictureSet in st.session_state.

The pictures live here only: in this browser session's memory, never on disk, never in a link
(url_state carries the dataset choice, not the pictures), gone when the session ends. Every
change makes a new set (PictureSet is frozen), so a refused change leaves the old one as it was.
The last change's outcome is kept as one line for the page to show once (say / take_message).
"""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from cnnviz import own_pictures

SET_KEY = "own_pictures"
MESSAGE_KEY = "own_message"     # (level, text): "error" | "warning" | "success"


def current() -> own_pictures.PictureSet:
    return st.session_state.setdefault(SET_KEY, own_pictures.PictureSet.empty())


def _replace(pictures: own_pictures.PictureSet) -> None:
    st.session_state[SET_KEY] = pictures


def say(level: str, text: str) -> None:
    st.session_state[MESSAGE_KEY] = (level, text)


def _report(done: str, *notes: str) -> None:
    """One line for a change that went through: a success, or a warning when notes say what was
    left out."""
    said = "; ".join(n for n in notes if n)
    say("warning" if said else "success", done + (f"; {said}." if said else "."))


def take_message() -> tuple[str, str] | None:
    return st.session_state.pop(MESSAGE_KEY, None)


def _quoted(name: str) -> str:
    return f"‘{name}’"


def room(index: int) -> int:
    """How many more pictures the class `index` may take (its cap and the cap on all)."""
    s = current()
    return max(0, min(own_pictures.MAX_PER_CLASS - s.counts()[index], own_pictures.MAX_TOTAL - len(s.labels)))


def add_class(name: str) -> bool:
    try:
        _replace(current().with_class(name))
    except own_pictures.PictureError as e:
        say("error", str(e))
        return False
    return True


def remove_class(index: int) -> None:
    s = current()
    name, n = s.class_names[index], s.counts()[index]
    _replace(s.without_class(index))
    say("success", f"Removed the class {_quoted(name)} and its {n} picture{'s' * (n != 1)}.")


def rename_class(index: int, name: str) -> bool:
    try:
        _replace(current().renamed(index, name))
    except own_pictures.PictureError as e:
        say("error", str(e))
        return False
    return True


def add(index: int, pictures: list[np.ndarray], what: str, note: str = "") -> None:
    """Add pictures (32 x 32 x 3 uint8) to a class; one line says what happened."""
    s = current()
    try:
        new, left_out = s.with_pictures(index, pictures)
    except own_pictures.PictureError as e:
        say("error", str(e))
        return
    _replace(new)
    added = len(new.labels) - len(s.labels)
    _report(f"Added {added} {what}{'s' * (added != 1)} to {_quoted(s.class_names[index])}", left_out, note)


def merge(incoming: own_pictures.PictureSet, note: str, source: str) -> None:
    """Add a set's classes (from a .zip) to this session's: a folder named like a class here adds
    to that class; caps leave pictures out, and the line says which."""
    before = current()
    try:
        merged, left_out = before.merged(incoming)
    except own_pictures.PictureError as e:
        say("error", f"{source}: {e} Nothing was added.")
        return
    _replace(merged)
    added = len(merged.labels) - len(before.labels)
    folders = len(incoming.class_names)
    _report(f"{source}: added {added} picture{'s' * (added != 1)} from {folders} folder{'s' * (folders != 1)}",
            note, left_out)


def replace_all(pictures: own_pictures.PictureSet, note: str, source: str) -> None:
    """This session's pictures become `pictures` (e.g. a live class's drawings)."""
    _replace(pictures)
    n, k = len(pictures.labels), len(pictures.class_names)
    _report(f"{source}: {n} picture{'s' * (n != 1)} in {k} class{'es' * (k != 1)}", note)


def remove_picture(picture_index: int) -> None:
    _replace(current().without_picture(picture_index))


def digest(pictures: own_pictures.PictureSet) -> str:
    """A short fingerprint of the pictures and their classes: runs on the same data compare."""
    h = hashlib.blake2b(digest_size=8)
    h.update(repr(pictures.class_names).encode())
    h.update(np.ascontiguousarray(pictures.labels).tobytes())
    h.update(np.ascontiguousarray(pictures.images).tobytes())
    return h.hexdigest()
