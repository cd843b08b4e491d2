"""Single pictures as NumPy RGB arrays or PIL images: pictures and maps enlarged crisply or fitted
to a size, heat maps laid over a picture, the input with its padding."""
from __future__ import annotations

import functools

import numpy as np

from cnnviz import images
from cnnviz.ui.figures.colours import PAD_COLOUR, colorize, value_range
from cnnviz.ui.figures.encoding import to_png


def rgb8(pixels) -> np.ndarray:
    """A picture in [0, 1] (H×W grey or H×W×3) as H×W×3 uint8 for PIL."""
    rgb = images.to_uint8(pixels)
    return np.repeat(rgb[..., None], 3, axis=2) if rgb.ndim == 2 else rgb


def upscale(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement so small maps stay crisp in the browser."""
    f = max(1, int(factor))
    return np.repeat(np.repeat(rgb, f, axis=0), f, axis=1)


def fit_rgb(rgb: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """Enlarge crisply (integer nearest-neighbour) or shrink smoothly to about `size` px."""
    from PIL import Image

    h, w = rgb.shape[:2]
    if max(h, w) <= size:
        f = max(1, size // max(h, w))
        return upscale(rgb, f), float(f)
    f = size / max(h, w)
    img = Image.fromarray(rgb).resize((max(1, round(w * f)), max(1, round(h * f))),
                                      Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(img).copy(), f


@functools.lru_cache(maxsize=16)
def load_font(size: int):
    """PIL's default font at `size` px (loaded once a size)."""
    from PIL import ImageFont
    return ImageFont.load_default(size=size)


def overlay_heat(base: np.ndarray, heat: np.ndarray, alpha: float = 0.55, size: int = 280,
                 cmap: str = "inferno"):
    """A heat map in [0, 1] laid over a picture (H x W grey or H x W x 3 in [0, 1]); PIL image."""
    from PIL import Image

    b = np.asarray(base, dtype=np.float32)
    if b.ndim == 3 and b.shape[2] == 1:
        b = b[..., 0]
    rgb = np.repeat(b[..., None], 3, axis=2) if b.ndim == 2 else b
    hm = np.asarray(heat, dtype=np.float32)
    if hm.shape != rgb.shape[:2]:
        raise ValueError(f"heat map {hm.shape} and picture {rgb.shape[:2]} differ in size")
    colour = colorize(hm, cmap, 0.0, 1.0).astype(np.float32) / 255.0
    out = (1.0 - alpha) * np.clip(rgb, 0, 1) + alpha * colour
    return Image.fromarray(upscale(np.rint(out * 255).astype(np.uint8), max(1, size // rgb.shape[0])))


def picture_image(pixels: np.ndarray, size: int = 280, cmap: str | None = None, lo=None, hi=None):
    """A picture (H x W or H x W x 1/3, [0, 1]) or a map (with cmap) enlarged crisply; PIL image."""
    from PIL import Image

    p = np.asarray(pixels, dtype=np.float32)
    if p.ndim == 3 and p.shape[2] == 1:
        p = p[..., 0]
    if cmap is not None:
        if lo is None or hi is None:
            lo, hi = value_range(p, cmap)
        rgb = colorize(p, cmap, float(lo), float(hi))
    else:
        rgb = rgb8(p)
    return Image.fromarray(upscale(rgb, max(1, size // max(p.shape[:2]))))


def padded_picture(pixels: np.ndarray, pads, size: int = 360) -> tuple[np.ndarray, float]:
    """The input with its padding drawn slate blue, fitted to about `size` px: (RGB array, scale).

    pads: ((top, bottom), (left, right)). A padded cell (r, c) of the input sits at display
    pixel ((r + top) × scale, (c + left) × scale).
    """
    rgb = rgb8(pixels)
    (pt, pb), (pl, pr) = pads
    h, w = rgb.shape[:2]
    canvas = np.empty((h + pt + pb, w + pl + pr, 3), np.uint8)
    canvas[:] = PAD_COLOUR
    canvas[pt:pt + h, pl:pl + w] = rgb
    return fit_rgb(canvas, size)


def map_picture(values: np.ndarray, size: int = 360) -> tuple[np.ndarray, float]:
    """A feature map in the diverging colours (0 white), fitted to about `size` px: (RGB, scale)."""
    v = np.asarray(values, dtype=np.float32)
    lo, hi = value_range(v, "diverging")
    return fit_rgb(colorize(v, "diverging", float(lo), float(hi)), size)


@functools.lru_cache(maxsize=1)
def app_icon() -> bytes:
    """The browser tab's icon (PNG bytes): a 3 x 3 kernel sliding over a picture, drawn here so
    that no visitor's browser asks a font server for it (a Material icon as page_icon does).
    Bytes, not a PIL image: st.set_page_config runs on every rerun and encoded an image each time."""
    from PIL import Image, ImageDraw

    icon = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    draw.rounded_rectangle((0, 0, 63, 63), radius=12, fill=(38, 39, 48, 255))
    for r in range(3):
        for c in range(3):
            x, y = 8 + c * 17, 8 + r * 17
            colour = (255, 75, 75, 255) if (r, c) == (1, 1) else (250, 250, 250, 255)
            draw.rounded_rectangle((x, y, x + 13, y + 13), radius=3, fill=colour)
    return to_png(icon)
