"""Colours: colour maps as lookup tables, values to RGB, and the fixed colours of the pictures.

Colour maps are anchor tables interpolated to 256 entries (no matplotlib needed).
"""
from __future__ import annotations

import numpy as np

#: The colour of 255 in each channel of the pixel-values grid.
CHANNEL_COLOURS = {"grey": (255, 255, 255), "red": (255, 0, 0), "green": (0, 170, 0),
                   "blue": (0, 90, 255)}
PAD_COLOUR = (96, 112, 150)      # padding cells (their value is 0) on the step-through picture
WINDOW_COLOUR = (255, 140, 0)    # the kernel window / chosen output cell



def is_light(rgb) -> bool:
    """Whether black text reads better than white on this colour (ITU-R 601 luma above 140)."""
    r, g, b = (float(c) for c in rgb[:3])
    return 0.299 * r + 0.587 * g + 0.114 * b > 140


_CMAP_ANCHORS = {
    # matplotlib's viridis at 0, 1/8, ..., 1: for maps that are never negative
    "viridis": [(68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
                (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37)],
    # ColorBrewer RdBu reversed: blue (negative) - white (0) - red (positive)
    "diverging": [(33, 102, 172), (103, 169, 207), (209, 229, 240), (247, 247, 247),
                  (253, 219, 199), (239, 138, 98), (178, 24, 43)],
    # matplotlib's inferno: for heat maps laid over a picture
    "inferno": [(0, 0, 4), (31, 12, 72), (85, 15, 109), (136, 34, 106), (186, 54, 85),
                (227, 89, 51), (249, 140, 10), (249, 201, 50), (252, 255, 164)],
}
_LUTS: dict[str, np.ndarray] = {}

#: Plotly colour scales matching the maps above (for the one map shown large).
PLOTLY_SCALES = {name: [[i / (len(a) - 1), f"rgb{tuple(c)}"] for i, c in enumerate(a)]
                 for name, a in _CMAP_ANCHORS.items()}


def colormap_lut(name: str) -> np.ndarray:
    """256 x 3 uint8 lookup table of a colour map ("viridis", "diverging", "inferno")."""
    if name not in _LUTS:
        anchors = np.asarray(_CMAP_ANCHORS[name], dtype=np.float64)
        pos = np.linspace(0.0, 1.0, len(anchors))
        t = np.linspace(0.0, 1.0, 256)
        _LUTS[name] = np.stack([np.interp(t, pos, anchors[:, k]) for k in range(3)], axis=1
                               ).round().astype(np.uint8)
    return _LUTS[name]


def colorize(values: np.ndarray, cmap: str, lo: float, hi: float) -> np.ndarray:
    """Map values to RGB uint8 with `cmap`, lo -> first colour, hi -> last (clipped)."""
    v = np.asarray(values, dtype=np.float32)
    span = hi - lo
    t = (v - lo) / span if span > 0 else np.full_like(v, 0.5 if cmap == "diverging" else 0.0)
    idx = np.clip(np.rint(t * 255), 0, 255).astype(np.uint8)
    return colormap_lut(cmap)[idx]


def value_range(values: np.ndarray, cmap: str, axis=None) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) for colorize: min/max, or +-max|v| for the diverging map (0 stays white)."""
    v = np.asarray(values, dtype=np.float32)
    if cmap == "diverging":
        m = np.abs(v).max(axis=axis)
        return -m, m
    return v.min(axis=axis), v.max(axis=axis)
