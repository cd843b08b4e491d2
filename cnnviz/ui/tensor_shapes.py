"""The "Input shape / Output shape" box: the tensors as Keras sees them, batch axis included,
with data_format flipped at will (the same numbers, the channel axis moved)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import shapes

LABELS = {"channels_last": "channels_last (Keras's default)", "channels_first": "channels_first"}


def data_format_param(url_state, key: str):
    """The URL setting for a page's data_format switch."""
    return url_state.choice("format", key, list(shapes.DATA_FORMATS), "channels_last", what="data_format")


def _corner(sample: np.ndarray, data_format: str) -> str:
    """The first few numbers of the batched tensor, printed as NumPy prints them."""
    x = shapes.layout(sample, data_format)
    cut = (slice(0, 1), slice(None), slice(0, 3)) if sample.ndim == 2 else \
        ((slice(0, 1), slice(0, 2), slice(0, 2), slice(None)) if data_format == "channels_last"
         else (slice(0, 1), slice(None), slice(0, 2), slice(0, 2)))
    if sample.ndim == 2 and data_format == "channels_last":
        cut = (slice(0, 1), slice(0, 3), slice(None))
    return np.array2string(x[cut], precision=2, floatmode="fixed", separator=", ")


def tensor_box(layer: str, input_shape, output_shape, key: str, sample: np.ndarray | None = None) -> None:
    """Shapes of `layer`'s input and output tensors; `sample` (channels last): show its first numbers."""
    st.session_state.setdefault(key, "channels_last")
    with st.container(border=True):
        head, switch = st.columns([1.4, 1], vertical_alignment="center")
        head.markdown("**Tensor shapes as Keras sees them**")
        fmt = switch.segmented_control("data_format", list(shapes.DATA_FORMATS), key=key, required=True,
                                       format_func=LABELS.get, label_visibility="collapsed")
        st.markdown(f"`{layer}(..., data_format=\"{fmt}\")`  \n"
                    f"input: `{shapes.shape_text(input_shape, fmt)}`  \n"
                    f"output: `{shapes.shape_text(output_shape, fmt)}`")
        if sample is not None:
            what = ("the first 3 steps" if sample.ndim == 2 else "the top-left 2 × 2 pixels, every channel")
            st.markdown(f"The same numbers in this layout ({what}; the first index is the batch):")
            st.code(_corner(sample, fmt), language=None)
        st.caption("Keras always puts the batch first (here 1 picture). channels_last keeps a pixel's "
                   "channels together; channels_first keeps each channel's map together. Only the "
                   "order changes, never the numbers.")
