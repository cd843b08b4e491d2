"""The class score that every "why" method and view explains: the class's logit, the input of
the softmax. One definition, found the same way for every model (first match wins):

  1. the model ends in a Softmax layer (or Activation("softmax")): the logits are that layer's
     input (every cnnviz architecture: a "logits" Dense, then a Softmax);
  2. the model ends in a Dense(..., activation="softmax") (every network built on /train, most
     people's own models): the logits are that layer's pre-activation, its input @ kernel + bias,
     computed from the layer's own weights;
  3. otherwise the model's output (a model without a softmax already outputs scores).

    from cnnviz import class_score
    score = class_score.find(model)
    score.describe(3)    # 'the logit of class 3: the input of the softmax ("probabilities")'

A Sequential model is read through model_graph.as_functional.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from cnnviz.model_graph import as_functional, producers



def is_softmax(fn) -> bool:
    """True for Keras's softmax activation function."""
    return getattr(fn, "__name__", "") == "softmax"


def ends_in_softmax(layer) -> bool:
    """True for a Softmax layer, an Activation("softmax") or a Dense(..., activation="softmax")."""
    return _is_softmax_layer(layer) or (isinstance(layer, keras.layers.Dense) and is_softmax(layer.activation))


def _is_softmax_layer(layer) -> bool:
    return isinstance(layer, keras.layers.Softmax) or (
        isinstance(layer, keras.layers.Activation) and is_softmax(layer.activation))


@dataclass(frozen=True)
class ClassScore:
    """Where a model's logits are.

    source: the layer whose output is the logits, or (with head) the layer whose output the
    head turns into the logits. head: the final Dense(..., softmax) whose kernel and bias make
    the logits from source's output, or None. layer: the layer the page calls the class scores
    (head's name when there is a head, else source). where: how the page names the logits.
    """
    source: str
    layer: str
    where: str
    head: Any = None

    def logits(self, source_output):
        """The logits (batch x classes) from the source layer's output (a tensor)."""
        if self.head is None:
            return source_output
        import tensorflow as tf
        z = tf.matmul(source_output, tf.convert_to_tensor(self.head.kernel))
        return z + tf.convert_to_tensor(self.head.bias) if self.head.use_bias else z

    def describe(self, class_name) -> str:
        """'the logit of class 3: the input of the softmax' (the sentence the pages show)."""
        return f"the logit of {class_name}: {self.where}"


def find(model: keras.Model) -> ClassScore:
    """The ClassScore of a model (a Sequential one is read through as_functional)."""
    model = as_functional(model)
    last = model.layers[-1]
    before = producers(model)[last.name]
    if _is_softmax_layer(last):
        if before is None:
            raise ValueError(f"{model.name}'s softmax {last.name!r} has no layer before it.")
        return ClassScore(before, before, f"the input of the softmax (“{before}”)")
    if isinstance(last, keras.layers.Dense) and is_softmax(last.activation):
        if before is None:
            raise ValueError(f"{model.name}'s output layer {last.name!r} has no layer before it.")
        return ClassScore(before, last.name, f"the input of the softmax (“{last.name}” before its "
                                             "softmax)", head=last)
    return ClassScore(last.name, last.name, f"the output of “{last.name}” (the model has no softmax)")
