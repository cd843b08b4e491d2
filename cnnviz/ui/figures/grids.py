"""Pictures made of many cells or tiles: every channel of a layer as one mosaic, first-layer colour
filters, and a small grid of pixel values with their numbers written in."""
from __future__ import annotations

import functools

import numpy as np

from cnnviz.ui.figures.colours import CHANNEL_COLOURS, colorize, is_light, value_range
from cnnviz.ui.figures.pictures import load_font, upscale


def pixel_values_image(values: np.ndarray, top: int = 0, left: int = 0, channel: str = "grey",
                       size: int = 460):
    """A small grid of 0..255 pixel values as ONE picture: each cell shaded from black to the
    channel's colour with its number written in it, and the picture's own row and column
    numbers along the edges. A picture, not a chart: it costs a page nothing to show.

    values: H x W integers 0..255 (one channel). top/left: where the grid sits in the picture.
    channel: "grey", "red", "green" or "blue" (the colour of 255).
    """
    from PIL import Image, ImageDraw

    v = np.asarray(values)
    if v.ndim != 2:
        raise ValueError(f"pixel_values_image needs one channel (H x W), got shape {v.shape}")
    n_rows, n_cols = v.shape
    margin = 30
    cell = max(16, (size - margin) // max(n_rows, n_cols))
    img = Image.new("RGB", (margin + n_cols * cell + 1, margin + n_rows * cell + 1), "white")
    draw = ImageDraw.Draw(img)
    font, label_font = load_font(int(np.clip(cell * 0.36, 9, 18))), load_font(12)
    full = np.asarray(CHANNEL_COLOURS[channel], dtype=np.float64)
    for r in range(n_rows):
        y = margin + r * cell
        draw.text((margin - 5, y + cell / 2), str(top + r), fill=(90, 90, 90), font=label_font, anchor="rm")
        for c in range(n_cols):
            x = margin + c * cell
            value = int(v[r, c])
            fill = tuple(int(round(k)) for k in full * value / 255)
            draw.rectangle((x + 1, y + 1, x + cell - 1, y + cell - 1), fill=fill)
            draw.text((x + cell / 2, y + cell / 2), str(value), fill="black" if is_light(fill) else "white",
                      font=font, anchor="mm")
    for c in range(n_cols):
        draw.text((margin + c * cell + cell / 2, margin - 5), str(left + c), fill=(90, 90, 90),
                  font=label_font, anchor="mb")
    return img


def mosaic_layout(n: int, cols: int | None = None) -> tuple[int, int]:
    """(rows, cols) of the grid that shows n tiles: up to 8 in a row, up to 64 as 8 columns."""
    if n < 1:
        raise ValueError("a mosaic needs at least one map")
    cols = cols or (min(n, 8) if n <= 64 else int(np.ceil(np.sqrt(n * 2))))
    cols = max(1, min(cols, n))
    return int(np.ceil(n / cols)), cols


@functools.lru_cache(maxsize=512)
def _tile_label(k: int, size: int):
    """The number k, white with a black outline, as a small RGBA image (drawn once)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=size)
    x0, y0, x1, y1 = font.getbbox(str(k), stroke_width=2)
    img = Image.new("RGBA", (x1 + 2, y1 + 2), (0, 0, 0, 0))
    ImageDraw.Draw(img).text((1, 1), str(k), fill=(255, 255, 255, 255), font=font,
                             stroke_width=2, stroke_fill=(0, 0, 0, 255))
    return img


def mosaic(maps: np.ndarray, scale: str = "layer", cmap: str = "auto", cols: int | None = None,
           width: int = 760, gap: int = 3, labels: bool | str = True, highlight: int | None = None,
           max_tile: int = 160):
    """All channels of an H x W x C array as ONE PIL image: a grid of colour-mapped tiles.

    scale: "layer" (one colour scale for every map, so maps can be compared) or "map"
    (each map stretched to its own min..max, so faint maps show their pattern).
    cmap: "viridis", "diverging" (blue < 0 < red, zero is white) or "auto" (diverging when
    any value is negative). labels: the channel number in each tile's corner (True, when
    tiles are big enough), "above" each tile (for tiny tiles such as 3 x 3 kernels) or False.
    highlight: a channel drawn with an orange frame.
    """
    from PIL import Image, ImageDraw

    m = np.asarray(maps, dtype=np.float32)
    if m.ndim == 2:
        m = m[..., None]
    if m.ndim != 3:
        raise ValueError(f"mosaic needs an H x W x C array, got shape {m.shape}")
    if scale not in ("layer", "map"):
        raise ValueError(f"scale must be 'layer' or 'map', got {scale!r}")
    h, w, c = m.shape
    if cmap == "auto":
        cmap = "diverging" if float(m.min()) < 0 else "viridis"
    rows, cols = mosaic_layout(c, cols)
    factor = int(np.clip((width - gap * (cols + 1)) // (cols * w), 1, max(1, max_tile // max(h, w))))
    if scale == "layer":
        lo, hi = value_range(m, cmap)
        lo = np.full(c, lo, np.float32)
        hi = np.full(c, hi, np.float32)
    else:
        lo, hi = value_range(m.reshape(-1, c), cmap, axis=0)
    th, tw = h * factor, w * factor
    font_size = int(np.clip(th // 5, 10, 16)) if labels != "above" else int(np.clip(tw // 3, 10, 14))
    above = font_size + 3 if labels == "above" else 0
    inside = labels is True and th >= 36
    canvas = np.full((rows * (th + above) + (rows + 1) * gap, cols * tw + (cols + 1) * gap, 3), 255,
                     np.uint8)

    def corner(k):
        r, q = divmod(k, cols)
        return gap + r * (th + gap + above) + above, gap + q * (tw + gap)

    for k in range(c):
        y, x = corner(k)
        canvas[y:y + th, x:x + tw] = upscale(colorize(m[..., k], cmap, float(lo[k]), float(hi[k])), factor)
    img = Image.fromarray(canvas)
    if inside or above or highlight is not None:
        draw = ImageDraw.Draw(img)
        for k in range(c):
            y, x = corner(k)
            if inside:
                label = _tile_label(k, font_size)
                img.paste(label, (x + 1, y), label)
            elif above:
                draw.text((x, y - above), str(k), fill=(60, 60, 60), font=load_font(font_size))
            if k == highlight:
                draw.rectangle((x - gap + 1, y - gap + 1, x + tw + gap - 2, y + th + gap - 2),
                               outline=(255, 140, 0), width=max(2, gap))
    return img


def rgb_filter_mosaic(kernel: np.ndarray, width: int = 560, gap: int = 3,
                      highlight: int | None = None):
    """First-layer colour filters (kh x kw x 3 x n) as n small colour pictures: grey = 0,
    each filter scaled by its own largest |weight| (so a filter's colour shows what it seeks)."""
    from PIL import Image, ImageDraw

    k = np.asarray(kernel, dtype=np.float32)
    if k.ndim != 4 or k.shape[2] != 3:
        raise ValueError(f"expected a kh x kw x 3 x n kernel, got shape {k.shape}")
    kh, kw, _, n = k.shape
    rows, cols = mosaic_layout(n)
    f = max(1, (width - gap * (cols + 1)) // (cols * kw))
    th, tw = kh * f, kw * f
    canvas = np.full((rows * th + (rows + 1) * gap, cols * tw + (cols + 1) * gap, 3), 255, np.uint8)
    m = np.abs(k).max(axis=(0, 1, 2))
    for i in range(n):
        r, q = divmod(i, cols)
        y, x = gap + r * (th + gap), gap + q * (tw + gap)
        tile = 0.5 + 0.5 * k[..., i] / (m[i] if m[i] > 0 else 1.0)
        canvas[y:y + th, x:x + tw] = upscale(np.rint(np.clip(tile, 0, 1) * 255).astype(np.uint8), f)
    img = Image.fromarray(canvas)
    if highlight is not None and 0 <= highlight < n:
        r, q = divmod(highlight, cols)
        y, x = gap + r * (th + gap), gap + q * (tw + gap)
        ImageDraw.Draw(img).rectangle((x - gap + 1, y - gap + 1, x + tw + gap - 2, y + th + gap - 2),
                                      outline=(255, 140, 0), width=max(2, gap))
    return img
