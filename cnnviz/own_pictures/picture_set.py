"""A person's own labelled pictures: 2-10 named classes of 32 x 32 colour pictures, in memory.

    >>> from cnnviz.own_pictures import PictureSet
    >>> s = PictureSet.empty(("cup", "pen"))
    >>> s, note = s.with_pictures(0, [photo1, photo2])      # any decoded image -> 32 x 32 x 3
    >>> train, held_out = s.split(held_out=0.2, seed=0)     # stratified, seeded indices

Every picture is stored as 32 x 32 x 3 uint8, the pretrained CIFAR-10 network's input, so the same
set trains a network from scratch or reuses that network's convolution blocks. A PictureSet never
changes: every edit returns a new one. Nothing here touches the disk.

Pure NumPy/Pillow: no TensorFlow, no Streamlit.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = ["MAX_CLASSES", "MAX_NAME_CHARS", "MAX_PER_CLASS", "MAX_TOTAL", "MIN_CLASSES", "PictureError",
           "PictureSet", "SIZE", "to_picture"]

#: Side of every stored picture (the pretrained CIFAR-10 network's input).
SIZE = 32
MIN_CLASSES, MAX_CLASSES = 2, 10
MAX_PER_CLASS, MAX_TOTAL = 200, 1000
MAX_NAME_CHARS = 24
#: The largest picture to_picture takes (decoded uploads are at most 512 on a side).
MAX_INPUT_SIDE = 4096


class PictureError(ValueError):
    """A picture, a class name or a whole set cannot be used; str(e) is one plain line."""


# --------------------------------------------------------------------------- one picture

def to_picture(image: np.ndarray) -> np.ndarray:
    """Any decoded image -> SIZE x SIZE x 3 uint8.

    Takes H x W, H x W x 1, H x W x 3 or H x W x 4, as uint8 (0-255) or floats in [0, 1] (a
    cnnviz Picture's pixels). The centre square is kept, then resized (box/Lanczos, as Pillow);
    grey becomes three equal channels; transparent parts are put on white.
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise PictureError(f"A picture must be H × W, H × W × 3 or H × W × 4 (got {_shape(arr)}).")
    if min(arr.shape[:2]) < 1 or max(arr.shape[:2]) > MAX_INPUT_SIDE:
        raise PictureError(f"A picture must be 1 to {MAX_INPUT_SIDE} pixels on a side (got {_shape(arr)}).")
    arr = _as_uint8(arr)
    if arr.ndim == 3 and arr.shape[2] == 4:
        alpha = arr[..., 3:].astype(np.float32) / 255.0
        arr = np.rint(arr[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    height, width = arr.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = np.ascontiguousarray(arr[top:top + side, left:left + side])
    if side != SIZE:
        square = np.asarray(Image.fromarray(square).resize((SIZE, SIZE), Image.Resampling.LANCZOS,
                                                           reducing_gap=3.0))
    if square.ndim == 2:
        square = np.repeat(square[..., None], 3, axis=2)
    return np.ascontiguousarray(square, dtype=np.uint8)


def _as_uint8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise PictureError(f"A picture's pixels must be numbers 0-255 or 0-1 (got {arr.dtype}).")
    values = arr.astype(np.float32)
    if not np.isfinite(values).all():
        raise PictureError("A picture has pixel values that are not numbers (NaN or infinity).")
    if np.issubdtype(arr.dtype, np.floating):
        values = values * 255.0
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _shape(arr: np.ndarray) -> str:
    return " × ".join(str(n) for n in arr.shape) or "a single number"


# --------------------------------------------------------------------------- class names

def check_name(name: object, taken: tuple[str, ...] = ()) -> str:
    """A class name as typed -> the name kept (trimmed), or PictureError saying what is wrong."""
    if not isinstance(name, str):
        raise PictureError("A class name must be text.")
    cleaned = " ".join(name.split())
    if not cleaned:
        raise PictureError("A class needs a name.")
    if len(cleaned) > MAX_NAME_CHARS:
        raise PictureError(f"A class name may have at most {MAX_NAME_CHARS} characters "
                           f"(this one has {len(cleaned)}).")
    if any(unicodedata.category(c)[0] == "C" for c in cleaned):
        raise PictureError("A class name may not contain control characters.")
    if cleaned.casefold() in {t.casefold() for t in taken}:
        raise PictureError(f"There is already a class called {cleaned}.")
    return cleaned


# --------------------------------------------------------------------------- the set

def _images_array(images) -> np.ndarray:
    arr = np.asarray(images, dtype=np.uint8).reshape(-1, SIZE, SIZE, 3)
    arr = np.array(arr, copy=True)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class PictureSet:
    """Named classes and their pictures; every method returns a new set.

    class_names: the classes' names, in order (labels index into them).
    images: (N, 32, 32, 3) uint8, read-only.  labels: (N,) int64.
    """
    class_names: tuple[str, ...]
    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        names = tuple(self.class_names)
        if len(names) > MAX_CLASSES:
            raise PictureError(f"At most {MAX_CLASSES} classes (got {len(names)}).")
        for i, name in enumerate(names):
            if check_name(name, names[:i]) != name:
                raise PictureError(f"The class name {name!r} has extra spaces.")
        images = _images_array(self.images)
        labels = np.array(self.labels, dtype=np.int64).reshape(-1)
        labels.flags.writeable = False
        if len(labels) != len(images):
            raise PictureError(f"{len(images)} pictures but {len(labels)} labels.")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(names)):
            raise PictureError("A label does not name one of the classes.")
        object.__setattr__(self, "class_names", names)
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)

    # ---- building
    @classmethod
    def empty(cls, class_names=()) -> "PictureSet":
        names: tuple[str, ...] = ()
        for name in class_names:
            names += (check_name(name, names),)
        return cls(names, np.zeros((0, SIZE, SIZE, 3), np.uint8), np.zeros(0, np.int64))

    @classmethod
    def from_arrays(cls, images, labels, class_names=None) -> tuple["PictureSet", str]:
        """Images (a list or an array, any size each) with integer labels -> (set, note).

        class_names default to "class 0", "class 1", ...; caps apply as in with_pictures.
        """
        labels = np.asarray(labels).reshape(-1)
        if not np.issubdtype(labels.dtype, np.integer):
            raise PictureError("Labels must be whole numbers (the index of each picture's class).")
        if len(labels) != len(images):
            raise PictureError(f"{len(images)} pictures but {len(labels)} labels.")
        n_classes = int(labels.max()) + 1 if len(labels) else 0
        if class_names is None:
            class_names = [f"class {i}" for i in range(n_classes)]
        result = cls.empty(class_names)
        if n_classes > len(result.class_names) or (len(labels) and labels.min() < 0):
            raise PictureError(f"Labels must be 0 to {len(result.class_names) - 1}, one per class name.")
        notes = []
        for c in range(len(result.class_names)):
            picked = [images[i] for i in np.flatnonzero(labels == c)]
            if picked:
                result, note = result.with_pictures(c, picked)
                notes.append(note)
        return result, "; ".join(n for n in notes if n)

    def with_class(self, name) -> "PictureSet":
        if len(self.class_names) >= MAX_CLASSES:
            raise PictureError(f"At most {MAX_CLASSES} classes.")
        return PictureSet(self.class_names + (check_name(name, self.class_names),), self.images, self.labels)

    def without_class(self, index: int) -> "PictureSet":
        index = self._class_index(index)
        keep = self.labels != index
        labels = self.labels[keep]
        return PictureSet(self.class_names[:index] + self.class_names[index + 1:], self.images[keep],
                          labels - (labels > index))

    def renamed(self, index: int, name) -> "PictureSet":
        index = self._class_index(index)
        others = self.class_names[:index] + self.class_names[index + 1:]
        names = list(self.class_names)
        names[index] = check_name(name, others)
        return PictureSet(tuple(names), self.images, self.labels)

    def with_pictures(self, index: int, images) -> tuple["PictureSet", str]:
        """Add pictures to class `index`, up to MAX_PER_CLASS and MAX_TOTAL.

        Returns the new set and a one-line note of what was left out ("" if nothing). Raises
        PictureError only when nothing could be added (a full class, a bad picture alone).
        """
        index = self._class_index(index)
        images = list(images)
        if not images:
            return self, ""
        room = min(MAX_PER_CLASS - self.counts()[index], MAX_TOTAL - len(self.labels))
        name = self.class_names[index]
        if room <= 0:
            if MAX_TOTAL - len(self.labels) <= 0:
                raise PictureError(f"The set is full ({MAX_TOTAL} pictures in all): remove some first.")
            raise PictureError(f"{name} is full ({MAX_PER_CLASS} pictures): remove some first.")
        kept, bad, first_error = [], 0, ""
        for image in images[:room]:
            try:
                kept.append(to_picture(image))
            except PictureError as e:
                bad += 1
                first_error = first_error or str(e)
        if not kept:
            raise PictureError(first_error if bad == 1 else f"None of the {bad} pictures could be used: "
                               f"{first_error}")
        parts = []
        if len(images) > room:
            cap = (f"{MAX_PER_CLASS} per class" if room == MAX_PER_CLASS - self.counts()[index]
                   else f"{MAX_TOTAL} in all")
            parts.append(f"left out {len(images) - room} of {len(images)} pictures for {name} "
                         f"(at most {cap})")
        if bad:
            parts.append(f"{bad} could not be used ({first_error})")
        result = PictureSet(self.class_names, np.concatenate([self.images, np.stack(kept)]),
                            np.concatenate([self.labels, np.full(len(kept), index, np.int64)]))
        return result, "; ".join(parts)

    def merged(self, other: "PictureSet") -> tuple["PictureSet", str]:
        """This set plus another's classes and pictures (same names join), within the caps."""
        result, notes = self, []
        for c, name in enumerate(other.class_names):
            folded = [n.casefold() for n in result.class_names]
            if name.casefold() in folded:
                index = folded.index(name.casefold())
            elif len(result.class_names) >= MAX_CLASSES:
                notes.append(f"left out the class {name} (at most {MAX_CLASSES} classes)")
                continue
            else:
                result, index = result.with_class(name), len(result.class_names)
            pictures = list(other.images[other.labels == c])
            try:
                result, note = result.with_pictures(index, pictures)
            except PictureError as e:
                note = str(e) if pictures else ""
            notes.append(note)
        return result, "; ".join(n for n in notes if n)

    def without_picture(self, picture_index: int) -> "PictureSet":
        if not 0 <= int(picture_index) < len(self.labels):
            raise PictureError(f"There is no picture number {picture_index}.")
        keep = np.ones(len(self.labels), bool)
        keep[int(picture_index)] = False
        return PictureSet(self.class_names, self.images[keep], self.labels[keep])

    # ---- reading
    def counts(self) -> tuple[int, ...]:
        return tuple(int(n) for n in np.bincount(self.labels, minlength=len(self.class_names)))

    def __len__(self) -> int:
        return len(self.labels)

    def check_trainable(self) -> None:
        """PictureError (one line) unless the set can be trained and tested: 2-10 classes, each
        with at least 2 pictures (one to learn from, one held out)."""
        if len(self.class_names) < MIN_CLASSES:
            raise PictureError(f"Add at least {MIN_CLASSES} classes to train (there "
                               f"{'is' if len(self.class_names) == 1 else 'are'} {len(self.class_names)}).")
        few = [name for name, n in zip(self.class_names, self.counts()) if n < 2]
        if few:
            raise PictureError(f"Every class needs at least 2 pictures (one to learn from, one held "
                               f"out): add some to {', '.join(few)}.")

    def split(self, held_out: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Stratified, seeded (train, held_out) indices: round(held_out x n) of each class held
        out, at least 1, and at least 1 left to learn from."""
        if not 0.0 < float(held_out) < 1.0:
            raise PictureError(f"The held-out part must be between 0 and 1 (got {held_out}).")
        self.check_trainable()
        rng = np.random.default_rng(seed)
        train, test = [], []
        for c in range(len(self.class_names)):
            members = rng.permutation(np.flatnonzero(self.labels == c))
            k = min(len(members) - 1, max(1, int(round(held_out * len(members)))))
            test.append(members[:k])
            train.append(members[k:])
        return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))

    def _class_index(self, index) -> int:
        if not isinstance(index, (int, np.integer)) or not 0 <= int(index) < len(self.class_names):
            raise PictureError(f"There is no class number {index}.")
        return int(index)
