"""How much the network explorer computes for one request, for a model of any supported size.

The explorer's settings (SmoothGrad copies, integrated-gradients steps, occlusion windows,
maximisation pictures) were chosen for the shipped networks. A visitor's own model may take
pictures of up to 256 x 256 x 3 (cnnviz.model_files) and hold many more numbers per picture, so
each view scales its counts here: no model costs more than the shipped CIFAR-10 network (about
REFERENCE_VALUES numbers a picture) at the same settings, and no picture of the maps is larger
than the page shows.

    >>> from cnnviz import work_budget
    >>> per_picture = work_budget.values_per_picture(probe.specs)
    >>> copies = work_budget.fit(50, per_picture)      # 50 for the shipped models, fewer for big ones

Pure Python and NumPy: no TensorFlow, no Streamlit.
"""
from __future__ import annotations

import math

import numpy as np

#: Numbers one picture makes in the largest shipped network (CIFAR-10: 365,972), rounded up.
REFERENCE_VALUES = 400_000


def values_per_picture(specs) -> int:
    """Every number one picture makes in the network, input and every layer's output together
    (specs: probe.Probe.specs, each with an output_shape)."""
    return int(sum(math.prod(int(d) for d in s.output_shape) for s in specs))


def fit(wanted: int, per_picture: int, least: int = 1) -> int:
    """How many pictures (copies, steps, windows) of `per_picture` numbers fit where a shipped
    network would take `wanted`: wanted itself up to REFERENCE_VALUES numbers a picture, then
    fewer in proportion, but at least `least`."""
    wanted = int(wanted)
    if per_picture <= REFERENCE_VALUES:
        return wanted
    return max(int(least), min(wanted, wanted * REFERENCE_VALUES // int(per_picture)))


def shrink_factor(height: int, width: int, columns: int, page_width: int) -> int:
    """The whole factor by which maps H x W are reduced so that `columns` of them side by side
    are at most page_width pixels wide (1: shown as they are)."""
    return max(1, math.ceil(columns * int(width) / max(1, int(page_width))))


def shrink(maps: np.ndarray, factor: int) -> np.ndarray:
    """H x W x C maps reduced by averaging factor x factor blocks (the last, partial blocks
    average what they hold): ceil(H / factor) x ceil(W / factor) x C float32."""
    m = np.asarray(maps, dtype=np.float32)
    if factor <= 1:
        return m
    h, w = m.shape[:2]
    rows, cols = -(-h // factor), -(-w // factor)
    padded = np.full((rows * factor, cols * factor, *m.shape[2:]), np.nan, np.float32)
    padded[:h, :w] = m
    blocks = padded.reshape(rows, factor, cols, factor, *m.shape[2:])
    return np.nanmean(blocks, axis=(1, 3)).astype(np.float32)
