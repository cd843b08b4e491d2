"""A dropout layer: that it passes numbers through while predicting, and, on request, one random
training mask and what it does to the numbers."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import describe, probe
from cnnviz.ui import accessible, figures, url_state
from cnnviz.ui.layer_views.common import CONFIG, ShownLayer


def dropout_view(layer: ShownLayer) -> None:
    act = layer.act
    if layer.before is None:
        return
    before = layer.before.output
    same = float(np.abs(before - act.output).max())
    rate = act.info["rate"]
    st.markdown(f"Output minus input, largest difference: **{same:g}**. While predicting, the "
                f"layer passes the numbers through untouched.")
    if not st.toggle("Show what it does during training", key="net_dropout_show"):
        return
    left, right = st.columns([1, 3.05], gap="medium")
    with left:
        seed = st.number_input("Random mask number", value=0, **url_state.page_widget("net_dropout_seed"),
                               help="Each training step draws a new random mask; change the "
                                    "number to draw another.")
    scale, out = probe.dropout_sample(before, rate, int(seed))
    kept = scale > 0
    with left:
        st.markdown(f"This mask drops **{np.mean(~kept):.0%}** of the {scale.size:,} numbers "
                    f"(about {rate:.0%} expected) and multiplies the kept ones by "
                    f"1 / (1 − {rate:g}) = **{1 / (1 - rate):.3f}**, so their total stays about "
                    f"the same on average.")
    with right:
        st.plotly_chart(training_figure(before, out, kept), config=CONFIG, key="net_dropout_fig",
                        alt=f"A dropout mask drops {describe.percent(np.mean(~kept))} of {scale.size:,} numbers. "
                        + describe.bars(out.reshape(-1)[:4096], None, "The numbers after dropout"))
        shown = np.arange(min(scale.size, 64))          # the bars the chart draws
        accessible.chart_numbers(f"The first {shown.size} numbers before and after the mask", "position", {
            "before": (shown, before.reshape(-1)[shown]), "after": (shown, out.reshape(-1)[shown])})


def training_figure(before: np.ndarray, after: np.ndarray, kept: np.ndarray):
    """Bars of the first numbers before (light) and after (red) one training mask; × = dropped."""
    v_in, v_out = before.reshape(-1), after.reshape(-1)
    show = min(v_in.size, 64)
    idx = list(range(show))
    dropped = [i for i in idx if not kept.reshape(-1)[i]]
    fig = figures.vector_bars(v_in[:show], f"The first {show} numbers: input (light) and after "
                              f"dropout in training (red); × = dropped", height=320,
                              color="#9ecae1")
    fig.add_bar(x=idx, y=v_out[:show].tolist(), marker_color="#d62728", name="training",
                hovertemplate="unit %{x}<br>after dropout %{y:.4f}<extra></extra>")
    fig.add_scatter(x=dropped, y=[0] * len(dropped), mode="markers", hoverinfo="skip",
                    marker={"symbol": "x", "size": 9, "color": "#333"})
    fig.update_layout(barmode="group", showlegend=False)
    return fig
