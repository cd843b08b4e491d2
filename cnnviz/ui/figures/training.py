"""Pictures of a network learning: curves over steps, gradient sizes, a gallery of predictions,
the confusion matrix. Plain dicts for Plotly (as in charts.py); the gallery is one PIL image.
"""
from __future__ import annotations

import numpy as np

from cnnviz.ui.figures.charts import _line, _unvalidated_figure
from cnnviz.ui.figures.colours import plotly_scale
from cnnviz.ui.figures.pictures import load_font, rgb8, upscale

TRAIN_COLOUR, VALIDATION_COLOUR = "#1f77b4", "#d62728"
RIGHT, WRONG = (46, 160, 67), (214, 39, 40)
RUN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
DEPTH_COLOURS = ("#440154", "#3b528b", "#21918c", "#27ad81", "#5ec962", "#aadc32")   # input ... output


def _layout(y_title: str, height: int, percent: bool, log: bool = False) -> dict:
    yaxis = {"title": {"text": y_title}}
    if percent:
        yaxis.update(tickformat=".0%", range=[0, 1.02])
    if log:
        yaxis.update(type="log", exponentformat="power")
    return {"height": height, "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "hovermode": "x unified",
            "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
            "xaxis": {"title": {"text": "training step"}, "rangemode": "tozero"}, "yaxis": yaxis}


MAX_CURVE_POINTS = 500   # a long run's steps are thinned evenly (the last one always kept)


def thinned(values) -> tuple[np.ndarray, np.ndarray]:
    """(steps from 1, values) with at most MAX_CURVE_POINTS points: a chart of 20,000 steps
    looks the same and costs the server and the browser far less at every redraw."""
    v = np.asarray(values, dtype=float)
    steps = np.arange(1, v.size + 1)
    if v.size <= MAX_CURVE_POINTS:
        return steps, v
    keep = np.unique(np.linspace(0, v.size - 1, MAX_CURVE_POINTS).round().astype(int))
    return steps[keep], v[keep]


def learning_curve(train, val_steps, val, y_title: str, percent: bool = False, height: int = 300):
    """Training values per step (running mean over the epoch) and validation values at their steps."""
    fmt = ".2%" if percent else ".4f"
    steps, values = thinned(train)
    data = [_line(steps, values, "training (mean over this epoch so far)",
                  TRAIN_COLOUR, 1.5, hovertemplate=f"%{{y:{fmt}}}")]
    if len(val_steps):
        data.append(_line(val_steps, val, "validation", VALIDATION_COLOUR, 2.0, mode="lines+markers",
                          marker={"size": 5}, hovertemplate=f"%{{y:{fmt}}}"))
    return _unvalidated_figure(data, _layout(y_title, height, percent))


def compare_curves(series: dict, y_title: str, percent: bool = False, height: int = 320):
    """One line per run: label -> (steps, values)."""
    fmt = ".2%" if percent else ".4f"
    data = [_line(steps, values, label, RUN_COLOURS[i % len(RUN_COLOURS)], 2.0, mode="lines+markers",
                  marker={"size": 4}, hovertemplate=f"%{{y:{fmt}}}")
            for i, (label, (steps, values)) in enumerate(series.items())]
    return _unvalidated_figure(data, _layout(y_title, height, percent))


def gradient_history(steps, sizes: dict, height: int = 300):
    """Gradient size per layer over the steps (log scale): layer name -> values."""
    n = len(sizes)
    data = []
    for i, (name, values) in enumerate(sizes.items()):
        v = np.asarray(values, dtype=float)
        colour = DEPTH_COLOURS[round(i * (len(DEPTH_COLOURS) - 1) / max(1, n - 1))]
        data.append(_line(steps, np.where(v > 0, v, np.nan), name, colour, 1.8, hovertemplate="%{y:.2e}"))
    layout = _layout("typical gradient of one weight (log scale)", height, False, log=True)
    return _unvalidated_figure(data, layout)


def confusion_figure(matrix, class_names, height: int = 430):
    """Rows: the true class; columns: the predicted one; each cell the number of test images."""
    m = np.asarray(matrix, dtype=int)
    names = [str(n) for n in class_names]
    rows = np.maximum(m.sum(axis=1, keepdims=True), 1)
    share = m / rows
    heat = {"type": "heatmap", "z": share.tolist(), "x": names, "y": names, "zmin": 0, "zmax": 1,
            "colorscale": plotly_scale("viridis"), "colorbar": {"thickness": 12, "tickformat": ".0%"},
            "text": m.tolist(), "texttemplate": "%{text}", "customdata": share.tolist(),
            "hovertemplate": "true %{y}, predicted %{x}<br>%{text} images (%{customdata:.1%} of the "
                             "%{y} images)<extra></extra>"}
    layout = {"height": height, "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
              "xaxis": {"title": {"text": "predicted class"}, "side": "bottom", "type": "category"},
              "yaxis": {"title": {"text": "true class"}, "autorange": "reversed", "type": "category"}}
    return _unvalidated_figure([heat], layout)


def gallery_image(pictures: np.ndarray, labels, predictions, confidences, class_names,
                  tile: int = 84, cols: int = 8):
    """Test pictures (in [0, 1], as the network sees them) with the network's answer under each:
    a green frame if right, red if wrong (with the true class below)."""
    from PIL import Image, ImageDraw

    n = len(pictures)
    rows = -(-n // cols)
    frame, caption, gap = 4, 30, 6
    cell_w, cell_h = tile + 2 * frame, tile + 2 * frame + caption
    canvas = Image.new("RGB", (cols * cell_w + (cols + 1) * gap, rows * cell_h + (rows + 1) * gap), "white")
    draw = ImageDraw.Draw(canvas)
    font = load_font(12)
    for i in range(n):
        r, c = divmod(i, cols)
        x, y = gap + c * (cell_w + gap), gap + r * (cell_h + gap)
        pixels = np.asarray(pictures[i], dtype=np.float32)
        rgb = rgb8(pixels[..., 0] if pixels.ndim == 3 and pixels.shape[2] == 1 else pixels)
        big = upscale(rgb, max(1, tile // rgb.shape[0]))
        right = int(predictions[i]) == int(labels[i])
        colour = RIGHT if right else WRONG
        draw.rectangle((x, y, x + cell_w - 1, y + tile + 2 * frame - 1), fill=colour)
        canvas.paste(Image.fromarray(big), (x + frame, y + frame))
        name = str(class_names[int(predictions[i])])[:13]
        below = f"{float(confidences[i]):.0%} sure" if right else f"is {str(class_names[int(labels[i])])[:10]}"
        draw.text((x + 2, y + tile + 2 * frame + 1), name, fill=colour, font=font)
        draw.text((x + 2, y + tile + 2 * frame + 15), below, fill=(90, 90, 90), font=font)
    return canvas


def _vertical_text(text: str, font, colour=(60, 60, 60)):
    from PIL import Image, ImageDraw
    box = font.getbbox(text)
    img = Image.new("RGBA", (box[2] + 2, box[3] + 2), (255, 255, 255, 0))
    ImageDraw.Draw(img).text((0, 0), text, fill=colour, font=font)
    return img.rotate(90, expand=True)


def confusion_picture(matrix, class_names, cell: int = 44, selected: tuple[int, int] | None = None):
    """The confusion matrix as one picture to click: (PIL image, (left, top, cell)).

    Rows: the true class (names on the left); columns: the predicted class (names above, turned).
    Each cell is coloured by its share of the row and shows its count; `selected` gets a frame.
    """
    from PIL import Image, ImageDraw

    from cnnviz.ui.figures.colours import colorize, is_light
    m = np.asarray(matrix, dtype=int)
    k = len(m)
    names = [str(n)[:14] for n in class_names]
    font = load_font(max(12, cell // 3))
    left = max(int(font.getlength(n)) for n in names) + 12
    top = left
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    canvas = Image.new("RGB", (left + k * cell + 2, top + k * cell + 2), "white")
    draw = ImageDraw.Draw(canvas)
    colours = colorize(share.astype(np.float32), "viridis", 0.0, 1.0)
    for r in range(k):
        y = top + r * cell
        draw.text((left - 6, y + cell / 2), names[r], fill=(60, 60, 60), font=font, anchor="rm")
        for c in range(k):
            x = left + c * cell
            rgb = tuple(int(v) for v in colours[r, c])
            draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=rgb, outline="white")
            text_colour = (20, 20, 20) if is_light(rgb) else (250, 250, 250)
            draw.text((x + cell / 2, y + cell / 2), str(m[r, c]), fill=text_colour, font=font, anchor="mm")
    for c in range(k):
        label = _vertical_text(names[c], font)
        canvas.paste(label, (left + c * cell + (cell - label.width) // 2, top - 6 - label.height), label)
    if selected is not None:
        r, c = selected
        x, y = left + c * cell, top + r * cell
        draw.rectangle((x - 2, y - 2, x + cell + 1, y + cell + 1), outline=(255, 140, 0), width=3)
    return canvas, (left, top, cell)
