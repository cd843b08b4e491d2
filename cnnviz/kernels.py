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
