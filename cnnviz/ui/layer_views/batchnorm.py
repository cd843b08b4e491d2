"""A batch-normalisation layer: its formula for the chosen channel with the learned numbers filled
in, checked against Keras at one position."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.ui.layer_views.common import ShownLayer


def batchnorm_view(layer: ShownLayer) -> None:
    act, ch = layer.act, layer.channel
    info = act.info
    if "gamma" not in info or layer.before is None:
        return
    g, be, mu, var, eps = (float(info["gamma"][ch]), float(info["beta"][ch]), float(info["mean"][ch]),
                           float(info["variance"][ch]), info["epsilon"])
    a = g / np.sqrt(var + eps)
    x_in = layer.before.output[..., ch]
    r, q = np.unravel_index(np.argmax(np.abs(x_in)), x_in.shape)
    x = float(x_in[r, q])
    y_formula = a * (x - mu) + be
    y_keras = float(act.output[r, q, ch])
    st.markdown(f"#### Channel {ch} in numbers")
    st.latex(r"y = \gamma\,\frac{x-\mu}{\sqrt{\sigma^2+\varepsilon}}+\beta = "
             f"{g:.3f}\\cdot\\frac{{x-({mu:.3f})}}{{\\sqrt{{{var:.3f}+{eps:g}}}}}+({be:.3f})"
             f" = {a:.3f}\\,x {'+' if be - a * mu >= 0 else '-'} {abs(be - a * mu):.3f}")
    st.markdown(f"Check at row {r}, column {q}: x = {x:.4f} → formula {y_formula:.4f}, "
                f"Keras {y_keras:.4f}.")
