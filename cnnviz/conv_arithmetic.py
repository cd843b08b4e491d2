"""The arithmetic every sliding window shares: checked whole numbers, Keras's padding and output sizes.

Pure Python; convolutions (kernels, conv1d, conv3d, separable), pooling and the layer specs use
the one definition of each size here.

    >>> output_size(28, 3, stride=2, padding="same")
    14
"""
from __future__ import annotations

import math
import numbers


def check_int(name: str, value, minimum: int) -> int:
    """value as an int; ValueError naming `name` unless it is a whole number ≥ minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number ≥ {minimum}, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}, got {value}.")
    return int(value)


def check_int_pair(name: str, value, minimum: int = 1) -> tuple[int, int]:
    """(a, b) from a whole number (used for both axes) or a pair of them, each ≥ minimum."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be a whole number or a pair of them, got {value!r}.")
        a, b = value
    else:
        a = b = value
    return check_int(name, a, minimum), check_int(name, b, minimum)


def check_padding(padding, allow_causal: bool = False):
    names = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if isinstance(padding, str):
        if padding not in names:
            raise ValueError(f"padding must be one of {', '.join(map(repr, names))} or a whole "
                             f"number ≥ 0, got {padding!r}.")
        return padding
    return check_int("padding", padding, 0)


def pad_amounts(n: int, k: int, stride: int = 1, padding="valid", dilation: int = 1) -> tuple[int, int]:
    """Zeros added (before, after) along one axis of length n, exactly as Keras pads.

    "valid": none.  int p: p on each side.  "causal" (1-D): (k-1)·d before, none after.
    "same": total = max((ceil(n/s) - 1)·s + eff_k - n, 0) with eff_k = (k-1)·d + 1; the extra
    zero (when total is odd) goes after (bottom/right), as in TensorFlow.
    """
    padding = check_padding(padding, allow_causal=True)
    eff = (k - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return eff - 1, 0
    if padding == "same":
        total = max((math.ceil(n / stride) - 1) * stride + eff - n, 0)
        return total // 2, total - total // 2
    return padding, padding


def output_size(n: int, k: int, stride: int = 1, padding="valid", dilation: int = 1) -> int:
    """Length of the output along one axis, as Keras computes it.

    int p:    floor((n + 2p - k - (k-1)(d-1)) / s) + 1
    "valid":  floor((n - eff_k) / s) + 1,   eff_k = (k-1)·d + 1
    "same":   ceil(n / s)
    "causal": ceil(n / s)   (1-D only; left padding of (k-1)·d)

    Raises ValueError with a readable message when the output would be empty.
    """
    n = check_int("input size", n, 1)
    k = check_int("kernel size", k, 1)
    stride = check_int("stride", stride, 1)
    dilation = check_int("dilation", dilation, 1)
    count = window_count(n, k, stride, padding, dilation)
    if count < 1:
        before, after = pad_amounts(n, k, stride, padding, dilation)
        eff, padded = (k - 1) * dilation + 1, n + before + after
        what = f"{n} + {before + after} padding = {padded}" if before + after else f"{n}"
        raise ValueError(
            f"The kernel spans {eff} pixels (size {k}, dilation {dilation}) but the input is only "
            f"{what} pixels long on this side, so the output would be empty. Use a smaller kernel "
            f"or dilation, or more padding.")
    return count


def window_count(n: int, k: int, stride: int = 1, padding="valid", dilation: int = 1) -> int:
    """output_size's formula unchecked: 0 or less where the kernel spans more than the padded input."""
    before, after = pad_amounts(n, k, stride, padding, dilation)
    return (n + before + after - ((k - 1) * dilation + 1)) // stride + 1
