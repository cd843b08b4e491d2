"""A convolution layer: the learned filter behind the chosen channel, and its bias."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import describe
from cnnviz.ui import accessible, figures
from cnnviz.ui.layer_views.common import CONFIG, ShownLayer, png_image


def conv_view(layer: ShownLayer) -> None:
    ch = layer.channel
    k = layer.act.info["kernel"]
    kh, kw, cin, cout = k.shape
    bias = layer.act.info["bias"]
    b = float(bias[ch]) if bias is not None else 0.0
    st.markdown(f"#### The learned filter of channel {ch}")
    left, right = st.columns([1.35, 1], gap="medium")
    if cin == 1:
        with left:
            png_image(figures.mosaic(k.reshape(kh, kw, cout), scale="layer", cmap="diverging",
                                     highlight=ch, width=560, labels="above"),
                      caption=f"All {cout} filters ({kh} × {kw}), one colour scale; orange frame: "
                              f"channel {ch}",
                      alt=describe.stack(k.reshape(kh, kw, cout), f"The {cout} learned filters", "filter"))
        with right:
            st.plotly_chart(figures.map_heatmap(k[:, :, 0, ch], f"filter {ch} weights", "diverging",
                                                height=300, text=True),
                            config=CONFIG, key="net_kernel_heat",
                            alt=describe.kernel(k[:, :, 0, ch], f"Weights of filter {ch}"))
            accessible.as_numbers(k[:, :, 0, ch], f"Weights of filter {ch}")
    elif cin == 3:
        with left:
            png_image(figures.rgb_filter_mosaic(k, width=560, highlight=ch),
                      caption=f"All {cout} filters as colour pictures ({kh} × {kw}; grey = 0, each "
                              f"on its own scale): a filter answers most to patches that look like "
                              f"it. Orange frame: channel {ch}.",
                      alt=f"The {cout} learned filters as colour pictures. "
                      + describe.stack(k[:, :, :, ch], f"Filter {ch}", "colour slice"))
        with right:
            png_image(figures.mosaic(k[:, :, :, ch], scale="layer", cmap="diverging", width=360,
                                     labels="above"),
                      caption=f"Filter {ch}, one {kh} × {kw} slice per colour: 0 = red, 1 = green, "
                              f"2 = blue",
                      alt=describe.stack(k[:, :, :, ch], f"Filter {ch}", "colour slice"))
            accessible.as_numbers(k[:, :, :, ch], f"Filter {ch}")
    else:
        with left:
            png_image(figures.mosaic(k[:, :, :, ch], scale="layer", cmap="diverging",
                                     width=560, labels="above"),
                      caption=f"Filter {ch} has one {kh} × {kw} slice for each of the {cin} input "
                              f"channels (tile i is applied to input channel i); one colour scale.",
                      alt=describe.stack(k[:, :, :, ch], f"Filter {ch}", "input-channel slice"))
        with right:
            strength = np.abs(k[:, :, :, ch]).sum(axis=(0, 1))
            top = np.argsort(-strength)[:5]
            st.markdown("The input channels this filter weighs most: " +
                        ", ".join(f"**{i}**" for i in top) + ".")
    st.markdown(f"Bias of channel {ch}: **{b:+.4f}**" if bias is not None else
                "This layer has **no bias**: the batch normalisation after it adds its own (β).")
