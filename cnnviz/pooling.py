"""Max, average and L2 pooling (with the winning positions), translation and dropout.

Pure NumPy. ``pool2d`` matches keras.layers.MaxPooling2D and AveragePooling2D
(tests/test_pooling.py compares every pool size/stride/padding):

* the stride defaults to the pool size, as in Keras;
* "same" padding puts the extra padded cell at the bottom/right, as TensorFlow does
  (``conv_arithmetic.pad_amounts``); padded cells never win a max (they act as -inf) and are
  *not counted* in an average (TensorFlow divides by the number of real cells);
* L2 pooling (no Keras layer) is sqrt(sum of squares) of the real cells in the window.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnviz import conv_arithmetic, conv_inputs

MODES = ("max", "avg", "l2")
MAX_SHIFT = 8


@dataclass(frozen=True)
class PoolResult:
    """What pool2d computed.

    output:  oh×ow (or oh×ow×C) float32.
    winners: for mode "max", an int array oh×ow×2 (or oh×ow×C×2) holding the input
             (row, col) of the cell that won each window (the first one on ties);
             None for the other modes.
    pads:    ((top, bottom), (left, right)) padded cells added around the input.
    size, stride, padding, mode: the settings used.
    """
    output: np.ndarray
    winners: np.ndarray | None
    pads: tuple[tuple[int, int], tuple[int, int]]
    size: tuple[int, int]
    stride: tuple[int, int]
    padding: str
    mode: str

    def window(self, row: int, col: int) -> tuple[slice, slice]:
        """The input rows/cols (clipped to the image) covered by output cell (row, col)."""
        (pt, _), (pl, _) = self.pads
        r0 = row * self.stride[0] - pt
        c0 = col * self.stride[1] - pl
        return (slice(max(r0, 0), r0 + self.size[0]), slice(max(c0, 0), c0 + self.size[1]))


def _as_map(x) -> np.ndarray:
    return conv_inputs.finite_grid(x, "the map to pool", "H×W or H×W×C")


def output_shape(shape, size, stride=None, padding: str = "valid") -> tuple[int, int]:
    """(oh, ow) of pooling an input of shape (H, W[, C]); conv_arithmetic.output_size per axis."""
    size = conv_arithmetic.check_int_pair("pool size", size)
    stride = size if stride is None else conv_arithmetic.check_int_pair("stride", stride)
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    h, w = int(shape[0]), int(shape[1])
    if padding == "valid" and (size[0] > h or size[1] > w):
        raise ValueError(f"The {size[0]}×{size[1]} pooling window does not fit inside this {h}×{w} "
                         f"map. Choose a window of at most {min(h, w)}×{min(h, w)}, or 'same' "
                         "padding, which pads the map so every window fits.")
    return (conv_arithmetic.output_size(h, size[0], stride[0], padding),
            conv_arithmetic.output_size(w, size[1], stride[1], padding))


def pool2d(x, size=2, stride=None, padding: str = "valid", mode: str = "max") -> PoolResult:
    """Pool an H×W or H×W×C map with a size×size window moving by `stride` (default: size).

    mode: "max" (largest value; winners recorded), "avg" (mean of the real cells) or
    "l2" (sqrt of the sum of squares of the real cells). padding: "valid" or "same".
    """
    arr = _as_map(x)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}.")
    size = conv_arithmetic.check_int_pair("pool size", size)
    stride = size if stride is None else conv_arithmetic.check_int_pair("stride", stride)
    oh, ow = output_shape(arr.shape, size, stride, padding)
    h, w = arr.shape[:2]
    pads = (conv_arithmetic.pad_amounts(h, size[0], stride[0], padding),
            conv_arithmetic.pad_amounts(w, size[1], stride[1], padding))
    x3 = arr if arr.ndim == 3 else arr[..., None]
    real = np.ones((h, w), dtype=bool)
    if padding == "same":
        fill = -np.inf if mode == "max" else 0.0
        x3 = np.pad(x3, (pads[0], pads[1], (0, 0)), constant_values=fill)
        real = np.pad(real, pads, constant_values=False)
    # windows: oh × ow × C × kh × kw (a view, no copy)
    win = sliding_window_view(x3, size, axis=(0, 1))[::stride[0], ::stride[1]][:oh, :ow]
    winners = None
    if mode == "max":
        flat = win.reshape(oh, ow, win.shape[2], -1)
        idx = flat.argmax(axis=-1)                              # first maximum in row-major order
        out = np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]
        rows = np.arange(oh)[:, None, None] * stride[0] - pads[0][0] + idx // size[1]
        cols = np.arange(ow)[None, :, None] * stride[1] - pads[1][0] + idx % size[1]
        winners = np.stack([rows, cols], axis=-1).astype(np.int64)
    else:
        count = sliding_window_view(real, size)[::stride[0], ::stride[1]][:oh, :ow].sum(axis=(-2, -1))
        if mode == "avg":
            out = win.sum(axis=(-2, -1), dtype=np.float64) / count[..., None]
        else:
            out = np.sqrt(np.square(win, dtype=np.float64).sum(axis=(-2, -1)))
    out = np.asarray(out, dtype=np.float32)
    if arr.ndim == 2:
        out = out[..., 0]
        if winners is not None:
            winners = winners[:, :, 0, :]
    return PoolResult(out, winners, pads, size, stride, padding, mode)


# --------------------------------------------------------------------------- translation

def shift_image(x, shift: int, axis: int = 1) -> np.ndarray:
    """Move the map `shift` pixels right (axis=1) or down (axis=0); the edge row/column is repeated
    into the gap, so no artificial edge appears."""
    arr = np.asarray(x, dtype=np.float32)
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)) or not 0 <= shift <= MAX_SHIFT:
        raise ValueError(f"shift must be a whole number from 0 to {MAX_SHIFT} pixels, got {shift!r}.")
    if axis not in (0, 1):
        raise ValueError("axis must be 0 (down) or 1 (right).")
    if shift == 0:
        return arr.copy()
    n = arr.shape[axis]
    idx = np.clip(np.arange(n) - shift, 0, n - 1)
    return np.take(arr, idx, axis=axis)


@dataclass(frozen=True)
class TranslationChange:
    """How much a map changes when its input moves by `shift` pixels.

    map_change:    mean |x_shifted - x| / mean |x|          (the unpooled map)
    pooled_change: mean |pool(x_shifted) - pool(x)| / mean |pool(x)|
    ratio:         pooled_change / map_change (below 1: pooling made it more stable)
    original, shifted, pooled, pooled_shifted: the four maps behind the numbers.
    """
    shift: int
    map_change: float
    pooled_change: float
    original: np.ndarray
    shifted: np.ndarray
    pooled: np.ndarray
    pooled_shifted: np.ndarray

    @property
    def ratio(self) -> float:
        return self.pooled_change / self.map_change if self.map_change > 0 else float("nan")


def _relative_change(a: np.ndarray, b: np.ndarray) -> float:
    scale = float(np.mean(np.abs(a), dtype=np.float64))
    diff = float(np.mean(np.abs(b.astype(np.float64) - a)))
    return diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))


def translation_change(x, shift: int, size=2, mode: str = "max", stride=None,
                       padding: str = "valid", axis: int = 1) -> TranslationChange:
    """Shift the input by `shift` px (right, or down with axis=0) and compare the relative
    change of the map itself with the relative change of its pooled version."""
    arr = _as_map(x)
    moved = shift_image(arr, shift, axis)
    p0 = pool2d(arr, size, stride, padding, mode).output
    p1 = pool2d(moved, size, stride, padding, mode).output
    return TranslationChange(int(shift), _relative_change(arr, moved), _relative_change(p0, p1),
                             arr, moved, p0, p1)


# --------------------------------------------------------------------------- dropout

def _check_rate(rate) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating, np.integer)) \
            or not np.isfinite(rate) or not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"dropout rate must be a number from 0 up to (not including) 1, got {rate!r}.")
    return float(rate)


def dropout_mask(shape, rate: float, seed: int) -> np.ndarray:
    """Boolean mask, True = kept. Each cell is dropped independently with probability `rate`."""
    rate = _check_rate(rate)
    rng = np.random.default_rng(seed)
    return rng.random(shape) >= rate


def apply_dropout(x, rate: float, seed: int, training: bool = True) -> np.ndarray:
    """Dropout as keras.layers.Dropout does it.

    training=True: zero the dropped cells and scale the survivors by 1/(1-rate), so the
    expected sum stays the same. training=False (inference): return x unchanged.
    """
    arr = np.asarray(x, dtype=np.float32)
    rate = _check_rate(rate)
    if not training:
        return arr.copy()
    mask = dropout_mask(arr.shape, rate, seed)
    return np.where(mask, arr / np.float32(1.0 - rate), np.float32(0.0)).astype(np.float32)
