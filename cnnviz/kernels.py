"""Convolution kernels and the arithmetic of sliding them over images and signals.

Pure NumPy (never TensorFlow), so the lesson pages stay instant. Every function here
matches what Keras computes; tests/test_kernels.py compares it with keras.layers.Conv2D,
DepthwiseConv2D, ZeroPadding2D and Conv1D.

Like Keras (and every deep-learning library) the "convolution" is really a
**cross-correlation**: the kernel is *not* flipped. The kernel's top-left value multiplies the
top-left pixel under the window.

    >>> from cnnviz import kernels
    >>> out = kernels.convolve(img, kernels.PRESETS["sharpen"], stride=2, padding="same")
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from cnnviz import typed

__all__ = [
    "PRESETS", "DESCRIPTIONS", "MAX_KERNEL_SIZE", "MAX_ABS_VALUE",
    "convolve", "output_size", "pad_amounts", "check_int", "check_int_pair", "window", "Window",
    "parse_kernel", "normalise", "convolve1d", "receptive_field_1d",
]

MAX_KERNEL_SIZE = 7          # largest side the editor accepts
MAX_ABS_VALUE = 1e6          # largest |value| a typed kernel cell may hold

# --------------------------------------------------------------------------- presets

_CURVE = np.zeros((7, 7))
# The lesson's "curve detector": positive along a curve (a stroke that comes down from the
# top-right and bends into a vertical line), zero elsewhere.
for _r, _c in [(0, 5), (1, 4), (2, 3), (3, 3), (4, 3), (5, 3)]:
    _CURVE[_r, _c] = 1.0

_GAUSS5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0

PRESETS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "box blur": np.full((3, 3), 1 / 9),
    "Gaussian blur 3×3": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16,
    "Gaussian blur 5×5": _GAUSS5,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "outline (Laplacian)": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float),
    "Sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "Sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
    "Prewitt x": np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=float),
    "Prewitt y": np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]], dtype=float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float),
    "curve detector": _CURVE,
}

DESCRIPTIONS: dict[str, str] = {
    "identity": "Copies the image: only the centre weight is 1.",
    "box blur": "Averages each 3×3 neighbourhood: every weight is 1/9.",
    "Gaussian blur 3×3": "A softer blur: near pixels count more than far ones (weights sum to 1).",
    "Gaussian blur 5×5": "A stronger Gaussian blur over a 5×5 neighbourhood (weights sum to 1).",
    "sharpen": "Boosts the centre and subtracts the neighbours, so edges stand out more.",
    "outline (Laplacian)": "Zero on flat areas, large where brightness changes: draws outlines.",
    "Sobel x": "Responds to left-to-right brightness changes (vertical edges); sign shows direction.",
    "Sobel y": "Responds to top-to-bottom brightness changes (horizontal edges).",
    "Prewitt x": "Like Sobel x with equal weights: vertical edges.",
    "Prewitt y": "Like Sobel y with equal weights: horizontal edges.",
    "emboss": "Light on one side of an edge, dark on the other: a raised, stamped look.",
    "curve detector": "1 along a curved line, 0 elsewhere: fires where the image has that curve.",
}

for _k in PRESETS.values():
    _k.setflags(write=False)


# --------------------------------------------------------------------------- shapes

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


def _check_padding(padding, allow_causal: bool = False):
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
    padding = _check_padding(padding, allow_causal=True)
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
    before, after = pad_amounts(n, k, stride, padding, dilation)
    eff = (k - 1) * dilation + 1
    padded = n + before + after
    if padded < eff:
        what = f"{n} + {before + after} padding = {padded}" if before + after else f"{n}"
        raise ValueError(
            f"The kernel spans {eff} pixels (size {k}, dilation {dilation}) but the input is only "
            f"{what} pixels long on this side, so the output would be empty. Use a smaller kernel "
            f"or dilation, or more padding.")
    return (padded - eff) // stride + 1


# --------------------------------------------------------------------------- 2-D convolution

def _as_image(image) -> np.ndarray:
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


def _as_kernel(kernel) -> np.ndarray:
    return finite_grid(kernel, "the kernel", "k×k or k×k×C")


def _plan(img: np.ndarray, ker: np.ndarray, stride, padding, dilation):
    """Check the arguments shared by convolve() and window() once.

    Returns (stride, dilation, (out_h, out_w), ((top, bottom), (left, right))): the checked
    stride and dilation, the output size and the zeros padded on each side.
    """
    stride = check_int("stride", stride, 1)
    dilation = check_int("dilation", dilation, 1)
    padding = _check_padding(padding)
    h, w = img.shape[:2]
    c = img.shape[2] if img.ndim == 3 else 1
    kh, kw = ker.shape[:2]
    if ker.ndim == 3:
        if ker.shape[2] != c:
            raise ValueError(f"kernel has {ker.shape[2]} channels but the image has {c}.")
    oh = output_size(h, kh, stride, padding, dilation)
    ow = output_size(w, kw, stride, padding, dilation)
    pads = (pad_amounts(h, kh, stride, padding, dilation), pad_amounts(w, kw, stride, padding, dilation))
    return stride, dilation, (oh, ow), pads


def _correlate2d(x: np.ndarray, ker: np.ndarray, stride: int, dilation: int, out_hw, pads) -> np.ndarray:
    """One H×W float32 plane cross-correlated with one kh×kw kernel -> oh×ow float32.

    A sum of kh·kw shifted (strided, dilated) slices, each scaled by one weight. Measured here:
    faster than sliding_window_view + einsum, and one plane at a time beats a C×H×W stack
    (the plane stays in cache).
    """
    (pt, pb), (pl, pr) = pads
    if pt or pb or pl or pr:
        x = np.pad(x, ((pt, pb), (pl, pr)))
    oh, ow = out_hw
    kh, kw = ker.shape
    out = np.zeros((oh, ow), dtype=np.float32)
    tmp = np.empty_like(out)
    rows_span = (oh - 1) * stride + 1
    cols_span = (ow - 1) * stride + 1
    for i in range(kh):
        r0 = i * dilation
        for j in range(kw):
            wgt = ker[i, j]
            if wgt == 0:
                continue
            c0 = j * dilation
            np.multiply(x[r0:r0 + rows_span:stride, c0:c0 + cols_span:stride], wgt, out=tmp)
            out += tmp
    return out


def convolve(image, kernel, stride: int = 1, padding="valid", dilation: int = 1,
             bias: float = 0.0, depthwise: bool = False) -> np.ndarray:
    """Slide `kernel` over `image`: multiply element-wise, sum, add `bias` (float32 result).

    This is cross-correlation (the kernel is not flipped), exactly like keras.layers.Conv2D.

    image:   H×W (grayscale) or H×W×C.
    kernel:  k×k (the same weights on every channel) or k×k×C (one weight per channel).
             Non-square kh×kw kernels work too.
    padding: "valid" (none), "same" (Keras's: output ceil(n/s), extra zero at bottom/right) or an
             int p (p zeros on every side, like ZeroPadding2D(p) followed by "valid").
    dilation: spacing between kernel taps (Keras's dilation_rate).
    depthwise=False: one filter spanning every channel; the channels' products are summed into
             one H'×W' map (Conv2D with one filter). A k×k kernel is used on each channel.
    depthwise=True: each channel filtered separately -> H'×W'×C (DepthwiseConv2D,
             depth_multiplier=1); with a k×k×C kernel channel c uses kernel[..., c].
    bias:    added to every output value (per channel when depthwise, a scalar or length-C).
    """
    img = _as_image(image)
    ker = _as_kernel(kernel)
    stride, dilation, out_hw, pads = _plan(img, ker, stride, padding, dilation)
    bias_arr = np.asarray(bias, dtype=np.float32)
    if bias_arr.ndim > 1 or (bias_arr.ndim == 1 and not depthwise):
        raise ValueError("bias must be one number (or one per channel when depthwise).")
    c = img.shape[2] if img.ndim == 3 else 1
    if depthwise and bias_arr.ndim == 1 and bias_arr.shape[0] != c:
        raise ValueError(f"bias has {bias_arr.shape[0]} values but the image has {c} channels.")

    def plane(ch: int) -> np.ndarray:
        return img if img.ndim == 2 else np.ascontiguousarray(img[..., ch])

    def weights(ch: int) -> np.ndarray:
        return ker if ker.ndim == 2 else ker[..., ch]

    if depthwise:
        out = np.stack([_correlate2d(plane(ch), weights(ch), stride, dilation, out_hw, pads)
                        for ch in range(c)], axis=2)
    elif img.ndim == 3 and ker.ndim == 2:
        # Same weights on every channel: summing the channels first is identical and C× cheaper.
        out = _correlate2d(img.sum(axis=2, dtype=np.float32), ker, stride, dilation, out_hw, pads)
    else:
        out = _correlate2d(plane(0), weights(0), stride, dilation, out_hw, pads)
        for ch in range(1, c):
            out += _correlate2d(plane(ch), weights(ch), stride, dilation, out_hw, pads)
    return out + bias_arr


# --------------------------------------------------------------------------- one window

@dataclass(frozen=True)
class Window:
    """The arithmetic behind one output value (row, col) of convolve().

    rows, cols: input coordinates each kernel tap touches (length kh and kw); a coordinate
                outside [0, H) or [0, W) lands on padding, whose value is 0.
    patch:      the input values under the taps (kh×kw, or kh×kw×C); 0 where padding.
    in_image:   kh×kw bool, True where the tap lands inside the image.
    products:   patch × kernel, element-wise (same shape as patch, kernel broadcast per channel).
    total:      sum of the products (a float; a length-C array when depthwise).
    bias:       the bias added.
    value:      total + bias, equal to convolve(...)[row, col] (to float32 rounding).
    top, left, bottom, right: the receptive field's extent in input coordinates (inclusive).
    """
    row: int
    col: int
    rows: np.ndarray
    cols: np.ndarray
    patch: np.ndarray
    in_image: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    total: float | np.ndarray
    bias: float | np.ndarray
    value: float | np.ndarray

    @property
    def top(self) -> int:
        return int(self.rows[0])

    @property
    def bottom(self) -> int:
        return int(self.rows[-1])

    @property
    def left(self) -> int:
        return int(self.cols[0])

    @property
    def right(self) -> int:
        return int(self.cols[-1])


def window(image, kernel, row: int, col: int, stride: int = 1, padding="valid", dilation: int = 1,
           bias: float = 0.0, depthwise: bool = False) -> Window:
    """The step-through: which pixels the kernel covers at output (row, col), their products and sum.

    Same arguments as convolve(); value = sum(products) + bias equals convolve(...)[row, col].
    For depthwise=False with several channels the products are summed over channels too.
    """
    img = _as_image(image)
    ker = _as_kernel(kernel)
    stride, dilation, (oh, ow), ((pt, _), (pl, _)) = _plan(img, ker, stride, padding, dilation)
    row = check_int("row", row, 0)
    col = check_int("col", col, 0)
    if row >= oh or col >= ow:
        raise ValueError(f"output position ({row}, {col}) is outside the {oh}×{ow} output.")
    kh, kw = ker.shape[:2]
    rows = row * stride - pt + dilation * np.arange(kh)
    cols = col * stride - pl + dilation * np.arange(kw)
    h, w = img.shape[:2]
    rin = (rows >= 0) & (rows < h)
    cin = (cols >= 0) & (cols < w)
    in_image = rin[:, None] & cin[None, :]
    rr = np.clip(rows, 0, h - 1)
    cc = np.clip(cols, 0, w - 1)
    patch = img[np.ix_(rr, cc)].astype(np.float64)
    mask = in_image if img.ndim == 2 else in_image[..., None]
    patch = np.where(mask, patch, 0.0)
    k64 = ker.astype(np.float64)
    if img.ndim == 3 and k64.ndim == 2:
        k64 = np.repeat(k64[..., None], img.shape[2], axis=2)
    elif img.ndim == 2 and k64.ndim == 3:
        k64 = k64[..., 0]
    products = patch * k64
    if depthwise and img.ndim == 3:
        total = products.sum(axis=(0, 1))
    else:
        total = float(products.sum())
    b = np.asarray(bias, dtype=np.float64)
    b = float(b) if b.ndim == 0 else b
    return Window(row, col, rows, cols, patch, in_image, k64, products, total, b, total + b)


# --------------------------------------------------------------------------- typed kernels

def _cell_value(v, r: int, c: int) -> float:
    accepted = (f"Use numbers between −{MAX_ABS_VALUE:,.0f} and {MAX_ABS_VALUE:,.0f}, "
                "like 2, -0.5 or 1/9.")
    return typed.parse_number(v, f"Kernel cell (row {r + 1}, column {c + 1})", accepted, MAX_ABS_VALUE)


def parse_kernel(cells, max_size: int = MAX_KERNEL_SIZE) -> np.ndarray:
    """A grid typed in the kernel editor -> a float64 kh×kw array, or ValueError naming the cell.

    cells: a list of rows (what the kernel grid sends), a NumPy array or a pandas DataFrame. Cells may
    be numbers or text such as "2", "-0.5" or "1/9". Rejected: empty cells, other text, NaN,
    infinity, |value| > 1e6, ragged rows, and grids larger than max_size×max_size.
    """
    if hasattr(cells, "to_numpy") and hasattr(cells, "columns"):   # pandas DataFrame
        rows = cells.to_numpy(dtype=object).tolist()
    elif isinstance(cells, np.ndarray):
        if cells.ndim != 2:
            raise ValueError(f"A kernel is a 2-D grid of numbers, got an array of shape {cells.shape}.")
        rows = cells.tolist()
    else:
        try:
            rows = [list(r) for r in cells]
        except TypeError:
            raise ValueError("A kernel is a grid (a list of rows) of numbers.") from None
    if not rows or not rows[0]:
        raise ValueError("The kernel is empty: it needs at least one row and one column.")
    width = len(rows[0])
    for r, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"Kernel row {r + 1} has {len(row)} cells but row 1 has {width}; "
                             "every row needs the same number of cells.")
    if len(rows) > max_size or width > max_size:
        raise ValueError(f"The kernel is {len(rows)}×{width}; the largest accepted is "
                         f"{max_size}×{max_size}.")
    return np.array([[_cell_value(v, r, c) for c, v in enumerate(row)] for r, row in enumerate(rows)],
                    dtype=np.float64)


def normalise(kernel) -> np.ndarray:
    """Scale the kernel so its values sum to 1 (keeps the image's brightness when blurring).

    Refuses kernels whose sum is (nearly) 0, such as edge detectors: there is nothing to scale.
    """
    k = np.asarray(kernel, dtype=np.float64)
    total = k.sum()
    scale = max(float(np.abs(k).sum()), 1e-300)
    if not np.isfinite(total) or abs(total) <= 1e-9 * scale or abs(total) < 1e-12:
        raise ValueError(f"This kernel's values add up to {total:.3g} (≈ 0, as in edge detectors), "
                         "so it cannot be scaled to sum to 1.")
    return k / total


# --------------------------------------------------------------------------- 1-D convolution

def convolve1d(signal, kernel, stride: int = 1, padding="valid", dilation: int = 1,
               bias: float = 0.0) -> np.ndarray:
    """Cross-correlate a 1-D signal with a kernel, exactly like keras.layers.Conv1D (one filter).

    signal: length N, or N×C (C channels per time step).
    kernel: length k (same on every channel), or k×C.
    padding: "valid", "same" (ceil(N/s) outputs, extra zero at the end), "causal" ((k-1)·d zeros
             at the start only, so output[t] never sees input after t) or an int p.
    Returns a float32 array of length N'.
    """
    sig = np.asarray(signal, dtype=np.float32)
    ker = np.asarray(kernel, dtype=np.float32)
    if sig.ndim not in (1, 2) or sig.size == 0:
        raise ValueError(f"signal must have shape (N,) or (N, C), got {sig.shape}.")
    if ker.ndim not in (1, 2) or ker.size == 0:
        raise ValueError(f"kernel must have shape (k,) or (k, C), got {ker.shape}.")
    if not np.all(np.isfinite(ker)):
        raise ValueError("kernel values must be finite numbers.")
    stride = check_int("stride", stride, 1)
    dilation = check_int("dilation", dilation, 1)
    _check_padding(padding, allow_causal=True)
    if sig.ndim == 2:
        if ker.ndim == 1:
            sig, ker2 = sig.sum(axis=1, dtype=np.float32), ker
        elif ker.shape[1] != sig.shape[1]:
            raise ValueError(f"kernel has {ker.shape[1]} channels but the signal has {sig.shape[1]}.")
        else:
            ker2 = ker
    else:
        if ker.ndim == 2 and ker.shape[1] != 1:
            raise ValueError(f"kernel has {ker.shape[1]} channels but the signal has 1.")
        ker2 = ker.reshape(-1) if ker.ndim == 2 else ker
    n, k = sig.shape[0], ker2.shape[0]
    m = output_size(n, k, stride, padding, dilation)
    before, after = pad_amounts(n, k, stride, padding, dilation)
    pad_width = ((before, after),) + (((0, 0),) if sig.ndim == 2 else ())
    x = np.pad(sig, pad_width)
    span = (m - 1) * stride + 1
    out = np.zeros(m, dtype=np.float32)
    for i in range(k):
        sl = x[i * dilation:i * dilation + span:stride]
        out += sl @ ker2[i] if sig.ndim == 2 else sl * ker2[i]
    return out + np.float32(bias)


def receptive_field_1d(n: int, k: int, stride: int = 1, padding="valid", dilation: int = 1) -> np.ndarray:
    """Which input indices each output position sees: an (N'×k) int array.

    Row t lists the input index under each kernel tap for output t. Indices < 0 or ≥ n fall
    on padding (zeros). With padding="causal" every index in row t is ≤ t·stride.
    """
    m = output_size(n, k, stride, padding, dilation)
    before, _ = pad_amounts(n, k, stride, padding, dilation)
    return np.arange(m)[:, None] * stride - before + dilation * np.arange(k)[None, :]


# --------------------------------------------------------------------------- beyond Conv2D
#
# Transposed convolution (Conv2DTranspose), 3-D convolution (Conv3D) and depthwise-separable
# convolution (SeparableConv2D), each equal to the Keras layer (tests/test_kernels_more.py).
# They refuse requests whose output or arithmetic would be too big for a lesson page.

MAX_OUTPUT_VALUES = 1 << 24        # numbers in one result (16.8 M float32 = 64 MB)
MAX_MULTIPLY_ADDS = 1 << 31        # multiply-adds in one call (a few seconds of NumPy here)

__all__ += [
    "MAX_OUTPUT_VALUES", "MAX_MULTIPLY_ADDS",
    "conv_transpose2d", "conv_transpose_output_size", "conv_transpose_crop", "checkerboard",
    "stamp_counts", "convolve3d", "output_size3d", "separable_convolve", "separable_param_counts",
]


def _check_budget(out_shape, taps: int, what: str) -> None:
    """ValueError unless a result of out_shape, each value a sum of `taps` products, is affordable."""
    values = math.prod(out_shape)
    if values > MAX_OUTPUT_VALUES:
        raise ValueError(f"The {what} would be {'×'.join(map(str, out_shape))} = {values:,} values; "
                         f"the largest accepted is {MAX_OUTPUT_VALUES:,}. Use a smaller input or stride.")
    if values * taps > MAX_MULTIPLY_ADDS:
        raise ValueError(f"The {what} would need {values * taps:,} multiply-adds; the most accepted "
                         f"is {MAX_MULTIPLY_ADDS:,}. Use a smaller input or kernel.")


def _square_kernel(kernel, dims: int, shapes: str) -> np.ndarray:
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


def _check_transpose_padding(padding) -> str:
    if padding not in ("valid", "same"):
        raise ValueError(f"padding of a transposed convolution must be 'valid' or 'same' (as in "
                         f"Keras's Conv2DTranspose), got {padding!r}.")
    return padding


# --------------------------------------------------------------------------- transposed convolution

def conv_transpose_output_size(n: int, k: int, stride: int = 1, padding="valid", dilation: int = 1) -> int:
    """Length of a transposed convolution's output along one axis, as Keras computes it.

    Each of the n input values stamps the kernel (span eff_k = (k-1)·d + 1) at stride spacing,
    so the stamps cover (n - 1)·s + eff_k pixels. Keras (output_padding=None) then gives
        "valid": (n - 1)·s + max(eff_k, s)   = (n - 1)·s + k when k ≥ s (the usual case); when the
                 stride is longer than the kernel, the last stamp is followed by s - k zeros so
                 every input value owns s output pixels;
        "same":  n · s                        exactly s output pixels per input pixel.
    Both undo the matching Conv2D: convolve() with the same k, s and padding maps this size
    back to n.
    """
    n = check_int("input size", n, 1)
    k = check_int("kernel size", k, 1)
    stride = check_int("stride", stride, 1)
    dilation = check_int("dilation", dilation, 1)
    padding = _check_transpose_padding(padding)
    eff = (k - 1) * dilation + 1
    if padding == "same":
        return n * stride
    return (n - 1) * stride + max(eff, stride)


def conv_transpose_crop(k: int, stride: int = 1, padding="valid", dilation: int = 1) -> int:
    """How many pixels Keras cuts from the top (and left) of the stamped picture.

    "valid": 0 — the output starts at the first stamp's first pixel.
    "same":  max(eff_k - s, 0) // 2 — the same number of zeros Conv2D(padding="same") adds at the
             top of an input of n·s pixels (TensorFlow's rule: the odd extra goes at the bottom),
             because a transposed convolution is the transpose (adjoint) of that Conv2D.
             Then n·s pixels are kept, so the rest is cut at the bottom/right.
    """
    k = check_int("kernel size", k, 1)
    stride = check_int("stride", stride, 1)
    dilation = check_int("dilation", dilation, 1)
    padding = _check_transpose_padding(padding)
    eff = (k - 1) * dilation + 1
    return max(eff - stride, 0) // 2 if padding == "same" else 0


def checkerboard(k: int, stride: int) -> bool:
    """True when a transposed convolution with this kernel size and stride leaves a checkerboard.

    Inside the picture an output pixel is covered by either floor(k/s) or ceil(k/s) kernel stamps,
    depending on where it sits between two input pixels. When k is a multiple of s every pixel gets
    the same number (k/s) and a flat input gives a flat output; otherwise the counts alternate
    along each axis and their product across the two axes makes a checkerboard (dilation 1).
    """
    k = check_int("kernel size", k, 1)
    stride = check_int("stride", stride, 1)
    return k % stride != 0


def _stamp(x: np.ndarray, ker: np.ndarray, stride: int, dilation: int, padding: str) -> np.ndarray:
    """Stamp each value of x (H×W, or H×W×C with ker k×k×C) as a scaled copy of ker; Keras's crop.

    Kernel tap (a, b) of the stamp of input (i, j) lands on output (i·s + a·d - crop, j·s + b·d - crop)
    so the loop runs over the k² taps, each adding one strided, scaled copy of the whole input.
    """
    h, w = x.shape[:2]
    k = ker.shape[0]
    oh = conv_transpose_output_size(h, k, stride, padding, dilation)
    ow = conv_transpose_output_size(w, k, stride, padding, dilation)
    crop = conv_transpose_crop(k, stride, padding, dilation)
    eff = (k - 1) * dilation + 1
    full = np.zeros((max((h - 1) * stride + eff, crop + oh), max((w - 1) * stride + eff, crop + ow)),
                    dtype=x.dtype)
    rows_span = (h - 1) * stride + 1
    cols_span = (w - 1) * stride + 1
    for a in range(k):
        for b in range(k):
            wgt = ker[a, b]
            if not np.any(wgt):
                continue
            r0, c0 = a * dilation, b * dilation
            full[r0:r0 + rows_span:stride, c0:c0 + cols_span:stride] += x * wgt if x.ndim == 2 else x @ wgt
    return full[crop:crop + oh, crop:crop + ow]


def conv_transpose2d(image, kernel, stride: int = 1, padding="valid", bias: float = 0.0, *,
                     dilation: int = 1) -> np.ndarray:
    """Transposed convolution ("deconvolution", up-sampling), exactly like keras.layers.Conv2DTranspose
    with one filter (channels_last, output_padding=None). Returns a float32 H'×W' array.

    The arithmetic, read as stamps: every input pixel x[i, j] places a copy of the kernel scaled by
    x[i, j] on the output, its top-left corner at (i·s, j·s); where stamps overlap they add up. So a
    stride of s spreads the input out s times bigger (the opposite of a strided Conv2D, which
    shrinks by s). The kernel is not flipped in this picture: the stamp is the kernel as written.
    Equivalently it is a full convolution of the zero-stuffed input with the kernel turned 180°,
    and it is the transpose (adjoint) of convolve(): sum(conv_transpose2d(x)·y) = sum(x·convolve(y)).

    Output size (conv_transpose_output_size): "valid" keeps every stamped pixel, (n-1)·s + k
    (plus s - k zeros when s > k); "same" keeps n·s pixels, cutting max(k - s, 0)//2 from the
    top/left (conv_transpose_crop) and the rest from the bottom/right.

    image:  H×W, or H×W×C (the stamps of all channels are summed into one map, as one Keras filter).
    kernel: k×k (the same stamp for every channel) or k×k×C (channel c stamps kernel[..., c]).
            Keras stores this filter as kernel[:, :, None, :] (shape k×k×1×C: out before in).
    padding: "valid" or "same" (Keras accepts nothing else here).
    bias:   one number added to every output pixel (after the stamps, so also on the gaps).
    dilation: spacing between kernel taps (keyword only; Keras allows it with stride 1 only).
    """
    img = _as_image(image)
    ker = _square_kernel(kernel, 2, "k×k or k×k×C")
    stride = check_int("stride", stride, 1)
    dilation = check_int("dilation", dilation, 1)
    padding = _check_transpose_padding(padding)
    bias_arr = np.asarray(bias, dtype=np.float32)
    if bias_arr.ndim != 0:
        raise ValueError("bias must be one number (the transposed convolution has one filter).")
    c = img.shape[2] if img.ndim == 3 else 1
    if ker.ndim == 3 and ker.shape[2] != c:
        raise ValueError(f"kernel has {ker.shape[2]} channels but the image has {c}.")
    k = ker.shape[0]
    out_shape = tuple(conv_transpose_output_size(n, k, stride, padding, dilation) for n in img.shape[:2])
    _check_budget(out_shape, k * k * c, "transposed convolution's output")
    if img.ndim == 3 and ker.ndim == 2:
        # Same stamp for every channel: summing the channels first is identical and C× cheaper.
        img, ker3 = img.sum(axis=2, dtype=np.float32), ker
    elif img.ndim == 2:
        ker3 = ker if ker.ndim == 2 else ker[..., 0]
    else:
        ker3 = ker
    return _stamp(img, ker3, stride, dilation, padding) + bias_arr


def stamp_counts(shape, k: int, stride: int = 1, padding="valid", *, dilation: int = 1) -> np.ndarray:
    """How many kernel stamps cover each output pixel of a transposed convolution (an int array).

    shape: the input's (H, W) (or one int for a square input). The result has the output's shape,
    cropped as Keras crops it, and equals conv_transpose2d(ones(shape), ones((k, k))). On a flat
    input every output pixel is proportional to its count, so uneven counts inside the picture
    are the checkerboard artefact: they happen exactly when k is not a multiple of s
    (checkerboard(k, s)). Near the border counts are lower because fewer stamps reach it.
    """
    h, w = check_int_pair("input size", shape, 1)
    k = check_int("kernel size", k, 1)
    stride = check_int("stride", stride, 1)
    dilation = check_int("dilation", dilation, 1)
    padding = _check_transpose_padding(padding)
    out_shape = tuple(conv_transpose_output_size(n, k, stride, padding, dilation) for n in (h, w))
    _check_budget(out_shape, k * k, "stamp-count map")
    crop = conv_transpose_crop(k, stride, padding, dilation)

    def along(n: int, m: int) -> np.ndarray:
        # Stamp i covers pixels i·s + a·d (a = 0..k-1) before the crop.
        full = np.zeros(max((n - 1) * stride + (k - 1) * dilation + 1, crop + m), dtype=np.int64)
        for a in range(k):
            full[a * dilation:a * dilation + (n - 1) * stride + 1:stride] += 1
        return full[crop:crop + m]

    # The stamps are k×k squares on a grid, so pixel (r, c) is covered by rows(r)·cols(c) of them.
    return np.outer(along(h, out_shape[0]), along(w, out_shape[1]))


# --------------------------------------------------------------------------- 3-D convolution

def output_size3d(shape, k: int, stride: int = 1, padding="valid", dilation: int = 1) -> tuple[int, int, int]:
    """(D', H', W') of convolve3d: output_size() applied to each axis of the volume's (D, H, W).

    Each axis is independent, so the 2-D formulas hold per axis: "valid" floor((n - eff_k)/s) + 1,
    "same" ceil(n/s), int p floor((n + 2p - eff_k)/s) + 1, with eff_k = (k-1)·d + 1.
    """
    if not isinstance(shape, (tuple, list)) or len(shape) != 3:
        raise ValueError(f"shape must be a volume's (D, H, W), got {shape!r}.")
    return tuple(output_size(n, k, stride, padding, dilation) for n in shape)


def convolve3d(volume, kernel, stride: int = 1, padding="valid", dilation: int = 1,
               bias: float = 0.0) -> np.ndarray:
    """Slide a k×k×k kernel through a D×H×W volume, exactly like keras.layers.Conv3D (one channel
    in, one filter out). Returns a float32 D'×H'×W' array.

    The 2-D recipe with one more axis: at each output position the kernel's k³ weights multiply
    the k³ voxels under them (cross-correlation, no flip), the products are summed and the bias
    added. The window moves by `stride` along depth, rows and columns; padding and dilation work
    per axis as in convolve() (output_size3d gives the size). Equivalently, output slice z is the
    sum over kernel depth a of the 2-D convolution of input slice z·s + a·d with kernel[a].

    padding: "valid", "same" (Keras's: ceil(n/s), extra zero after) or an int p on every side.
    """
    vol = np.asarray(volume, dtype=np.float32)
    if vol.ndim != 3 or vol.size == 0:
        raise ValueError(f"the volume must be D×H×W with at least one voxel, got shape {vol.shape}.")
    ker = _square_kernel(kernel, 3, "k×k×k")
    if ker.ndim != 3:
        raise ValueError(f"the kernel must be k×k×k, got shape {ker.shape}.")
    stride = check_int("stride", stride, 1)
    dilation = check_int("dilation", dilation, 1)
    _check_padding(padding)
    bias_arr = np.asarray(bias, dtype=np.float32)
    if bias_arr.ndim != 0:
        raise ValueError("bias must be one number (Conv3D with one filter).")
    k = ker.shape[0]
    out_shape = output_size3d(vol.shape, k, stride, padding, dilation)
    _check_budget(out_shape, k ** 3, "3-D convolution's output")
    pads = [pad_amounts(n, k, stride, padding, dilation) for n in vol.shape]
    if any(p for pair in pads for p in pair):
        vol = np.pad(vol, pads)
    spans = [(m - 1) * stride + 1 for m in out_shape]
    out = np.zeros(out_shape, dtype=np.float32)
    for a in range(k):
        for b in range(k):
            for c in range(k):
                wgt = ker[a, b, c]
                if wgt == 0:
                    continue
                z, y, x = a * dilation, b * dilation, c * dilation
                out += vol[z:z + spans[0]:stride, y:y + spans[1]:stride, x:x + spans[2]:stride] * wgt
    return out + bias_arr


# --------------------------------------------------------------------------- separable convolution

def separable_convolve(image, depthwise_kernel, pointwise, stride: int = 1, padding="valid",
                       dilation: int = 1, bias=0.0) -> np.ndarray:
    """Depthwise-separable convolution, exactly like keras.layers.SeparableConv2D (depth_multiplier=1).
    Returns a float32 H'×W'×F array.

    Two cheap steps instead of one expensive one:
      1. depthwise: each of the C channels is filtered on its own by its own k×k kernel
         (convolve(..., depthwise=True)): H'×W'×C, nothing mixed between channels yet;
      2. pointwise: a 1×1 convolution mixes the channels: output filter f at each pixel is
         sum over c of depthwise[..., c] · pointwise[c, f] (a matrix product per pixel).
    A full Conv2D with F filters would learn k·k·C·F weights; this learns k·k·C + C·F
    (separable_param_counts).

    image:            H×W×C (an H×W image is one channel).
    depthwise_kernel: k×k×C, one k×k filter per channel (Keras stores it as k×k×C×1); a k×k
                      kernel is shared by every channel.
    pointwise:        C×F (Keras stores it as 1×1×C×F).
    stride, padding, dilation: those of the depthwise step, as in convolve() (the 1×1 step
                      has stride 1). Keras accepts "valid" and "same"; an int p pads p zeros.
    bias:             0 (Keras use_bias=False), one number, or F numbers added per filter.
    """
    img = _as_image(image)
    if img.ndim == 2:
        img = img[..., None]
    c = img.shape[2]
    dk = _square_kernel(depthwise_kernel, 2, "k×k×C (one k×k filter per channel)")
    if dk.ndim == 3 and dk.shape[2] != c:
        raise ValueError(f"the depthwise kernel has {dk.shape[2]} channels but the image has {c}.")
    pw = np.asarray(pointwise, dtype=np.float32)
    if pw.ndim != 2 or pw.size == 0:
        raise ValueError(f"the pointwise kernel must be C×F (input channels × filters), got shape {pw.shape}.")
    if pw.shape[0] != c:
        raise ValueError(f"the pointwise kernel has {pw.shape[0]} rows but the image has {c} channels "
                         "(it needs one row per input channel).")
    if not np.all(np.isfinite(pw)):
        raise ValueError("the pointwise kernel must hold finite numbers (no NaN or infinity).")
    f = pw.shape[1]
    bias_arr = np.asarray(bias, dtype=np.float32)
    if bias_arr.ndim > 1 or (bias_arr.ndim == 1 and bias_arr.shape[0] != f):
        raise ValueError(f"bias must be one number or {f} numbers (one per filter).")
    k = dk.shape[0]
    oh, ow = _plan(img, dk, stride, padding, dilation)[2]
    _check_budget((oh, ow, max(c, f)), k * k + f, "separable convolution's output")
    depth = convolve(img, dk, stride, padding, dilation, depthwise=True)
    return depth @ pw + bias_arr


def separable_param_counts(k: int, c: int, f: int, use_bias: bool = True) -> dict:
    """Trainable weights of SeparableConv2D(f, k) on c channels against Conv2D(f, k), by formula.

    separable = k·k·c (depthwise) + c·f (pointwise) [+ f biases]
    conv2d    = k·k·c·f                             [+ f biases]
    Returns {"depthwise", "pointwise", "bias", "separable", "conv2d", "ratio"} where ratio is
    separable / conv2d (≈ 1/f + 1/k² without biases: 3×3 kernels and many filters cost ~1/9).
    """
    k = check_int("kernel size", k, 1)
    c = check_int("input channels", c, 1)
    f = check_int("filters", f, 1)
    b = f if use_bias else 0
    depthwise, pointwise = k * k * c, c * f
    separable = depthwise + pointwise + b
    conv2d = k * k * c * f + b
    return {"depthwise": depthwise, "pointwise": pointwise, "bias": b,
            "separable": separable, "conv2d": conv2d, "ratio": separable / conv2d}
