"""Pixel geometry shared by the attribution methods (NumPy only, no TensorFlow kernels).

resize_bilinear and receptive_field_grid place a layer's coarse map on the input picture
(Grad-CAM); gaussian_kernel and gaussian_blur make the blurred baseline of integrated
gradients and the smoothing step of feature visualisation.
"""
from __future__ import annotations

import numpy as np

from cnnviz import conv_arithmetic


def _interp_axis(src: np.ndarray, n_in: int):
    src = np.clip(src, 0, n_in - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, (src - lo).astype(np.float32)


def _bilinear(a: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Sample a 2-D map at fractional (row, col) positions (clamped at the edges)."""
    a = np.asarray(a, dtype=np.float32)
    r0, r1, fr = _interp_axis(rows, a.shape[0])
    c0, c1, fc = _interp_axis(cols, a.shape[1])
    top = a[r0][:, c0] * (1 - fc) + a[r0][:, c1] * fc
    bottom = a[r1][:, c0] * (1 - fc) + a[r1][:, c1] * fc
    return (top * (1 - fr[:, None]) + bottom * fr[:, None]).astype(np.float32)


def resize_bilinear(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a 2-D map, as tf.image.resize(method="bilinear") does (half-pixel
    centres, no antialiasing); NumPy, so it needs no TensorFlow kernel."""
    a = np.asarray(a, dtype=np.float32)
    h, w = int(size[0]), int(size[1])
    rows = (np.arange(h, dtype=np.float64) + 0.5) * (a.shape[0] / h) - 0.5
    cols = (np.arange(w, dtype=np.float64) + 0.5) * (a.shape[1] / w) - 0.5
    return _bilinear(a, rows, cols)


def receptive_field_grid(model, layer_name: str) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where the positions of a layer's maps sit on the input: ((row0, col0), (step_r, step_c)).

    Position (i, j) of the layer's output is centred on input pixel
    (row0 + i * step_r, col0 + j * step_c) (receptive-field arithmetic through every conv and
    pooling layer: each adds (k_eff - 1) / 2 - padding_before steps and multiplies the step by
    its stride). None when a layer on the way is not one whose geometry is known.
    """
    from cnnviz import probe

    p = probe.get_probe(model)
    start, jump = [0.0, 0.0], [1.0, 1.0]
    for spec in p.path(layer_name)[1:]:         # after the input layer
        if len(spec.output_shape) != 3:
            return None
        info = spec.info
        if spec.kind == "conv" and len(info.get("kernel_size", ())) == 2:
            size, strides = info["kernel_size"], info["strides"]
            dilation = info.get("dilation") or (1, 1)
        elif spec.kind == "pool" and len(info.get("pool_size", ())) == 2:
            size, strides, dilation = info["pool_size"], info["strides"] or info["pool_size"], (1, 1)
        elif spec.kind in ("batchnorm", "activation", "dropout"):
            continue
        else:
            return None
        n_in = p.spec(spec.input_name).output_shape[:2]
        for ax in range(2):
            k_eff = dilation[ax] * (size[ax] - 1) + 1
            same = info.get("padding") == "same"
            pad = conv_arithmetic.pad_amounts(n_in[ax], k_eff, strides[ax], "same")[0] if same else 0
            start[ax] += ((k_eff - 1) / 2 - pad) * jump[ax]
            jump[ax] *= strides[ax]
    return (start[0], start[1]), (jump[0], jump[1])


def gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalised 1-D Gaussian, cut at 3 sigma (radius ceil(3 sigma), at least 1)."""
    sigma = float(sigma)
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}.")
    radius = max(1, int(np.ceil(3.0 * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of an H x W or H x W x C image over its two spatial axes (channels apart),
    separable, edges mirrored (numpy.pad "reflect"); float32 out, same shape."""
    a = np.asarray(img, dtype=np.float32)
    k = gaussian_kernel(sigma).astype(np.float64)
    r = len(k) // 2
    out = a.astype(np.float64)
    for axis in (0, 1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (r, r)
        padded = np.pad(out, pad, mode="reflect") if out.shape[axis] > 1 else np.pad(out, pad, mode="edge")
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for i, w in enumerate(k):
            acc += w * np.take(padded, np.arange(i, i + n), axis=axis)
        out = acc
    return out.astype(np.float32)
