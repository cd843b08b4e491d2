"""Plotly charts: maps as heatmaps, vectors as bars, activation curves, gradient norms, a 1-D
convolution.

They are built from plain dicts and skip Plotly's per-property validation (it cost ~40 ms a chart,
more than the convolution itself); tests/test_figures.py validates each one with go.Figure(spec).
Plotly is imported only when a chart is built, so pages that show none do not pay for it.
"""
from __future__ import annotations

import numpy as np

from cnnviz.ui.figures.colours import plotly_scale, value_range


def _unvalidated_figure(data: list, layout: dict):
    """A go.Figure from plain dicts, without Plotly's per-property validation."""
    # Plotly uses pandas when sys.modules has it, finished or not; `import` waits for the preload
    # thread's import of it to finish (preload.py), so Plotly never sees half a pandas.
    import pandas  # noqa: F401
    import plotly.graph_objects as go

    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _line(x, y, name: str, colour, width: float = 2.0, dash: str | None = None, **extra) -> dict:
    """A scatter trace drawn as a line (dash: "dash", "dot", ... or None); extra keys are added."""
    trace = {"type": "scatter", "mode": "lines", "x": np.asarray(x), "y": np.asarray(y), "name": name,
             "line": {"color": colour, "width": width, **({"dash": dash} if dash else {})}}
    trace.update(extra)
    return trace


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
    heat = {"type": "heatmap", "z": v.tolist(), "colorscale": plotly_scale(cmap),
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


def feature_map_figure(values: np.ndarray, max_side: int = 256, height: int = 480, title: str = ""):
    """A 2-D feature map as a Plotly heatmap: diverging colours with 0 white, exact hover values.

    Maps larger than max_side are shown at every `step`-th row and column (the hover still names
    the true row/column and its exact value). Returns (figure, step).
    """
    v = np.asarray(values, dtype=np.float32)
    step = max(1, int(np.ceil(max(v.shape) / max_side)))
    m = float(np.abs(v).max()) or 1e-6
    trace = {"type": "heatmap", "z": v[::step, ::step], "x": np.arange(0, v.shape[1], step),
             "y": np.arange(0, v.shape[0], step), "colorscale": plotly_scale("diverging"),
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
