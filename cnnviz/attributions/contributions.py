"""Contributions: how much each unit of a layer pushes one class's score up or down.

At the layer that feeds the Dense layer making the logits the split is exact: logit = sum_i a_i w_i + b, so each
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

import keras
import numpy as np

from cnnviz import probe
from cnnviz.attributions._scores import logits

# Layers that pass their input through unchanged when the model predicts (training=False).
_IDENTITY_AT_INFERENCE = ("dropout",)


@dataclass(frozen=True)
class Contributions:
    """How the units of one layer push the score of one class, largest first.

    exact=True: the layer feeds the logits' Dense layer directly (dropout does nothing when
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


def _logit_dense(p: probe.Probe):
    """(the Dense layer whose kernel and bias make the logits, the layer it reads) when the
    logits are an affine function of one layer's output, else (None, None): a Dense(...,
    softmax) output (its pre-activation is the logits) or a linear Dense whose output is them."""
    score = p.class_score
    if score.head is not None:
        return score.head, score.source
    spec = p.spec(score.source)
    if spec.kind == "dense" and spec.info.get("activation", "linear") == "linear":
        return spec.layer, spec.input_name
    return None, None


def _exact_chain(p: probe.Probe, feeding: str | None) -> list[str]:
    """`feeding` and the layers it passes through unchanged at inference (dropout), back to the
    first one that computes something: the split is exact at each of them."""
    chain = []
    while feeding is not None:
        chain.append(feeding)
        if p.spec(feeding).kind not in _IDENTITY_AT_INFERENCE:
            break
        feeding = p.spec(feeding).input_name
    return chain


def contributions(model, x, class_index: int, layer_name: str | None = None,
                  activations: Sequence[probe.LayerActivation] | None = None) -> Contributions:
    """Each unit's push on the class's logit (cnnviz.class_score), sorted from most positive.

    layer_name None: the layer that feeds the Dense layer making the logits (e.g. relu_dense1),
    where the split is exact (activation x weight, plus the bias, sums to the logit). Other
    layers: gradient x activation, an estimate. `activations` (Probe.run's result) avoids a rerun.
    """
    p = probe.get_probe(model)
    c = p.check_class(class_index)
    dense, feeding = _logit_dense(p)
    exact = _exact_chain(p, feeding)
    if layer_name is None:
        layer_name = exact[-1] if exact else p.class_score.source
    spec = p.check_scored(layer_name)
    acts = activations if activations is not None else p.run(x)
    a = np.asarray(acts[spec.index].output, dtype=np.float32).reshape(-1)
    if layer_name in exact:
        w = np.asarray(keras.ops.convert_to_numpy(dense.kernel), np.float32)[:, c]
        contrib = a * w
        bias = float(keras.ops.convert_to_numpy(dense.bias)[c]) if dense.use_bias else 0.0
        order = np.argsort(-contrib, kind="stable")
        return Contributions(layer_name, c, order, a[order], w[order], contrib[order], bias,
                             float(logits(p, x)[c]), True)
    g = probe.layer_gradients(p, x, c, layer_name).reshape(-1)
    contrib = a * g
    order = np.argsort(-contrib, kind="stable")
    return Contributions(layer_name, c, order, a[order], None, contrib[order], None, None, False)
