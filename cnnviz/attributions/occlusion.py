"""Occlusion: cover one square of the picture at a time and watch the class's probability.

    from cnnviz import attributions, models
    model = models.load_pretrained("cifar10")
    drop = attributions.occlusion(model, x, class_index=3, patch=4, stride=2)   # H x W

Each pixel gets the mean drop in the class's probability over the windows that cover it:
positive where hiding that part of the picture hurts the answer, negative where hiding it helps.
Nothing here is a gradient: every number is the model run on a changed picture.

Reference:
    M. D. Zeiler, R. Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014
    (arXiv:1311.2901), section 4.2.
"""
from __future__ import annotations

import math

import numpy as np

from cnnviz import probe
from cnnviz.attributions._scores import get_scorer

#: Most occluded pictures one call may send through the model (bounded work per request).
MAX_WINDOWS = 4096
#: Occluded pictures built and sent through the model at a time (bounded memory).
BATCH = 64
#: The explorer's square and step choices (2 to 8 and 1 to 4 pixels) were made for 32 x 32
#: pictures: about this many windows at the finest setting. On a larger input they grow.
REFERENCE_WINDOWS = 32 * 32


def unit_for(shape, windows: int = REFERENCE_WINDOWS) -> int:
    """How many pixels one pixel of a square or step setting stands for on an input of shape
    H x W (x C): 1 up to `windows` pixels, then sqrt(H W / windows) rounded up, so a square of 2
    units moved by 1 unit makes at most about `windows` windows (never more than MAX_WINDOWS for
    windows <= 1,024: each axis has at most H / unit + 1 starts)."""
    h, w = int(shape[0]), int(shape[1])
    return max(1, math.ceil(math.sqrt(h * w / max(1, int(windows)))))


def window_starts(side: int, patch: int, stride: int) -> list[int]:
    """Top (or left) edges of the windows along one axis: 0, stride, 2 stride, ... and, when
    that does not reach the border, one more window flush with it (side - patch)."""
    starts = list(range(0, side - patch + 1, stride))
    if starts[-1] != side - patch:
        starts.append(side - patch)
    return starts


def window_count(shape, patch: int, stride: int) -> int:
    """How many windows a patch moved by stride makes on an input H x W (x C) (0 for a patch
    larger than the shorter side), without the checks of windows()."""
    h, w, patch, stride = int(shape[0]), int(shape[1]), int(patch), max(1, int(stride))
    if not 1 <= patch <= min(h, w):
        return 0
    return len(window_starts(h, patch, stride)) * len(window_starts(w, patch, stride))


def step_within(shape, patch: int, stride: int, most: int, unit: int = 1) -> int:
    """The smallest step >= stride, a multiple of unit and at most patch (wider steps leave
    pixels uncovered), whose windows number at most `most`; patch where none does."""
    step = max(1, int(stride))
    while step < patch and window_count(shape, patch, step) > most:
        step = min(int(patch), step + max(1, int(unit)))
    return step


def windows(shape, patch: int = 4, stride: int = 2) -> list[tuple[int, int]]:
    """The (top, left) corners of every occluding window for an image of shape H x W (x C),
    row by row; ValueError (one line) for settings that are refused (see occlusion)."""
    h, w = int(shape[0]), int(shape[1])
    patch, stride = int(patch), int(stride)
    if patch < 1:
        raise ValueError(f"patch must be at least 1 pixel, got {patch}.")
    if stride < 1:
        raise ValueError(f"stride must be at least 1 pixel, got {stride}.")
    if patch > min(h, w):
        raise ValueError(f"patch must be at most the image's shorter side ({min(h, w)} px), got {patch}.")
    if stride > patch:
        raise ValueError(f"stride must be at most the patch ({patch} px), or some pixels would never "
                         f"be covered; got {stride}.")
    rows, cols = window_starts(h, patch, stride), window_starts(w, patch, stride)
    if len(rows) * len(cols) > MAX_WINDOWS:
        raise ValueError(f"patch {patch} with stride {stride} makes {len(rows) * len(cols)} windows, "
                         f"more than the {MAX_WINDOWS} allowed; use a larger stride or patch.")
    return [(r, c) for r in rows for c in cols]


def occlusion(model, x, class_index: int, patch: int = 4, stride: int = 2,
              fill: float = 0.0) -> np.ndarray:
    """Occlusion sensitivity (Zeiler & Fergus 2014) as an H x W float32 map.

    model: a keras.Model or its probe.Probe. x: one image H x W x C (no batch axis). A
    patch x patch square of value `fill` (every channel) slides over x with `stride`; the last
    window in each row and column is flush with the border, so every pixel is covered. All
    occluded pictures go through the model (training=False) in batches of BATCH. Each pixel
    gets mean over the windows covering it of p(x)[class] - p(occluded)[class], p the model's
    output (the probabilities).

    Refused (ValueError): patch < 1, stride < 1, patch larger than the shorter side, stride
    larger than patch (pixels left uncovered), more than MAX_WINDOWS windows, a fill that is
    not a finite number. Results are remembered (Probe.remember, arrays read-only).
    """
    p = probe.get_probe(model)
    xb = p.check_input(x)
    c = p.check_class(class_index)
    corners = windows(p.input_shape, patch, stride)
    patch, stride = int(patch), int(stride)
    fill = float(fill)
    if not np.isfinite(fill):
        raise ValueError(f"fill must be a finite number, got {fill}.")
    scorer = get_scorer(p)

    def compute():
        h, w = p.input_shape[:2]
        base = float(scorer.scores(xb)[1][0, c])
        total = np.zeros((h, w), np.float64)
        count = np.zeros((h, w), np.int64)
        for i in range(0, len(corners), BATCH):
            part = corners[i:i + BATCH]
            batch = np.repeat(xb, len(part), axis=0)
            for k, (r, q) in enumerate(part):
                batch[k, r:r + patch, q:q + patch, :] = fill
            probs = scorer.scores(batch)[1][:, c].astype(np.float64)
            for (r, q), pr in zip(part, probs):
                total[r:r + patch, q:q + patch] += base - pr
                count[r:r + patch, q:q + patch] += 1
        return (total / count).astype(np.float32)

    return p.remember(("occlusion", p.digest(xb), c, patch, stride, fill), compute)
