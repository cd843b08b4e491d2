"""The class scores the attribution methods explain: the logits (pre-softmax) and the
probabilities, for a batch of images, from one compiled graph per model. Which tensor is the
logit is decided in one place, cnnviz.class_score (the Probe's class_score).
"""
from __future__ import annotations

import threading
import weakref

import keras
import numpy as np
import tensorflow as tf

from cnnviz import probe


class Scorer:
    """Logits and probabilities of a batch, and d logit[class] / d input, for one model."""

    #: Most images per compiled call.
    CHUNK = 32
    #: Most layer values (all layers' outputs, summed over the images) one call may make: a
    #: big network gets smaller chunks, so a batch never holds more than about 256 MB of them.
    MAX_CHUNK_VALUES = 2 ** 26

    def __init__(self, p: probe.Probe):
        # Nothing here refers to the model object itself (only to its layers), so that the
        # weakly keyed cache below does not keep a model alive.
        model = p.model
        self.input_shape = p.input_shape
        self.n_classes = int(model.outputs[0].shape[-1])
        self.class_score = p.class_score
        per_image = sum(int(np.prod(s.output_shape)) for s in p.specs)
        self.chunk = max(1, min(self.CHUNK, self.MAX_CHUNK_VALUES // max(per_image, 1)))
        source = model.inputs[0] if p.score_index == 0 else p.specs[p.score_index].layer.output
        self._graph = keras.Model(model.inputs, [source, model.outputs[0]], name=f"{model.name}_scores")
        spec = tf.TensorSpec((None, *p.input_shape), tf.float32)
        self._scores = tf.function(self._scores_impl, input_signature=[spec])
        self._grad = tf.function(self._grad_impl, input_signature=[spec, tf.TensorSpec((), tf.int32)])

    def _logits_probs(self, x):
        source, probs = self._graph([x], training=False)
        return self.class_score.logits(source), probs

    def _scores_impl(self, x):
        return self._logits_probs(x)

    def _grad_impl(self, x, c):
        with tf.GradientTape() as tape:
            tape.watch(x)
            z, _ = self._logits_probs(x)
            score = z[:, c]
            total = tf.reduce_sum(score)             # the images are independent
        return tape.gradient(total, x), score

    def _chunks(self, xb: np.ndarray):
        for i in range(0, len(xb), self.chunk):
            yield xb[i:i + self.chunk]

    def scores(self, xb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(logits, probabilities) of a batch N x H x W x C, each N x n_classes."""
        xb = np.asarray(xb, dtype=np.float32)
        zs, ps = [], []
        for part in self._chunks(xb):
            z, pr = self._scores(tf.constant(part))
            zs.append(z.numpy())
            ps.append(pr.numpy())
        return np.concatenate(zs), np.concatenate(ps)

    def logit_gradient(self, xb: np.ndarray, class_index: int) -> tuple[np.ndarray, np.ndarray]:
        """(d logit[class] / d input, logit[class]) for a batch N x H x W x C: N x H x W x C
        and N values, from one forward and backward pass per chunk."""
        c = int(class_index)
        if not 0 <= c < self.n_classes:
            raise ValueError(f"class_index must be 0..{self.n_classes - 1}, got {class_index}.")
        xb = np.asarray(xb, dtype=np.float32)
        ct = tf.constant(c, tf.int32)
        grads, scores = [], []
        for part in self._chunks(xb):
            g, z = self._grad(tf.constant(part), ct)
            grads.append(g.numpy())
            scores.append(z.numpy())
        return np.concatenate(grads), np.concatenate(scores)


_SCORERS: "weakref.WeakKeyDictionary[keras.Model, Scorer]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def get_scorer(model) -> Scorer:
    """The Scorer of a model or Probe (built on first use, then reused)."""
    p = probe.get_probe(model)
    with _LOCK:
        s = _SCORERS.get(p.model)
        if s is None:
            s = _SCORERS[p.model] = Scorer(p)
        return s


def logits(model, x) -> np.ndarray:
    """The class logits (pre-softmax scores, see cnnviz.class_score) of one image H x W x C
    (-> n_classes) or a batch N x H x W x C (-> N x n_classes)."""
    p = probe.get_probe(model)
    s = get_scorer(p)
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == len(p.input_shape) + 1 and arr.shape[1:] == p.input_shape:
        if not np.all(np.isfinite(arr)):
            raise ValueError("The images hold NaN or infinite values.")
        return s.scores(arr)[0]
    return s.scores(p.check_input(arr))[0][0]
