"""Bytes, drawings and camera shots -> validated float arrays; model-input preprocessing.

(Being written: see the helper's work. The contract other modules rely on is below.)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class ImageError(ValueError):
    """An input could not be used as an image; the message says why and what is accepted."""


@dataclass(frozen=True)
class Picture:
    """An image ready for the lessons.

    pixels: float32 in [0, 1]; H x W for grayscale sources, H x W x 3 for colour.
    name:   where it came from, for people ("sample: handwritten 3", "upload: cat.jpg").
    notes:  what was done while loading ("used the first of 12 frames", "downscaled from 4000 x 3000").
    """
    pixels: np.ndarray
    name: str
    notes: tuple[str, ...] = field(default=())
