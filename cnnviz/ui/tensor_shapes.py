"""The "Input shape / Output shape" box: the tensors as Keras sees them, batch axis included,
with data_format flipped at will (the same numbers, the channel axis moved)."""
from __future__ import annotations

import html

import numpy as np
import streamlit as st

from cnnviz import shapes

_NUMBERS_STYLE = ("font-family: 'Source Code Pro', monospace; font-size: 0.85rem; margin: 0; "
                  "padding: 0.6rem 0.8rem; background: rgba(128, 128, 128, 0.08); border-radius: 0.5rem; "
                  "white-space: pre; overflow-x: auto")


def data_format_param(url_state, key: str):
    """The URL setting for a page's data_format switch."""
    return url_state.choice("format", key, list(shapes.DATA_FORMATS), "channels_last", what="data_format")


def _middle(sample: np.ndarray, data_format: str) -> str:
    """A few numbers from the middle of the batched tensor (the edges are often all 0), printed
    as NumPy prints them: 3 steps of a signal, or 2 x 2 pixels with every channel."""
    if sample.ndim == 2:
        t = max(0, sample.shape[0] // 2 - 1)
        piece = sample[t:t + 3]
    else:
        r, c = max(0, sample.shape[0] // 2 - 1), max(0, sample.shape[1] // 2 - 1)
        piece = sample[r:r + 2, c:c + 2]
    return np.array2string(shapes.layout(piece, data_format), precision=2, floatmode="fixed", separator=", ")


def tensor_box(layer: str, input_shape, output_shape, key: str, sample: np.ndarray | None = None) -> None:
    """Shapes of `layer`'s input and output tensors; `sample` (channels last): show its first numbers."""
    st.session_state.setdefault(key, "channels_last")
    with st.container(border=True):
        st.markdown("**Tensor shapes as Keras sees them**")
        fmt = st.segmented_control("data_format", list(shapes.DATA_FORMATS), key=key, required=True,
                                   help="channels_last is Keras's default.") or "channels_last"
        st.markdown(f"`{layer}(..., data_format=\"{fmt}\")`  \n"
                    f"input: `{shapes.shape_text(input_shape, fmt)}`  \n"
                    f"output: `{shapes.shape_text(output_shape, fmt)}`")
        if sample is not None:
            what = ("3 steps from the middle" if sample.ndim == 2 else "2 × 2 pixels from the middle, every channel")
            st.markdown(f"The same numbers in this layout ({what}; the first index is the batch):")
            # st.html, not st.code: st.code brings a 1.5 MB syntax highlighter to a new visitor
            st.html(f'<pre style="{_NUMBERS_STYLE}">{html.escape(_middle(sample, fmt))}</pre>')
        st.caption("Keras always puts the batch first (here 1 picture). channels_last keeps a pixel's "
                   "channels together; channels_first keeps each channel's map together. Only the "
                   "order changes, never the numbers.")
