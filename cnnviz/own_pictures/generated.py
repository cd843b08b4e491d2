"""A generated set of own pictures for benchmarks and tests: circles, squares and triangles drawn
in dark ink on light paper, with random size, position, rotation, colours and noise, 32 x 32 x 3
each (like drawings held up to a webcam).

    >>> from cnnviz.own_pictures import shapes
    >>> pictures = shapes(60, seed=0)        # 3 classes x 60 pictures, the same for the same seed
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from cnnviz.own_pictures.picture_set import SIZE, PictureSet

__all__ = ["SHAPES", "shapes"]

SHAPES = ("circle", "square", "triangle")
_DRAWN = 4 * SIZE       # drawn larger, then reduced: smooth edges


def shapes(n_per_class: int, seed: int = 0) -> PictureSet:
    """SHAPES x n_per_class pictures (labels in SHAPES' order), reproducible from the seed."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label in range(len(SHAPES)):
        for _ in range(int(n_per_class)):
            images.append(_draw(label, rng))
            labels.append(label)
    return PictureSet(SHAPES, np.stack(images) if images else np.zeros((0, SIZE, SIZE, 3), np.uint8),
                      np.asarray(labels, np.int64))


def _draw(label: int, rng: np.random.Generator) -> np.ndarray:
    background = rng.integers(170, 256, 3)      # light paper of some tint, dark ink of some colour
    ink = rng.integers(0, 111, 3)
    img = Image.new("RGB", (_DRAWN, _DRAWN), tuple(int(v) for v in background))
    draw = ImageDraw.Draw(img)
    radius = rng.uniform(0.28, 0.42) * _DRAWN
    cx, cy = rng.uniform(radius, _DRAWN - radius, 2)
    turn = rng.uniform(0, 2 * np.pi)
    colour = tuple(int(v) for v in ink)
    if SHAPES[label] == "circle":
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=colour)
    else:
        corners = 4 if SHAPES[label] == "square" else 3
        angles = turn + 2 * np.pi * np.arange(corners) / corners
        draw.polygon([(cx + radius * np.cos(a), cy + radius * np.sin(a)) for a in angles], fill=colour)
    small = np.asarray(img.resize((SIZE, SIZE), Image.Resampling.BOX), dtype=np.float32)
    small += rng.normal(0, 8, small.shape)
    return np.clip(np.rint(small), 0, 255).astype(np.uint8)
