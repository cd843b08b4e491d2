"""Pure figure builders: arrays in, Plotly figures or PIL images out (no Streamlit; testable).

Shared by the pages; add functions, do not rewrite others' ones.
"""
from __future__ import annotations

import functools

import numpy as np

from cnnviz import images
from cnnviz.ui import formats


# --------------------------------------------------------------------------- home: pixels as numbers

CHANNEL_COLOURS = {"grey": (255, 255, 255), "red": (255, 0, 0), "green": (0, 170, 0),
                   "blue": (0, 90, 255)}


def rgb8(pixels) -> np.ndarray:
    """A picture in [0, 1] (H×W grey or H×W×3) as H×W×3 uint8 for PIL."""
    rgb = images.to_uint8(pixels)
    return np.repeat(rgb[..., None], 3, axis=2) if rgb.ndim == 2 else rgb

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
    font, label_font = _font(int(np.clip(cell * 0.36, 9, 18))), _font(12)
    full = np.asarray(CHANNEL_COLOURS[channel], dtype=np.float64)
    for r in range(n_rows):
        y = margin + r * cell
        draw.text((margin - 5, y + cell / 2), str(top + r), fill=(90, 90, 90), font=label_font, anchor="rm")
        for c in range(n_cols):
            x = margin + c * cell
            value = int(v[r, c])
            fill = tuple(int(round(k)) for k in full * value / 255)
            draw.rectangle((x + 1, y + 1, x + cell - 1, y + cell - 1), fill=fill)
            light = 0.299 * fill[0] + 0.587 * fill[1] + 0.114 * fill[2] > 140
            draw.text((x + cell / 2, y + cell / 2), str(value), fill="black" if light else "white",
                      font=font, anchor="mm")
    for c in range(n_cols):
        draw.text((margin + c * cell + cell / 2, margin - 5), str(left + c), fill=(90, 90, 90),
                  font=label_font, anchor="mb")
    return img


# --------------------------------------------------------------------------- network explorer
# Colour maps as anchor tables (interpolated): arrays in, uint8 RGB out. No matplotlib needed.

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


def upscale(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement so small maps stay crisp in the browser."""
    f = max(1, int(factor))
    return np.repeat(np.repeat(rgb, f, axis=0), f, axis=1)


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
                draw.text((x, y - above), str(k), fill=(60, 60, 60), font=_font(font_size))
            if k == highlight:
                draw.rectangle((x - gap + 1, y - gap + 1, x + tw + gap - 2, y + th + gap - 2),
                               outline=(255, 140, 0), width=max(2, gap))
    return img


@functools.lru_cache(maxsize=16)
def _font(size: int):
    from PIL import ImageFont
    return ImageFont.load_default(size=size)


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


def map_heatmap(values: np.ndarray, title: str = "", cmap: str = "auto", zmin=None, zmax=None,
                height: int = 420, marks: np.ndarray | None = None, text: bool | None = None,
                grid: tuple[int, int] | None = None):
    """One 2-D map as a Plotly heatmap with row/column/value on hover (image orientation).

    marks: optional N x 2 (row, col) positions drawn as rings (e.g. max-pool winners).
    grid: (rows, cols) step of thin white lines between windows (e.g. the pooling windows).
    text: write each value in its cell (default: when the map has at most 10 x 10 cells).
    Built from plain dicts without Plotly's validation (tests validate it once).
    """
    v = np.asarray(values, dtype=np.float32)
    if cmap == "auto":
        cmap = "diverging" if float(v.min()) < 0 else "viridis"
    if zmin is None or zmax is None:
        lo, hi = value_range(v, cmap)
        zmin, zmax = float(lo), float(hi)
    if zmax <= zmin:
        zmax = zmin + 1e-6
    show_text = (v.shape[0] <= 10 and v.shape[1] <= 10) if text is None else text
    heat = {"type": "heatmap", "z": v.tolist(), "colorscale": PLOTLY_SCALES[cmap],
            "zmin": float(zmin), "zmax": float(zmax), "colorbar": {"thickness": 14},
            "hovertemplate": "row %{y}, column %{x}<br>value %{z:.4f}<extra></extra>"}
    if show_text:
        heat.update(text=[[f"{a:.2f}" for a in row] for row in v.tolist()], texttemplate="%{text}")
    data = [heat]
    if marks is not None and len(marks):
        mk = np.asarray(marks)
        data.append({"type": "scatter", "x": mk[:, 1].tolist(), "y": mk[:, 0].tolist(),
                     "mode": "markers", "hoverinfo": "skip", "showlegend": False,
                     "marker": {"symbol": "circle-open", "size": max(6, 240 // max(v.shape)),
                                "color": "#ff8c00", "line": {"width": 2}}})
    if grid is not None:
        h, w = v.shape
        xs, ys = [], []
        for r in range(grid[0], h, grid[0]):
            xs += [-0.5, w - 0.5, None]
            ys += [r - 0.5, r - 0.5, None]
        for c in range(grid[1], w, grid[1]):
            xs += [c - 0.5, c - 0.5, None]
            ys += [-0.5, h - 0.5, None]
        data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "hoverinfo": "skip",
                     "showlegend": False, "line": {"color": "rgba(255,255,255,0.6)", "width": 1}})
    layout = {"title": {"text": title, "font": {"size": 16}}, "height": height,
              "margin": {"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
              "yaxis": {"autorange": "reversed", "scaleanchor": "x", "constrain": "domain",
                        "showgrid": False, "zeroline": False},
              "xaxis": {"constrain": "domain", "showgrid": False, "zeroline": False}}
    if max(v.shape) <= 10:
        layout["xaxis"]["dtick"] = layout["yaxis"]["dtick"] = 1
    return _unvalidated_figure(data, layout)


def vector_bars(values: np.ndarray, title: str = "", labels=None, highlight: int | None = None,
                height: int = 300, hover: str = "unit %{x}<br>value %{y:.4f}<extra></extra>",
                customdata=None, color: str = "#4c78a8"):
    """A vector (flatten / dense output, probabilities) as a Plotly bar chart (unvalidated dicts)."""
    v = np.asarray(values, dtype=np.float32).reshape(-1)
    colors = [color] * v.size
    if highlight is not None and 0 <= highlight < v.size:
        colors[highlight] = "#ff8c00"
    bar = {"type": "bar", "x": list(labels) if labels is not None else list(range(v.size)),
           "y": v.tolist(), "marker": {"color": colors, "line": {"width": 0}},
           "hovertemplate": hover}
    if customdata is not None:
        bar["customdata"] = np.asarray(customdata).tolist()
    layout = {"title": {"text": title, "font": {"size": 16}}, "height": height, "bargap": 0.1,
              "margin": {"l": 10, "r": 10, "t": 40 if title else 10, "b": 10}}
    if labels is not None:
        layout["xaxis"] = {"type": "category"}
    return _unvalidated_figure([bar], layout)


def to_png(img, level: int = 1) -> bytes:
    """PNG bytes of a PIL image with light compression (st.image otherwise spends ~20 ms a
    mosaic compressing harder)."""
    import io

    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=level)
    return buf.getvalue()


# --------------------------------------------------------------------------- lessons: activations, pooling, Conv1D
# Curves and signals as Plotly figures; pooled maps as one enlarged PIL image each.
# The Plotly builders assemble plain dicts and skip Plotly's per-property validation (it cost
# ~40 ms a chart here); tests/ui/test_lesson_pages.py validates them once with go.Figure(spec).

def _unvalidated_figure(data: list, layout: dict):
    import plotly.graph_objects as go

    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _line(x, y, name: str, colour, width: float = 2.0, dash: str | None = None, **extra) -> dict:
    trace = {"type": "scatter", "mode": "lines", "x": np.asarray(x), "y": np.asarray(y), "name": name,
             "line": {"color": colour, "width": width, **({"dash": dash} if dash else {})}}
    trace.update(extra)
    return trace


def activation_figure(x, curves, x0: float | None = None, height: int = 430):
    """f (solid) and its slope f' (dashed) for several activations on one Plotly chart.

    curves: list of dicts with label, colour, f (values), df (values or None) and optional
    saturated (bool mask where |f'| is tiny, drawn as a thick translucent band over f) and
    extra: [(label, values, dash)] drawn in black (e.g. sigmoid laid over softplus').
    x0: a dotted vertical line at this x.
    """
    data = []
    for c in curves:
        colour, name = c["colour"], c["label"]
        data.append(_line(x, c["f"], name, colour, 2.5, legendgroup=name))
        if c.get("df") is not None:
            data.append(_line(x, c["df"], name + "′ (slope)", colour, 1.8, "dash", legendgroup=name))
        sat = c.get("saturated")
        if sat is not None and np.any(sat):
            data.append(_line(x, np.where(sat, c["f"], np.nan), name + ": saturated", colour, 12,
                              legendgroup=name, hoverinfo="skip", opacity=0.25))
        for label, values, dash in c.get("extra", ()):
            data.append(_line(x, values, label, "black", 2, dash, legendgroup=name))
    shapes = []
    if x0 is not None:
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x0, "x1": x0, "y0": 0, "y1": 1,
                       "line": {"color": "grey", "width": 1, "dash": "dot"}})
    layout = {"height": height, "margin": {"l": 10, "r": 10, "t": 20, "b": 10}, "hovermode": "x unified",
              "shapes": shapes,
              "xaxis": {"title": {"text": "x (the value going into the activation)"},
                        "zeroline": True, "zerolinecolor": "#999"},
              "yaxis": {"title": {"text": "f(x) solid, f′(x) dashed"}, "zeroline": True,
                        "zerolinecolor": "#999"}}
    return _unvalidated_figure(data, layout)


def gradient_norms_figure(norms: dict, colours: dict | None = None, height: int = 400):
    """Log-scale chart of the gradient norm per layer (1 = next to the input), one line per label."""
    data = []
    for label, values in norms.items():
        v = np.asarray(values, dtype=float)
        data.append(_line(np.arange(1, v.size + 1), np.where(v > 0, v, np.nan), label,
                          (colours or {}).get(label), mode="lines+markers"))
    layout = {"height": height, "margin": {"l": 10, "r": 10, "t": 20, "b": 10}, "hovermode": "x unified",
              "xaxis": {"title": {"text": "layer (1 = next to the input … last = next to the output)"}},
              "yaxis": {"title": {"text": "gradient size (log scale)"}, "type": "log",
                        "exponentformat": "power"}}
    return _unvalidated_figure(data, layout)


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


def display_bytes(img, width: int) -> bytes:
    """Encoded bytes of a PIL image for st.image(width=width).

    Small maps enlarged cell by cell stay lossless PNG (crisp cells). A picture wider than
    `width` is first shrunk to the width it is shown at (box filter) and sent as JPEG:
    encoding a 512-px map as PNG costs ~40 ms for pixels the browser would drop anyway.
    """
    from PIL import Image

    if img.width <= width:
        return to_png(img)
    shrunk = img.resize((width, max(1, round(img.height * width / img.width))), Image.Resampling.BOX)
    return encode_picture(shrunk, lossy=True)


def encode_picture(img, lossy: bool) -> bytes:
    """JPEG (quality 90) for smoothly shrunk pictures, lightly compressed PNG for crisp ones."""
    if not lossy:
        return to_png(img)
    import io

    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def conv1d_figure(signal, output, taps, weights, selected: int, stride: int = 1, height: int = 520):
    """Input (top) and output (bottom) of a 1-D convolution. The inputs output[selected] sees
    are highlighted; taps outside 0..N-1 are padding zeros, drawn hollow."""
    signal = np.asarray(signal, dtype=float)
    output = np.asarray(output, dtype=float)
    taps = np.asarray(taps)
    n, m = signal.size, output.size
    inside = (taps >= 0) & (taps < n)
    red = "#d62728"
    data = [
        _line(np.arange(n), signal, "input", "#999", mode="lines+markers",
              marker={"size": 6, "color": "#555"}),
        {"type": "scatter", "mode": "markers+text", "x": taps[inside], "y": signal[taps[inside]],
         "name": f"inputs that y[{selected}] sees", "textposition": "top center",
         "text": [f"×{w:.3g}" for w, ok in zip(weights, inside) if ok],
         "marker": {"size": 13, "color": red, "line": {"color": "black", "width": 1}}},
    ]
    if np.any(~inside):
        k = int((~inside).sum())
        data.append({"type": "scatter", "mode": "markers+text", "x": taps[~inside], "y": np.zeros(k),
                     "name": "padding (zeros)", "text": ["0"] * k, "textposition": "top center",
                     "marker": {"size": 13, "color": "white", "line": {"color": red, "width": 2}}})
    data.append(_line(np.arange(m), output, "output", "#1f77b4", mode="lines+markers",
                      marker={"size": 6}, xaxis="x2", yaxis="y2"))
    data.append({"type": "scatter", "mode": "markers", "x": [selected], "y": [output[selected]],
                 "name": f"y[{selected}]", "xaxis": "x2", "yaxis": "y2",
                 "marker": {"size": 15, "color": red, "symbol": "diamond",
                            "line": {"color": "black", "width": 1}}})
    lo, hi = min(-0.5, taps.min() - 0.5), max(n - 0.5, taps.max() + 0.5)
    out_range = [lo, hi] if stride == 1 else [-0.5, max(m - 0.5, 0.5)]
    title = {"xref": "paper", "yref": "paper", "x": 0.5, "xanchor": "center", "yanchor": "bottom",
             "showarrow": False, "font": {"size": 14}}
    layout = {
        "height": height, "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "legend": {"orientation": "h", "y": -0.14},
        "xaxis": {"domain": [0, 1], "anchor": "y", "range": [lo, hi], "title": {"text": "input index i"}},
        "yaxis": {"domain": [0.64, 1], "anchor": "x"},
        "xaxis2": {"domain": [0, 1], "anchor": "y2", "range": out_range,
                   "title": {"text": "output index t"}},
        "yaxis2": {"domain": [0, 0.36], "anchor": "x2"},
        "shapes": [{"type": "rect", "xref": "x", "yref": "y domain", "x0": float(taps.min()) - 0.4,
                    "x1": float(taps.max()) + 0.4, "y0": 0, "y1": 1, "fillcolor": red, "opacity": 0.08,
                    "line": {"width": 0}, "layer": "below"}],
        "annotations": [{**title, "text": "input x[i]", "y": 1.0},
                        {**title, "text": "output y[t]", "y": 0.37}],
    }
    return _unvalidated_figure(data, layout)


# --------------------------------------------------------------------------- convolution lab
# The feature map (Plotly, downsampled when large), the step-through's receptive field on the
# input, the chosen cell on the output, and the patch × kernel = products arithmetic.
# Plotly figures are built as plain dicts without per-property validation (go.Figure's
# validation cost more than the convolution); tests/ui/test_convolution_page.py validates them.

PAD_COLOUR = (96, 112, 150)      # padding cells (their value is 0) on the step-through picture
WINDOW_COLOUR = (255, 140, 0)    # the kernel window / chosen output cell


def feature_map_figure(values: np.ndarray, max_side: int = 256, height: int = 480, title: str = ""):
    """A 2-D feature map as a Plotly heatmap: diverging colours with 0 white, exact hover values.

    Maps larger than max_side are shown at every `step`-th row and column (the hover still names
    the true row/column and its exact value). Returns (figure, step).
    """
    v = np.asarray(values, dtype=np.float32)
    step = max(1, int(np.ceil(max(v.shape) / max_side)))
    m = float(np.abs(v).max()) or 1e-6
    trace = {"type": "heatmap", "z": v[::step, ::step], "x": np.arange(0, v.shape[1], step),
             "y": np.arange(0, v.shape[0], step), "colorscale": PLOTLY_SCALES["diverging"],
             "zmin": -m, "zmax": m, "zmid": 0,
             "hovertemplate": "row %{y}, column %{x}<br>value %{z:.4f}<extra></extra>",
             "colorbar": {"thickness": 14, "len": 0.8, "tickfont": {"size": 13}, "xpad": 4}}
    axis = {"showgrid": False, "constrain": "domain", "tickfont": {"size": 13}}
    layout = {"height": height, "margin": {"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
              "plot_bgcolor": "rgba(0,0,0,0)",
              "xaxis": {**axis, "side": "top", "title": {"text": "output column", "font": {"size": 14}}},
              "yaxis": {**axis, "autorange": "reversed", "scaleanchor": "x",
                        "title": {"text": "output row", "font": {"size": 14}}}}
    if title:
        layout["title"] = {"text": title, "font": {"size": 16}}
    return _unvalidated_figure([trace], layout), step


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


def map_picture(values: np.ndarray, size: int = 360) -> tuple[np.ndarray, float]:
    """A feature map in the diverging colours (0 white), fitted to about `size` px: (RGB, scale)."""
    v = np.asarray(values, dtype=np.float32)
    lo, hi = value_range(v, "diverging")
    return fit_rgb(colorize(v, "diverging", float(lo), float(hi)), size)


def marked_map_image(values: np.ndarray, row: int, col: int, size: int = 360, base=None):
    """A feature map in the diverging colours with one cell outlined; (PIL image, scale).

    base: map_picture(values, size), when already made."""
    from PIL import Image

    canvas, f = base if base is not None else map_picture(values, size)
    img = canvas.copy()
    t = max(2, round(size / 150))
    _frame(img, row * f - t, col * f - t, (row + 1) * f + t, (col + 1) * f + t, (0, 0, 0), t)
    return Image.fromarray(img), f
