"""What a convolution accepts: finite float32 arrays of the right shape, and results it can afford.

The transposed, 3-D and separable convolutions refuse requests whose output or arithmetic would
be too big for a lesson page (MAX_OUTPUT_VALUES, MAX_MULTIPLY_ADDS).
"""
from __future__ import annotations

import math

import numpy as np


MAX_OUTPUT_VALUES = 1 << 24        # numbers in one result (16.8 M float32 = 64 MB)
MAX_MULTIPLY_ADDS = 1 << 31        # multiply-adds in one call (a few seconds of NumPy here)


def as_image(image) -> np.ndarray:
    img = np.asarray(image, dtype=np.float32)
    if img.ndim not in (2, 3) or img.size == 0:
        raise ValueError(f"image must be H×W or H×W×C with at least one pixel, got shape {img.shape}.")
    return img


def finite_grid(values, what: str, shapes: str) -> np.ndarray:
    """float32 array of 2 or 3 dimensions holding finite numbers, else a ValueError naming `what`."""
    arr = np.asarray(values, dtype=np.float32)
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise ValueError(f"{what} must be {shapes}, got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must hold finite numbers (no NaN or infinity).")
    return arr


def check_budget(out_shape, taps: int, what: str) -> None:
    """ValueError unless a result of out_shape, each value a sum of `taps` products, is affordable."""
    values = math.prod(out_shape)
    if values > MAX_OUTPUT_VALUES:
        raise ValueError(f"The {what} would be {'×'.join(map(str, out_shape))} = {values:,} values; "
                         f"the largest accepted is {MAX_OUTPUT_VALUES:,}. Use a smaller input or stride.")
    if values * taps > MAX_MULTIPLY_ADDS:
        raise ValueError(f"The {what} would need {values * taps:,} multiply-adds; the most accepted "
                         f"is {MAX_MULTIPLY_ADDS:,}. Use a smaller input or kernel.")


def square_kernel(kernel, dims: int, shapes: str) -> np.ndarray:
    """A finite float32 kernel whose first `dims` sides are equal (k×k or k×k×k), else ValueError."""
    ker = np.asarray(kernel, dtype=np.float32)
    if ker.ndim not in (dims, dims + 1) or ker.size == 0:
        raise ValueError(f"the kernel must be {shapes}, got shape {ker.shape}.")
    if len(set(ker.shape[:dims])) != 1:
        side = "×".join(map(str, ker.shape[:dims]))
        raise ValueError(f"the kernel must be square ({shapes}), got {side} sides.")
    if not np.all(np.isfinite(ker)):
        raise ValueError("the kernel must hold finite numbers (no NaN or infinity).")
    return ker
