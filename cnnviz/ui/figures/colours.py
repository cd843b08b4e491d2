"""Colours: colour maps as lookup tables, values to RGB, and the fixed colours of the pictures.

Colour maps are anchor tables interpolated to 256 entries (no matplotlib needed).

Pages ask for a map by its role ("viridis": never negative, "diverging": signed, 0 white,
"inferno": a heat map over a picture); the palette scheme the visitor chose (SCHEMES, set with
`follow_scheme`, see cnnviz/ui/palette.py) says which anchors draw it. "colour-blind" draws the
two sequential roles with cividis, which protanopes and deuteranopes see almost as everyone does,
and the signed role with a blue-orange map whose negative side is darker than its positive side,
so the sign survives even without hue (tests/test_colour_vision.py).
"""
from __future__ import annotations

from collections.abc import Callable

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
    # matplotlib's cividis (Nuñez et al. 2018, made for colour-vision deficiency), 10 steps
    "cividis": [(0, 34, 78), (18, 53, 112), (59, 73, 108), (87, 93, 109), (112, 113, 115),
                (138, 134, 120), (165, 156, 116), (195, 179, 105), (225, 204, 85), (254, 232, 56)],
    # dark blue (negative) - white (0) - orange (positive); the blue side darkens faster
    "blue-orange": [(0, 45, 100), (20, 100, 170), (150, 195, 225), (247, 247, 247),
                    (254, 224, 170), (250, 170, 60), (215, 100, 0)],
}
_LUTS: dict[str, np.ndarray] = {}

#: The anchors that draw each map role, per palette scheme.
SCHEMES = {
    "standard": {"viridis": "viridis", "diverging": "diverging", "inferno": "inferno"},
    "colour-blind": {"viridis": "cividis", "diverging": "blue-orange", "inferno": "cividis"},
}
DEFAULT_SCHEME = "standard"


def _default_scheme() -> str:
    return DEFAULT_SCHEME


_scheme_source: Callable[[], str] = _default_scheme


def follow_scheme(source: Callable[[], str]) -> None:
    """Draw maps in the scheme `source()` names at the time of drawing (the visitor's choice)."""
    global _scheme_source
    _scheme_source = source


def palette(name: str) -> str:
    """The anchors that draw the map role `name` in the scheme in use (other names: themselves)."""
    return SCHEMES.get(_scheme_source(), SCHEMES[DEFAULT_SCHEME]).get(name, name)


_SIGN_COLOURS = {"diverging": ("blue", "red"), "blue-orange": ("blue", "orange")}


def sign_colours() -> tuple[str, str]:
    """The words for the negative and the positive end of the signed map in use, for captions."""
    return _SIGN_COLOURS[palette("diverging")]


def plotly_scale(name: str) -> list:
    """The Plotly colour scale of the map role `name` (for the one map shown large)."""
    anchors = _CMAP_ANCHORS[palette(name)]
    return [[i / (len(anchors) - 1), f"rgb{tuple(c)}"] for i, c in enumerate(anchors)]


def colormap_lut(name: str) -> np.ndarray:
    """256 x 3 uint8 lookup table of a colour map role ("viridis", "diverging", "inferno") in the
    scheme in use, or of named anchors ("cividis", "blue-orange")."""
    name = palette(name)
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
