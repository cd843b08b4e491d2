"""Contributions: how much each unit of a layer pushes one class's score up or down.

At the layer that feeds the logits layer the split is exact: logit = sum_i a_i w_i + b, so each
unit's push is activation x weight (the linear case of every attribution method). At other
layers it is gradient x activation, the first-order estimate of the same split.

    from cnnviz import attributions, models
    model = models.load_pretrained("mnist")
    con = attributions.contributions(model, x, class_index=3)
    con.contributions[:5], con.units[:5]      # the five strongest pushes and their units

Reference:
    A. Shrikumar, P. Greenside, A. Shcherbina, A. Kundaje, "Not Just a Black Box: Learning
    Important Features Through Propagating Activation Differences", 2016 (arXiv:1605.01713),
    for gradient x input; for a linear layer it is the exact decomposition.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from cnnviz import probe
from cnnviz.attributions._scores import logits

# Layers that pass their input through unchanged when the model predicts (training=False).
_IDENTITY_AT_INFERENCE = ("dropout",)


@dataclass(frozen=True)
class Contributions:
    """How the units of one layer push the score of one class, largest first.

    exact=True: the layer feeds the score layer directly (dropout does nothing when
    predicting), so contribution = activation x weight and
    contributions.sum() + bias == logit. exact=False: gradient x activation, a
    first-order estimate (bias and logit are then None).
    """
    layer_name: str
    class_index: int
    units: np.ndarray
    activations: np.ndarray
    weights: np.ndarray | None
    contributions: np.ndarray
    bias: float | None
    logit: float | None
    exact: bool


def _feeds_score_directly(p: probe.Probe, name: str) -> bool:
    """True when `name`'s output reaches the score layer unchanged at inference."""
    s = p.spec(p.score_layer)
    src = s.input_name
    while src is not None:
        if src == name:
            return True
        spec = p.spec(src)
        if spec.kind not in _IDENTITY_AT_INFERENCE:
            return False
        src = spec.input_name
    return False


def contributions(model, x, class_index: int, layer_name: str | None = None,
                  activations: Sequence[probe.LayerActivation] | None = None) -> Contributions:
    """Each unit's push on the class's logit, sorted from most positive.

    layer_name None: the layer that feeds the logits layer (e.g. relu_dense1), where the
    split is exact (activation x weight, plus the bias, sums to the logit). Other layers:
    gradient x activation, an estimate. `activations` (Probe.run's result) avoids a rerun.
    """
    p = probe.get_probe(model)
    c = p.check_class(class_index)
    score = p.spec(p.score_layer)
    if layer_name is None:
        layer_name = score.input_name
        while layer_name is not None and p.spec(layer_name).kind in _IDENTITY_AT_INFERENCE:
            layer_name = p.spec(layer_name).input_name
    if layer_name is None:
        raise ValueError("The score layer has no input layer to split.")
    spec = p.spec(layer_name)
    acts = activations if activations is not None else p.run(x)
    a = np.asarray(acts[spec.index].output, dtype=np.float32).reshape(-1)
    logits_out = np.asarray(acts[score.index].output, dtype=np.float32)
    if score.kind == "dense" and _feeds_score_directly(p, layer_name):
        w = score.info["kernel"][:, c]
        contrib = a * w
        bias = float(score.info["bias"][c]) if score.info["bias"] is not None else 0.0
        logit = float(logits_out[c])
        if score.info.get("activation", "linear") != "linear":
            # a Dense(n, softmax) output (the builder's): its output is a probability; the
            # split adds up to the score before the softmax, which the network computes too
            logit = float(logits(p, x)[c])
        order = np.argsort(-contrib, kind="stable")
        return Contributions(layer_name, c, order, a[order], w[order], contrib[order], bias,
                             logit, True)
    g = probe.layer_gradients(p, x, c, layer_name).reshape(-1)
    contrib = a * g
    order = np.argsort(-contrib, kind="stable")
    return Contributions(layer_name, c, order, a[order], None, contrib[order], None, None, False)
