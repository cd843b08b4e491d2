"""Transposed convolution (Conv2DTranspose): output size, Keras's crop, stamps and the checkerboard.

Pure NumPy, equal to the Keras layer (tests/test_kernels_more.py).
"""
from __future__ import annotations

import numpy as np

from cnnviz.conv_arithmetic import check_int, check_int_pair
from cnnviz.conv_inputs import as_image, check_budget, square_kernel


def _check_transpose_padding(padding) -> str:
    if padding not in ("valid", "same"):
        raise ValueError(f"padding of a transposed convolution must be 'valid' or 'same' (as in "
                         f"Keras's Conv2DTranspose), got {padding!r}.")
    return padding


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
    img = as_image(image)
    ker = square_kernel(kernel, 2, "k×k or k×k×C")
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
    check_budget(out_shape, k * k * c, "transposed convolution's output")
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
    check_budget(out_shape, k * k, "stamp-count map")
    crop = conv_transpose_crop(k, stride, padding, dilation)

    def along(n: int, m: int) -> np.ndarray:
        # Stamp i covers pixels i·s + a·d (a = 0..k-1) before the crop.
        full = np.zeros(max((n - 1) * stride + (k - 1) * dilation + 1, crop + m), dtype=np.int64)
        for a in range(k):
            full[a * dilation:a * dilation + (n - 1) * stride + 1:stride] += 1
        return full[crop:crop + m]

    # The stamps are k×k squares on a grid, so pixel (r, c) is covered by rows(r)·cols(c) of them.
    return np.outer(along(h, out_shape[0]), along(w, out_shape[1]))
