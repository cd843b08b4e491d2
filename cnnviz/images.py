"""Pictures: the Picture every page works on, drawings from the canvas, grey and 0-255 views.

Pure NumPy/Pillow: this module never imports TensorFlow or Streamlit. Where pictures come from
is in uploads (bytes of an image file, within a memory budget) and samples (the bundled ones);
model_input turns a picture into what a trained network expects.

Every Picture holds float32 pixels in [0, 1]: H x W for grayscale sources, H x W x 3 for colour.
Transparent parts of an image are composited on WHITE (most transparent PNGs are dark drawings or
logos meant to be seen on a light page); the note on the Picture says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz import data as datasets

__all__ = ["ImageError", "Picture", "SOURCES", "from_canvas", "shape_text", "to_gray", "to_uint8"]

# Luma weights used by Pillow's convert("L") (ITU-R 601-2).
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


#: How a Picture can come in (Picture.source).
SOURCES = ("sample", "upload", "drawing", "camera")


class ImageError(ValueError):
    """An input could not be used as an image; the message says why and what is accepted."""


@dataclass(frozen=True)
class Picture:
    """An image ready for the lessons.

    pixels: float32 in [0, 1]; H x W for grayscale sources, H x W x 3 for colour.
            Stored read-only (pages share it through the session): copy before changing it.
    name:   where it came from, for people ("sample: handwritten 3", "upload: cat.jpg").
    notes:  what was done while loading ("used the first of 12 frames", "downscaled from 4000 x 3000").
    source: how it came in, one of SOURCES: "sample", "upload", "drawing" or "camera".
    dataset: for a sample from a dataset, that dataset's key in data.TABLE ("mnist"); else None.
    """
    pixels: np.ndarray
    name: str
    notes: tuple[str, ...] = field(default=())
    source: str = "upload"
    dataset: str | None = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"Picture source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if self.dataset is not None and self.dataset not in datasets.TABLE:
            raise ValueError(f"Picture dataset must be one of {', '.join(datasets.TABLE)} or None, "
                             f"got {self.dataset!r}")
        pixels = np.array(self.pixels, dtype=np.float32, copy=True)
        if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3)):
            raise ValueError(f"Picture pixels must be H x W or H x W x 3, got shape {pixels.shape}")
        if pixels.shape[0] == 0 or pixels.shape[1] == 0:
            raise ValueError(f"Picture pixels must not be empty, got shape {pixels.shape}")
        pixels.flags.writeable = False
        object.__setattr__(self, "pixels", pixels)
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def is_gray(self) -> bool:
        return self.pixels.ndim == 2

    @property
    def shape_text(self) -> str:
        return shape_text(self.pixels)


def shape_text(shape_or_array) -> str:
    """'28 × 28' or '480 × 480 × 3' (height × width [× channels]), the way the lesson writes it.

    Takes a shape (a tuple of sizes) or anything with a .shape (an array)."""
    shape = shape_or_array.shape if hasattr(shape_or_array, "shape") else shape_or_array
    return " × ".join(str(n) for n in shape)


# --------------------------------------------------------------------------- canvas

def from_canvas(rgba: np.ndarray | None, name: str = "drawing") -> Picture | None:
    """streamlit-drawable-canvas image_data (H x W x 4 uint8, white ink on black) -> grey Picture.

    Returns None when nothing is drawn (no pixel brighter than 10/255). Transparent pixels count
    as black (the canvas background).
    """
    if rgba is None:
        return None
    arr = np.asarray(rgba)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        return None
    arr = arr.astype(np.float32)
    if np.issubdtype(np.asarray(rgba).dtype, np.integer):
        arr /= 255.0
    gray = arr[..., :3] @ _LUMA
    if arr.shape[2] == 4:
        gray = gray * arr[..., 3]
    gray = np.clip(gray, 0.0, 1.0)
    if float(gray.max()) <= 10 / 255:
        return None
    return Picture(gray, name, ("white ink on black",), "drawing")


# --------------------------------------------------------------------------- conversions

def to_gray(pixels: np.ndarray) -> np.ndarray:
    """H x W float32: grey images unchanged, RGB by ITU-R 601 luma (what Pillow's convert('L') uses)."""
    arr = np.asarray(pixels, dtype=np.float32)
    if arr.ndim == 2:
        return arr.copy()
    if arr.ndim == 3 and arr.shape[2] == 3:
        return arr @ _LUMA
    if arr.ndim == 3 and arr.shape[2] == 1:
        return arr[..., 0].copy()
    raise ValueError(f"expected H x W or H x W x 3 pixels, got shape {arr.shape}")


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> 0..255 uint8 (rounded, clipped): the numbers an image file stores."""
    return np.clip(np.rint(np.asarray(pixels, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)

