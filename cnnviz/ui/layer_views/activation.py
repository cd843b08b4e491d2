"""An activation layer: the chosen channel before and after it, and how many numbers it zeroed."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import describe
from cnnviz.ui import accessible, figures
from cnnviz.ui.layer_views.common import CONFIG, ShownLayer


def activation_view(layer: ShownLayer) -> None:
    act, ch = layer.act, layer.channel
    if layer.before is None:
        return
    before = layer.before.output
    after = act.output
    if before.ndim == 3:
        b, a = before[..., ch], after[..., ch]
        m = float(max(np.abs(b).max(), np.abs(a).max()))
        st.markdown(f"#### Channel {ch} before and after {act.name}")
        c1, c2 = st.columns(2)
        with c1:
            st.plotly_chart(figures.map_heatmap(b, f"before ({act.input_name})", "diverging", -m, m,
                                                height=360), config=CONFIG, key="net_act_before",
                            alt=describe.feature_map(b, f"Channel {ch} before {act.name}"))
            accessible.as_numbers(b, f"Channel {ch} before {act.name}")
        with c2:
            st.plotly_chart(figures.map_heatmap(a, f"after ({act.name})", "diverging", -m, m,
                                                height=360), config=CONFIG, key="net_act_after",
                            alt=describe.feature_map(a, f"Channel {ch} after {act.name}"))
            accessible.as_numbers(a, f"Channel {ch} after {act.name}")
    st.markdown(f"In this layer **{np.mean(after == 0):.0%}** of the {after.size:,} numbers are 0 "
                f"after the activation ({np.mean(before < 0):.0%} were negative before).")
