"""What the network page and its layer views share: the layer on screen, PNG pictures, chart options."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from cnnviz.ui import figures, st_image

if TYPE_CHECKING:
    from cnnviz.probe import LayerActivation
    from cnnviz.ui.model_cache import Loaded

CONFIG = {"displayModeBar": False}


@dataclass(frozen=True)
class ShownLayer:
    """The layer the explorer shows, with the picture, the prediction and the choices around it."""
    act: LayerActivation       # this layer's output for the picture
    acts: list                 # every layer's output, in layer order
    loaded: Loaded
    x: np.ndarray              # the network's input
    pred: int                  # the predicted class
    channel: int               # the map picked with the channel slider (0 for a list of numbers)
    scale: str                 # "layer": one colour scale for all maps; "map": one each
    network_label: str         # the chosen network as its selectbox names it (for file names)

    @property
    def before(self) -> LayerActivation | None:
        """The output of the layer this one reads (None for the input)."""
        if self.act.input_name is None:
            return None
        return self.acts[self.loaded.probe.index[self.act.input_name]]

    @property
    def class_names(self) -> list[str]:
        return self.loaded.card["class_names"]


def png_image(img, caption: str | None = None, width="content", *, alt: str) -> None:
    """Show a PIL image as lightly compressed PNG (Streamlit would turn it into JPEG); `alt` is
    what a screen reader says instead (see cnnviz.describe)."""
    st_image.show(figures.to_png(img), caption=caption, width=width, alt=alt)
