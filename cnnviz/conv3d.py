"""3-D convolution (Conv3D) of a volume, such as frames of a video. Pure NumPy, equal to the Keras layer.
"""
from __future__ import annotations

import numpy as np

from cnnviz.conv_arithmetic import check_int, check_padding, output_size, pad_amounts
from cnnviz.conv_inputs import check_budget, square_kernel


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
    ker = square_kernel(kernel, 3, "k×k×k")
    if ker.ndim != 3:
        raise ValueError(f"the kernel must be k×k×k, got shape {ker.shape}.")
    stride = check_int("stride", stride, 1)
    dilation = check_int("dilation", dilation, 1)
    check_padding(padding)
    bias_arr = np.asarray(bias, dtype=np.float32)
    if bias_arr.ndim != 0:
        raise ValueError("bias must be one number (Conv3D with one filter).")
    k = ker.shape[0]
    out_shape = output_size3d(vol.shape, k, stride, padding, dilation)
    check_budget(out_shape, k ** 3, "3-D convolution's output")
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
