"""One view per kind of layer for the network explorer, shown below the layer's maps or numbers.

    from cnnviz.ui.layer_views import VIEWS
    view = VIEWS.get(layer.act.kind)      # conv, batchnorm, activation, pool, dropout, softmax
    if view:
        view(layer)                       # layer: a common.ShownLayer

maps and vectors hold the views every layer gets (its stack of maps, or its list of numbers),
explanations the words for each kind. Importing the package imports TensorFlow (the dropout view
calls cnnviz.probe): pages import it after their "Starting TensorFlow" spinner.
"""
from __future__ import annotations

from typing import Callable

from cnnviz.ui.layer_views.activation import activation_view
from cnnviz.ui.layer_views.batchnorm import batchnorm_view
from cnnviz.ui.layer_views.common import ShownLayer
from cnnviz.ui.layer_views.conv import conv_view
from cnnviz.ui.layer_views.dropout import dropout_view
from cnnviz.ui.layer_views.pool import pool_view
from cnnviz.ui.layer_views.softmax import softmax_view

VIEWS: dict[str, Callable[[ShownLayer], None]] = {
    "conv": conv_view,
    "batchnorm": batchnorm_view,
    "activation": activation_view,
    "pool": pool_view,
    "dropout": dropout_view,
    "softmax": softmax_view,
}
