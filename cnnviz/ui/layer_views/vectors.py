"""A layer whose output is one list of numbers (flatten, dense, class scores, softmax): the numbers
as bars, and which of them push the predicted class the most."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import describe, probe
from cnnviz.ui import accessible, figures
from cnnviz.ui.layer_views.common import CONFIG, ShownLayer

PUSHING_KINDS = ("flatten", "dense", "activation", "dropout")
#: Most numbers drawn as bars (a large input's flatten layer holds 100,000s: megabytes of chart).
MAX_BARS = 4096


def fitted_bars(values: np.ndarray, title: str, **options):
    """figures.vector_bars of at most the first MAX_BARS numbers; the title says when it is fewer."""
    v = np.asarray(values).reshape(-1)
    if v.size > MAX_BARS:
        title = f"{title} (the first {MAX_BARS:,} of {v.size:,})"
        v = v[:MAX_BARS]
        if options.get("customdata") is not None:
            options["customdata"] = options["customdata"][:MAX_BARS]
    return figures.vector_bars(v, title, **options)


def vector_view(layer: ShownLayer) -> None:
    """Every number of the layer as a bar; class scores and probabilities are named by class."""
    act = layer.act
    network = layer.loaded.probe
    v = act.output.reshape(-1)
    if act.kind == "flatten":
        shp = network.spec(act.input_name).output_shape
        shown = np.arange(min(v.size, MAX_BARS))
        rr, cc, kk = np.unravel_index(shown, shp) if len(shp) == 3 else (None, None, None)
        custom = np.stack([rr, cc, kk], axis=1) if rr is not None else None
        fig = fitted_bars(v, f"{act.name}: {v.size} numbers", height=300, customdata=custom,
                                  hover="position %{x}<br>= row %{customdata[0]}, column "
                                        "%{customdata[1]}, channel %{customdata[2]}<br>"
                                        "value %{y:.4f}<extra></extra>" if custom is not None else
                                        "position %{x}<br>value %{y:.4f}<extra></extra>")
        st.plotly_chart(fig, config=CONFIG, key="net_vec", alt=describe.bars(v, None, f"The {v.size} numbers of {act.name}"))
    elif act.name == network.score_layer or act.kind == "softmax":
        st.plotly_chart(figures.vector_bars(v, f"{act.name}", labels=layer.class_names, highlight=layer.pred,
                                            height=320, hover="%{x}<br>%{y:.4f}<extra></extra>"),
                        config=CONFIG, key="net_vec", alt=describe.bars(v, layer.class_names, f"{act.name} per class"))
    else:
        st.plotly_chart(fitted_bars(v, f"{act.name}: {v.size} units", height=300),
                        config=CONFIG, key="net_vec", alt=describe.bars(v, None, f"The {v.size} units of {act.name}"))
    st.caption(f"min {v.min():.3f} · max {v.max():.3f} · {np.mean(v == 0):.0%} zeros")
    if act.name == network.score_layer or act.kind == "softmax":
        accessible.as_numbers(v[None, :], f"{act.name} per class", [act.name], layer.class_names, corner="class")
    else:
        accessible.chart_numbers(f"The {v.size:,} values of {act.name}", "position", {act.name: (np.arange(v.size), v)})


def pushes_class_scores(layer: ShownLayer) -> bool:
    """Whether the layer is a list of numbers that the class scores are computed from."""
    network = layer.loaded.probe
    return (not layer.act.is_spatial and layer.act.kind in PUSHING_KINDS
            and layer.act.index <= network.index[network.score_layer])


def contributions_view(layer: ShownLayer) -> None:
    """The units of this layer (of the one before the scores, for the scores themselves) that
    push the predicted class the most."""
    network = layer.loaded.probe
    names = layer.class_names
    cls = layer.pred
    unit_layer = None if layer.act.name == network.score_layer else layer.act.name
    con = probe.contributions(network, layer.x, cls, unit_layer, activations=layer.acts)
    n = 12
    top = con.contributions[:n]
    st.markdown(f"#### Which units of {con.layer_name} push “{names[cls]}” the most")
    fig = figures.vector_bars(top, "", labels=[f"unit {u}" for u in con.units[:n]], height=280,
                              color="#2ca02c",
                              hover="%{x}<br>push %{y:.4f}<extra></extra>")
    st.plotly_chart(fig, config=CONFIG, key="net_contrib",
                    alt=describe.bars(top, [f"unit {u}" for u in con.units[:n]],
                                      f"The pushes of the {top.size} strongest units towards {names[cls]}"))
    accessible.as_numbers(np.asarray(top)[None, :], f"The pushes towards {names[cls]}", ["push"],
                          [f"unit {u}" for u in con.units[:n]], corner="unit")
    if con.exact:
        st.caption(f"Push = the unit's value × its weight to “{names[cls]}”. All {con.contributions.size} "
                   f"pushes ({con.contributions.sum():+.3f}) plus the bias ({con.bias:+.3f}) make the "
                   f"score {con.logit:+.3f}. The most negative push is {con.contributions[-1]:+.3f}.")
    else:
        st.caption("Estimated push = the unit's value × how much the class score changes per unit "
                   "change of it (the gradient). A first-order estimate: the layers after this one "
                   "are not straight lines.")
