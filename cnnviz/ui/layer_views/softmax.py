"""A softmax layer: that its probabilities add up to 1, and the prediction they make."""
from __future__ import annotations

import streamlit as st

from cnnviz.ui import formats
from cnnviz.ui.layer_views.common import ShownLayer


def softmax_view(layer: ShownLayer) -> None:
    probs, pred = layer.act.output, layer.pred
    st.markdown(f"The probabilities add up to {probs.sum():.4f}. "
                f"**Prediction: {layer.class_names[pred]} ({formats.percent(probs[pred])})**")
