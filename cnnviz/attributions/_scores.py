"""The class scores the attribution methods explain: the logits (pre-softmax) and the
probabilities, for a batch of images, from one compiled graph per model.

Which tensor is "the logit" (first match wins):
  1. the Probe's score layer when it is not the output itself: a layer named "logits"
     (every cnnviz architecture has one, followed by a Softmax layer);
  2. the input of a final Softmax layer (or Activation("softmax"));
  3. the pre-activation of a final Dense(..., activation="softmax") (the builder's output
     layer): its input @ kernel + bias, computed here from the layer's own weights;
  4. otherwise the model's output (a model that does not end in a softmax already
     outputs scores).
"""
from __future__ import annotations

import threading
import weakref

import keras
import numpy as np
import tensorflow as tf

from cnnviz import probe


def _is_softmax_fn(fn) -> bool:
    return getattr(fn, "__name__", "") == "softmax"


class Scorer:
    """Logits and probabilities of a batch, and d logit[class] / d input, for one model."""

    #: Images per compiled call (a fixed shape, so a graph sees one shape only).
    CHUNK = 32

    def __init__(self, p: probe.Probe):
        # Nothing here refers to the model object itself (only to its layers), so that the
        # weakly keyed cache below does not keep a model alive.
        model = p.model
        self.input_shape = p.input_shape
        self.n_classes = int(model.outputs[0].shape[-1])
        last = model.layers[-1]
        self._head_kernel = self._head_bias = None
        if p.score_layer != last.name:
            self.logit_source = p.score_layer
            logit_tensor = model.get_layer(p.score_layer).output
        elif isinstance(last, keras.layers.Softmax) or (
                isinstance(last, keras.layers.Activation) and _is_softmax_fn(last.activation)):
            self.logit_source = f"input of {last.name}"
            logit_tensor = last.input
        elif isinstance(last, keras.layers.Dense) and _is_softmax_fn(last.activation):
            self.logit_source = f"{last.name} before its softmax"
            logit_tensor = last.input                      # the head below finishes the layer
            self._head_kernel = last.kernel
            self._head_bias = last.bias if last.use_bias else None
        else:
            self.logit_source = last.name
            logit_tensor = model.outputs[0]
        self._graph = keras.Model(model.inputs, [logit_tensor, model.outputs[0]],
                                  name=f"{model.name}_scores")
        spec = tf.TensorSpec((None, *p.input_shape), tf.float32)
        self._scores = tf.function(self._scores_impl, input_signature=[spec])
        self._grad = tf.function(self._grad_impl, input_signature=[spec, tf.TensorSpec((), tf.int32)])

    def _logits_probs(self, x):
        z, probs = self._graph([x], training=False)
        if self._head_kernel is not None:
            z = tf.matmul(z, tf.convert_to_tensor(self._head_kernel))
            if self._head_bias is not None:
                z = z + tf.convert_to_tensor(self._head_bias)
        return z, probs

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
        for i in range(0, len(xb), self.CHUNK):
            yield xb[i:i + self.CHUNK]

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
        and N values, from one forward and backward pass per chunk. (Probe.input_gradient
        gives the gradient alone, of the Probe's score, which is the probability for a model
        without a separate logits layer: hence this graph of its own.)"""
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
    """The class logits (pre-softmax scores, see the module notes) of one image H x W x C
    (-> n_classes) or a batch N x H x W x C (-> N x n_classes)."""
    p = probe.get_probe(model)
    s = get_scorer(p)
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == len(p.input_shape) + 1 and arr.shape[1:] == p.input_shape:
        if not np.all(np.isfinite(arr)):
            raise ValueError("The images hold NaN or infinite values.")
        return s.scores(arr)[0]
    return s.scores(p.check_input(arr))[0][0]
