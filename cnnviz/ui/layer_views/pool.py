"""A pooling layer: the chosen channel's input map with its windows and winners, and the pooled map,
recomputed by cnnviz.pooling and compared with Keras."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import describe, pooling
from cnnviz.ui import accessible, figures
from cnnviz.ui.layer_views.common import CONFIG, ShownLayer


def pool_view(layer: ShownLayer) -> None:
    act, ch = layer.act, layer.channel
    if layer.before is None:
        return
    info = act.info
    before = layer.before.output[..., ch]
    res = pooling.pool2d(before, info["pool_size"], info["strides"], info["padding"], info["mode"])
    diff = float(np.abs(res.output - act.output[..., ch]).max())
    marks = None
    if res.winners is not None:
        # a window that is all zeros (common after ReLU) has no real winner: not marked
        real = res.output.reshape(-1) > 0
        marks = res.winners.reshape(-1, 2)[real]
    st.markdown(f"#### Channel {ch}: the input map and the pooled map")
    c1, c2 = st.columns(2)
    m = float(max(before.max(), 1e-6))
    with c1:
        st.plotly_chart(figures.map_heatmap(before, f"input ({act.input_name}), white lines: the windows",
                                            "viridis", 0.0, m, height=380, marks=marks,
                                            grid=info["strides"] if info["strides"] == info["pool_size"] else None),
                        config=CONFIG, key="net_pool_in",
                        alt=describe.feature_map(before, f"Input map of channel {ch} ({act.input_name})"))
        accessible.as_numbers(before, f"Input map of channel {ch}")
    with c2:
        st.plotly_chart(figures.map_heatmap(act.output[..., ch], f"output ({act.name})", "viridis",
                                            0.0, m, height=380), config=CONFIG, key="net_pool_out",
                        alt=describe.feature_map(act.output[..., ch], f"Pooled map of channel {ch} ({act.name})"))
        accessible.as_numbers(act.output[..., ch], f"Pooled map of channel {ch}")
    if marks is not None:
        st.caption(f"Orange rings: the cell that won each window ({len(marks)} of {res.output.size} "
                   f"windows; windows that are all 0 have no real winner). Winners found by "
                   f"cnnviz.pooling.pool2d, whose output differs from Keras's by at most {diff:.2g}.")
    else:
        st.caption(f"cnnviz.pooling.pool2d's output differs from Keras's by at most {diff:.2g}.")
