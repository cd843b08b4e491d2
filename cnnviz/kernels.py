"""Convolution kernels (the presets) and 2-D convolution: the whole map, and one window of it.

Pure NumPy (never TensorFlow), so the lesson pages stay instant. Every function here
matches what Keras computes; tests/test_kernels.py compares it with keras.layers.Conv2D,
DepthwiseConv2D and ZeroPadding2D. The other convolutions have modules of their own: conv1d,
transposed, conv3d, separable; typed kernels are read by kernel_text.

Like Keras (and every deep-learning library) the "convolution" is really a
**cross-correlation**: the kernel is *not* flipped. The kernel's top-left value multiplies the
top-left pixel under the window.

    >>> from cnnviz import kernels
    >>> out = kernels.convolve(img, kernels.PRESETS["sharpen"], stride=2, padding="same")
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.conv_arithmetic import check_int, check_padding, output_size, pad_amounts
from cnnviz.conv_inputs import as_image, finite_grid


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


# --------------------------------------------------------------------------- 2-D convolution

def _as_kernel(kernel) -> np.ndarray:
    return finite_grid(kernel, "the kernel", "k×k or k×k×C")


def plan(img: np.ndarray, ker: np.ndarray, stride, padding, dilation):
    """Check the arguments shared by convolve(), window() and separable.separable_convolve() once.

    Returns (stride, dilation, (out_h, out_w), ((top, bottom), (left, right))): the checked
    stride and dilation, the output size and the zeros padded on each side.
    """
    stride = check_int("stride", stride, 1)
    dilation = check_int("dilation", dilation, 1)
    padding = check_padding(padding)
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
    img = as_image(image)
    ker = _as_kernel(kernel)
    stride, dilation, out_hw, pads = plan(img, ker, stride, padding, dilation)
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
    img = as_image(image)
    ker = _as_kernel(kernel)
    stride, dilation, (oh, ow), ((pt, _), (pl, _)) = plan(img, ker, stride, padding, dilation)
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
