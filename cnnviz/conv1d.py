"""1-D convolution of a signal (Conv1D), with valid, same and causal padding. Pure NumPy.
"""
from __future__ import annotations

import numpy as np

from cnnviz.conv_arithmetic import check_int, check_padding, output_size, pad_amounts


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
    check_padding(padding, allow_causal=True)
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
