"""How a colour map looks to people with a colour-vision deficiency, and whether its steps stay apart.

`simulate` applies Machado, Oliveira & Fernandes (2009), "A physiologically-based model for
simulation of color vision deficiency" (IEEE TVCG 15(6)), at severity 1 (dichromacy: protanopia,
deuteranopia, tritanopia) in linear sRGB. `delta_e` is the CIE 1976 distance in CIELAB (D65);
about 2.3 is just noticeable, the checks ask for several times that.
"""
from __future__ import annotations

import numpy as np

MACHADO_2009 = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
_SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
_D65 = np.array([0.95047, 1.0, 1.08883])


def _linear(rgb) -> np.ndarray:
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def simulate(rgb, kind: str | None) -> np.ndarray:
    """Linear-light RGB (0..1) of 8-bit sRGB colours `rgb` (... x 3) as seen with `kind`
    (a key of MACHADO_2009), or as they are (None)."""
    linear = _linear(rgb)
    return linear if kind is None else np.clip(linear @ MACHADO_2009[kind].T, 0.0, 1.0)


def lab(linear: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of linear-light RGB."""
    xyz = (linear @ _SRGB_TO_XYZ.T) / _D65
    d = 6 / 29
    f = np.where(xyz > d ** 3, np.cbrt(xyz), xyz / (3 * d * d) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def delta_e(a, b, kind: str | None = None) -> np.ndarray:
    """CIE76 ΔE between 8-bit sRGB colours `a` and `b` as seen with `kind`."""
    return np.linalg.norm(lab(simulate(a, kind)) - lab(simulate(b, kind)), axis=-1)
