"""A model's layers as a graph: each layer read once, in order, from its Input on.

A Sequential model is rebuilt each time a layer is added, so its layers hold several call
records and their ``input`` / ``output`` tensors are those of the first, partial build. The
Probe and the class score need one clean graph: as_functional gives it (a functional copy of a
Sequential model, the same layers and weights), and producers reads it.
"""
from __future__ import annotations

import keras


def as_functional(model: keras.Model) -> keras.Model:
    """The model as a functional one whose first layer is its Input: a Sequential model is
    rebuilt from fresh copies of its layers holding the same weights (a copy: later training of
    the original does not reach it); a functional model is returned as it is."""
    if not isinstance(model, keras.Sequential):
        return model
    try:
        shape = tuple(model.inputs[0].shape[1:])
    except (AttributeError, ValueError) as e:
        raise ValueError(f"{model.name} has no input shape yet: start it with keras.Input(shape) "
                         "or call it on a picture once.") from e
    names = {layer.name for layer in model.layers}
    input_name = next(n for n in ("input", "image", "input_image", "cnnviz_input") if n not in names)
    inputs = keras.Input(shape, name=input_name)
    x = inputs
    for layer in model.layers:
        copy = type(layer).from_config(layer.get_config())
        x = copy(x)
        copy.set_weights(layer.get_weights())
    return keras.Model(inputs, x, name=model.name)


def producers(model: keras.Model) -> dict[str, str | None]:
    """Each layer's name -> the name of the layer whose output it reads (None for the input and
    for a layer that reads several tensors), from the layers' public input and output tensors
    (a functional model whose layers are each called once: as_functional's)."""
    made_by = {id(layer.output): layer.name for layer in model.layers}
    return {layer.name: (None if isinstance(layer, keras.layers.InputLayer)
                         else made_by.get(id(layer.input))) for layer in model.layers}
