"""Pictures with marks drawn on them: a crop box, max-pool winners and a pooling window, the
kernel's receptive field on the padded input, and the chosen cell on a feature map."""
from __future__ import annotations

import numpy as np

from cnnviz.ui.figures.colours import WINDOW_COLOUR, colorize
from cnnviz.ui.figures.pictures import map_picture, padded_picture, rgb8, upscale


def crop_box_image(pixels: np.ndarray, top: int, left: int, height: int, width: int,
                   size: int = 320, colour=(255, 140, 0)):
    """A picture (H x W or H x W x 3 in [0, 1]) about `size` px across with a box round a crop.

    Small pictures are enlarged without smoothing, so their pixels show as squares.
    """
    from PIL import Image, ImageDraw

    rgb = rgb8(pixels)
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    img = Image.fromarray(rgb)
    if scale >= 1:
        scale = max(1, int(scale))
        img = img.resize((w * scale, h * scale), Image.Resampling.NEAREST)
    else:
        img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    line = max(2, round(size / 120))
    draw = ImageDraw.Draw(img)
    x0, y0 = left * scale, top * scale
    x1, y1 = (left + width) * scale - 1, (top + height) * scale - 1
    draw.rectangle((x0 - line // 2, y0 - line // 2, x1 + line // 2, y1 + line // 2),
                   outline=colour, width=line)
    return img


def _outline(img: np.ndarray, top: int, left: int, bottom: int, right: int, colour, t: int) -> None:
    """Draw a rectangle outline (inclusive pixel bounds, thickness t) into an RGB array in place."""
    img[top:top + t, left:right + 1] = colour
    img[max(bottom - t + 1, top):bottom + 1, left:right + 1] = colour
    img[top:bottom + 1, left:left + t] = colour
    img[top:bottom + 1, max(right - t + 1, left):right + 1] = colour


def pooling_image(values, lo: float, hi: float, cmap: str = "diverging", size: int = 420,
                  winners: np.ndarray | None = None, box: tuple[int, int, int, int] | None = None):
    """A map enlarged to about `size` px with max-pool winners dotted (white) and one
    rectangle outlined (black and white); PIL image.

    winners: ...×2 array of (row, col) cells; box: (top, left, bottom, right) cells, inclusive.
    """
    from PIL import Image

    v = np.asarray(values, dtype=np.float32)
    s = max(1, size // max(v.shape[:2]))
    img = upscale(colorize(v, cmap, lo, hi), s)
    if winners is not None and np.size(winners):   # white dots ringed in black: visible on any map
        won = np.zeros(v.shape[:2], dtype=bool)
        won[winners[..., 0].ravel(), winners[..., 1].ravel()] = True
        for dot, colour in ((max(s // 3, 1) + 2, (0, 0, 0)), (max(s // 3, 1), (255, 255, 255))):
            dot = min(dot, s)
            cell = np.zeros((s, s), dtype=bool)
            cell[(s - dot) // 2:(s - dot) // 2 + dot, (s - dot) // 2:(s - dot) // 2 + dot] = True
            img[np.kron(won, cell)] = colour
    if box is not None:   # black frame with a white inner line: visible on any colour map
        top, left, bottom, right = box
        t = max(2, s // 5)
        y0, x0, y1, x1 = top * s, left * s, (bottom + 1) * s - 1, (right + 1) * s - 1
        _outline(img, y0, x0, y1, x1, (0, 0, 0), t)
        _outline(img, y0 + t, x0 + t, y1 - t, x1 - t, (255, 255, 255), max(1, t // 2))
    return Image.fromarray(img)


def _tint_cells(img: np.ndarray, cells, f: float, colour, fill: float = 0.45) -> None:
    """Tint each (row, col) cell (display scale f) with `colour`, in place."""
    c = np.asarray(colour, dtype=np.float32)
    for r, q in cells:
        y0, x0 = int(r * f), int(q * f)
        y1, x1 = max(int((r + 1) * f), y0 + 1), max(int((q + 1) * f), x0 + 1)
        block = img[y0:y1, x0:x1].astype(np.float32)
        img[y0:y1, x0:x1] = np.rint((1 - fill) * block + fill * c).astype(np.uint8)


def _frame(img: np.ndarray, top: float, left: float, bottom: float, right: float, colour, t: int) -> None:
    """Outline the cells [top, bottom) × [left, right) (display pixels) with a t-px frame, in place,
    at least 2t+2 px across so it stays visible on shrunken pictures."""
    h, w = img.shape[:2]
    cy, cx = (top + bottom) / 2, (left + right) / 2
    half_h, half_w = max((bottom - top) / 2, t + 1), max((right - left) / 2, t + 1)
    y0, y1 = int(max(0, round(cy - half_h) - t // 2)), int(min(h - 1, round(cy + half_h) - 1 + t // 2))
    x0, x1 = int(max(0, round(cx - half_w) - t // 2)), int(min(w - 1, round(cx + half_w) - 1 + t // 2))
    img[y0:y0 + t, x0:x1 + 1] = colour
    img[max(y1 - t + 1, y0):y1 + 1, x0:x1 + 1] = colour
    img[y0:y1 + 1, x0:x0 + t] = colour
    img[y0:y1 + 1, max(x1 - t + 1, x0):x1 + 1] = colour


def receptive_field_image(pixels: np.ndarray, rows, cols, pads, size: int = 360, base=None):
    """The input with its padding (slate blue, value 0) and the kernel's taps tinted orange.

    pixels: H×W or H×W×3 in [0, 1]. rows/cols: input coordinates of the taps (may be in the
    padding). pads: ((top, bottom), (left, right)). base: padded_picture(pixels, pads, size),
    when already made. Returns (PIL image, scale).
    """
    from PIL import Image

    canvas, f = base if base is not None else padded_picture(pixels, pads, size)
    img = canvas.copy()
    rows = np.asarray(rows) + pads[0][0]
    cols = np.asarray(cols) + pads[1][0]
    _tint_cells(img, [(r, q) for r in rows for q in cols], f, WINDOW_COLOUR)
    _frame(img, rows.min() * f, cols.min() * f, (rows.max() + 1) * f, (cols.max() + 1) * f,
           WINDOW_COLOUR, max(2, round(size / 150)))
    return Image.fromarray(img), f


def marked_map_image(values: np.ndarray, row: int, col: int, size: int = 360, base=None):
    """A feature map in the diverging colours with one cell outlined; (PIL image, scale).

    base: map_picture(values, size), when already made."""
    from PIL import Image

    canvas, f = base if base is not None else map_picture(values, size)
    img = canvas.copy()
    t = max(2, round(size / 150))
    _frame(img, row * f - t, col * f - t, (row + 1) * f + t, (col + 1) * f + t, (0, 0, 0), t)
    return Image.fromarray(img), f
