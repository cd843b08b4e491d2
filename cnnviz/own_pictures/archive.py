"""A zip (or a folder on disk) of one folder per class -> a PictureSet, hostile archives refused.

    >>> from cnnviz.own_pictures import archive
    >>> pictures, note = archive.read_zip(uploaded_bytes)     # PictureError: one line, nothing kept
    >>> pictures, note = archive.read_folder("my_photos/")    # the same layout on disk

The layout is the one keras.utils.image_dataset_from_directory reads: one folder per class, its
pictures inside (sub-folders too), possibly all inside one top folder. Classes are sorted by name.

A zip is judged from its central directory before anything is decompressed: its size, the number
of entries, each entry's and the total uncompressed size, the compression ratio, the nesting depth
and every name (absolute paths, "..", drive letters, backslashes, control characters, symbolic
links are refused outright). While reading, no declared size is trusted: each entry is read with a
cap, and the bytes actually read are counted against the same limits. Files that are not pictures
(by their ending) are skipped and counted; __MACOSX and hidden files are ignored. Only the pictures
the caps keep (MAX_PER_CLASS, MAX_TOTAL) are read at all, and each is decoded within the upload
budget by cnnviz.decoding (all in one short-lived child process).

Pure Python/NumPy/Pillow: no TensorFlow, no Streamlit. Nothing is written to disk.
"""
from __future__ import annotations

import io
import os
import pathlib
import re
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from cnnviz import decoding, uploads
from cnnviz.images import ImageError
from cnnviz.own_pictures.picture_set import (MAX_CLASSES, MAX_NAME_CHARS, MAX_PER_CLASS, MAX_TOTAL,
                                             PictureError, PictureSet, check_name, to_picture)

__all__ = ["DECODE_SIDE", "Limits", "read_files", "read_folder", "read_zip"]

MB = 2**20
#: Pictures are decoded at most this large on a side (then cropped and resized to 32 x 32).
DECODE_SIDE = 64
_IGNORED = re.compile(r"^(__MACOSX|\..*|Thumbs\.db|desktop\.ini)$", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")
_EXTENSIONS = frozenset("." + e for e in uploads.ACCEPTED_EXTENSIONS)


@dataclass(frozen=True)
class Limits:
    """What a zip of pictures may be. Sizes in bytes."""
    max_bytes: int = 50 * MB                  # the zip file itself
    max_total_uncompressed: int = 300 * MB    # all entries together, declared and as read
    max_entry: int = 25 * MB                  # one entry, declared and as read
    max_entries: int = 2000                   # entries of every kind, folders included
    max_depth: int = 5                        # folders + file name in an entry's path
    max_ratio: float = 100.0                  # uncompressed / compressed, for entries over ratio_from
    ratio_from: int = 1 * MB
    seconds: float = 60.0                     # decoding all the pictures (then: what was read)


@dataclass(frozen=True)
class _Entry:
    path: tuple[str, ...]                     # after the top folder (if any): class, ..., file
    size: int                                 # declared (zip) or on disk (folder)
    read: Callable[[], bytes]                 # its bytes, read with a cap


# --------------------------------------------------------------------------- public

def read_zip(data: bytes, limits: Limits = Limits()) -> tuple[PictureSet, str]:
    """The bytes of a .zip -> (PictureSet, one-line note). PictureError for a hostile or unusable zip."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise PictureError(f"Expected the bytes of a .zip file, got {type(data).__name__}.")
    if len(data) > limits.max_bytes:
        raise PictureError(f"The zip is {len(data) / MB:,.1f} MB; the limit is {limits.max_bytes / MB:,.0f} MB.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise PictureError("This is not a zip file we can read (or it is damaged).") from None
    with archive:
        infos = archive.infolist()
        _check_zip_directory(infos, limits)
        budget = _ReadBudget(limits)
        entries = [_Entry(tuple(i.filename.rstrip("/").split("/")), i.file_size,
                          (lambda i=i: budget.read_entry(archive, i)))
                   for i in infos if not i.is_dir()]
        folders = [tuple(i.filename.rstrip("/").split("/")) for i in infos if i.is_dir()]
        return _read(entries, folders, limits.seconds, "zip")


def read_folder(path, limits: Limits = Limits(seconds=float("inf"))) -> tuple[PictureSet, str]:
    """A folder on disk holding one folder per class -> (PictureSet, one-line note).

    Symbolic links are not followed; the same limits as a zip's apply to each file's size.
    """
    root = pathlib.Path(path)
    if not root.is_dir():
        raise PictureError(f"{path} is not a folder.")
    entries, folders = [], []
    for here, dirs, files in os.walk(root, followlinks=False):
        rel = pathlib.Path(here).relative_to(root).parts
        dirs[:] = sorted(d for d in dirs if not _IGNORED.match(d))
        folders += [rel + (d,) for d in dirs]
        for name in sorted(files):
            file = pathlib.Path(here, name)
            if _IGNORED.match(name) or file.is_symlink() or not file.is_file():
                continue
            entries.append(_Entry(rel + (name,), file.stat().st_size,
                                  (lambda f=file: _read_file(f, limits.max_entry))))
        if len(entries) + len(folders) > limits.max_entries:
            raise PictureError(f"The folder holds more than {limits.max_entries:,} files and folders; "
                               f"give a folder of at most {MAX_PER_CLASS} pictures per class.")
    return _read(entries, folders, limits.seconds, "folder")


def read_files(files, seconds: float = Limits.seconds) -> tuple[list[np.ndarray], str]:
    """Several uploaded picture files [(name, bytes), ...] -> (their 32 x 32 x 3 pictures, note).

    Decoded one after another within the upload budget in one child process (decoding.Busy when
    every decoding slot is taken); the note counts the files that could not be read.
    """
    files = list(files)
    answers = decoding.decode_many(files, max_side=DECODE_SIDE, seconds=seconds)
    pictures, notes = _pictures(answers, len(files), seconds)
    return pictures, "; ".join(notes)


# --------------------------------------------------------------------------- checks before reading

def _check_zip_directory(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(infos) > limits.max_entries:
        raise PictureError(f"The zip holds {len(infos):,} entries; the limit is {limits.max_entries:,}.")
    total = 0
    for info in infos:
        _check_name(info, limits)
        if info.flag_bits & 0x1:
            raise PictureError("The zip is password-protected; give one without a password.")
        if info.file_size > limits.max_entry:
            raise PictureError(f"{_shown(info.filename)} would unpack to {info.file_size / MB:,.0f} MB; "
                               f"the limit is {limits.max_entry / MB:,.0f} MB per file.")
        if info.file_size > limits.ratio_from and info.file_size > limits.max_ratio * max(1, info.compress_size):
            raise PictureError(f"{_shown(info.filename)} is compressed {info.file_size / max(1, info.compress_size):,.0f}"
                               f" times (a zip bomb?); the limit is {limits.max_ratio:,.0f} times.")
        total += info.file_size
    if total > limits.max_total_uncompressed:
        raise PictureError(f"The zip would unpack to {total / MB:,.0f} MB; the limit is "
                           f"{limits.max_total_uncompressed / MB:,.0f} MB.")


def _check_name(info: zipfile.ZipInfo, limits: Limits) -> None:
    name = info.filename
    parts = name.rstrip("/").split("/")
    if name.startswith("/") or _DRIVE.match(name):
        raise PictureError(f"The zip holds an absolute path ({_shown(name)}); refused.")
    if "\\" in name:
        raise PictureError(f"The zip holds a name with a backslash ({_shown(name)}); refused.")
    if ".." in parts or "" in parts:
        raise PictureError(f"The zip holds a name that leads outside its folder ({_shown(name)}); refused.")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise PictureError("The zip holds a name with control characters; refused.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise PictureError(f"The zip holds a symbolic link ({_shown(name)}); refused.")
    if len(parts) > limits.max_depth:
        raise PictureError(f"The zip's folders are nested {len(parts) - 1} deep ({_shown(name)}); the "
                           f"limit is {limits.max_depth - 1}.")


def _shown(name: str) -> str:
    name = "".join(c if c.isprintable() else "?" for c in name)
    return name if len(name) <= 60 else name[:57] + "…"


class _ReadBudget:
    """Counts the bytes really read from a zip's entries against the limits."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.total = 0

    def read_entry(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        limits = self.limits
        cap = min(limits.max_entry, limits.max_total_uncompressed - self.total)
        try:
            with archive.open(info) as f:
                data = f.read(cap + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as e:
            raise PictureError(f"{_shown(info.filename)} in the zip is damaged ({str(e)[:60]}).") from None
        if len(data) > cap:
            raise PictureError(f"{_shown(info.filename)} unpacks to more than it says; refused (a zip bomb?).")
        if len(data) > limits.ratio_from and len(data) > limits.max_ratio * max(1, info.compress_size):
            raise PictureError(f"{_shown(info.filename)} is compressed more than {limits.max_ratio:,.0f} "
                               "times (a zip bomb?); refused.")
        self.total += len(data)
        return data


def _read_file(file: pathlib.Path, cap: int) -> bytes:
    with open(file, "rb") as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise PictureError(f"{file.name} is larger than {cap / MB:,.0f} MB; refused.")
    return data


# --------------------------------------------------------------------------- layout, caps, decoding

def _read(entries: list[_Entry], folders: list[tuple[str, ...]], seconds: float, kind: str):
    entries = [e for e in entries if not any(_IGNORED.match(p) for p in e.path)]
    folders = [f for f in folders if not any(_IGNORED.match(p) for p in f)]
    if _top_folder(entries, folders):
        entries = [_Entry(e.path[1:], e.size, e.read) for e in entries]
        folders = [f[1:] for f in folders if len(f) > 1]
    loose = [e for e in entries if len(e.path) < 2]
    in_classes = [e for e in entries if len(e.path) >= 2]
    pictures = [e for e in in_classes if _is_picture(e)]
    not_pictures = len(in_classes) - len(pictures)
    by_class: dict[str, list[_Entry]] = {}
    for e in sorted(pictures, key=lambda e: e.path):
        by_class.setdefault(e.path[0], []).append(e)
    empty = sorted(({f[0] for f in folders} | {e.path[0] for e in in_classes}) - set(by_class))
    if not by_class:
        raise PictureError(f"The {kind} holds no class folders with pictures: put each class's pictures "
                           f"({uploads.ACCEPTED}) in a folder named after the class.")
    if len(by_class) > MAX_CLASSES:
        raise PictureError(f"The {kind} holds {len(by_class)} class folders; at most {MAX_CLASSES} classes.")
    names: tuple[str, ...] = ()
    for folder in sorted(by_class):
        names += (check_name(" ".join(folder.split())[:MAX_NAME_CHARS].strip() or "?", names),)
    quotas = _quotas([len(v) for v in by_class.values()])
    chosen = [(c, e) for c, group in enumerate(by_class.values()) for e in group[:quotas[c]]]
    answers = decoding.decode_many(((("/".join(e.path)), e.read()) for _, e in chosen),
                                   max_side=DECODE_SIDE, seconds=seconds)
    result = PictureSet.empty(names)
    labels = [c for c, _ in chosen]
    decoded, notes = _pictures(answers, len(chosen), seconds)
    kept = [c for c, a in zip(labels, answers) if not isinstance(a, ImageError)]
    for c in range(len(names)):
        mine = [p for p, label in zip(decoded, kept) if label == c]
        if mine:
            result, _ = result.with_pictures(c, mine)
    left_out = sum(len(group) for group in by_class.values()) - len(chosen)
    if left_out:
        notes.insert(0, f"left out {left_out} pictures (at most {MAX_PER_CLASS} per class and "
                        f"{MAX_TOTAL} in all)")
    if not_pictures:
        notes.append(f"skipped {_count(not_pictures, 'file')} that "
                     f"{'is not a picture' if not_pictures == 1 else 'are not pictures'}")
    if loose:
        notes.append(f"skipped {_count(len(loose), 'file')} outside the class folders")
    if empty:
        notes.append(f"left out {_count(len(empty), 'empty folder')} ({', '.join(_shown(e) for e in empty[:3])}"
                     f"{', …' if len(empty) > 3 else ''})")
    missing = [n for n, count in zip(names, result.counts()) if count == 0]
    if missing:
        result = _without_classes(result, missing)
        notes.append(f"no picture in {', '.join(missing)} could be read")
    if len(result) == 0:
        raise PictureError(f"None of the pictures in the {kind} could be read: "
                           f"{'; '.join(notes) or 'no pictures'}.")
    if len(result.class_names) == 1:
        notes.append(f"only one class ({result.class_names[0]}): add at least one more to train")
    return result, "; ".join(notes)


def _top_folder(entries: list[_Entry], folders: list[tuple[str, ...]]) -> bool:
    """Whether everything sits in one top folder that holds the class folders (top/class/picture)."""
    tops = {e.path[0] for e in entries} | {f[0] for f in folders}
    pictures = [e for e in entries if _is_picture(e)]
    return len(tops) == 1 and bool(pictures) and all(len(e.path) >= 3 for e in pictures)


def _is_picture(entry: _Entry) -> bool:
    return os.path.splitext(entry.path[-1])[1].lower() in _EXTENSIONS


def _quotas(counts: list[int]) -> list[int]:
    """How many pictures of each class to keep: at most MAX_PER_CLASS each and MAX_TOTAL in all,
    shared fairly (the smaller classes keep all theirs, the rest split what is left equally)."""
    quotas = [min(n, MAX_PER_CLASS) for n in counts]
    while sum(quotas) > MAX_TOTAL:
        biggest = max(quotas)
        quotas[quotas.index(biggest)] -= 1
    return quotas


def _pictures(answers: list, sent: int, seconds: float) -> tuple[list[np.ndarray], list[str]]:
    pictures, failed, first_error = [], 0, ""
    for answer in answers:
        if isinstance(answer, ImageError):
            failed += 1
            first_error = first_error or str(answer)
            continue
        try:
            pictures.append(to_picture(answer.pixels))
        except PictureError as e:
            failed += 1
            first_error = first_error or str(e)
    notes = []
    if failed:
        notes.append(f"{_count(failed, 'picture')} could not be read ({first_error.split('. ')[0]})")
    if len(answers) < sent:
        notes.append(f"stopped reading after {seconds:g} s: {_count(sent - len(answers), 'picture')} "
                     "not read")
    return pictures, notes


def _without_classes(pictures: PictureSet, names: list[str]) -> PictureSet:
    for name in names:
        pictures = pictures.without_class(pictures.class_names.index(name))
    return pictures


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"
