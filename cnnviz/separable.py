"""Depthwise-separable convolution (SeparableConv2D) and the weights it saves. Pure NumPy, equal to
the Keras layer.
"""
from __future__ import annotations

import numpy as np

from cnnviz import kernels
from cnnviz.conv_arithmetic import check_int
from cnnviz.conv_inputs import as_image, check_budget, square_kernel


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
    img = as_image(image)
    if img.ndim == 2:
        img = img[..., None]
    c = img.shape[2]
    dk = square_kernel(depthwise_kernel, 2, "k×k×C (one k×k filter per channel)")
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
    oh, ow = kernels.plan(img, dk, stride, padding, dilation)[2]
    check_budget((oh, ow, max(c, f)), k * k + f, "separable convolution's output")
    depth = kernels.convolve(img, dk, stride, padding, dilation, depthwise=True)
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
