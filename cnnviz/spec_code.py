"""A network's layer specs as the Keras code the lesson writes (``keras.Sequential``), TensorFlow-free.
"""
from __future__ import annotations

import dataclasses
import math

from cnnviz.layer_specs import (Activation, AveragePooling2D, Conv2D, Dense, Dropout, MaxPooling2D,
                                kind)
from cnnviz.spec_check import check


def _pair(n: int) -> str:
    return f"({n}, {n})"


def _arguments(spec) -> list[str]:
    """The arguments of the layer's call in Keras code: defining sizes always, others if not default."""
    args = []
    if isinstance(spec, Conv2D):
        args += [str(spec.filters), _pair(spec.kernel_size)]
    elif isinstance(spec, (MaxPooling2D, AveragePooling2D)):
        args.append(_pair(spec.pool_size))
    elif isinstance(spec, Dense):
        args.append(str(spec.units))
    elif isinstance(spec, Dropout):
        args.append(repr(float(spec.rate)))
    elif isinstance(spec, Activation):
        args.append(f'"{spec.activation}"')
    positional = {"filters", "kernel_size", "pool_size", "units", "rate"} | (
        {"activation"} if isinstance(spec, Activation) else set())
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if f.name in positional or value == f.default:
            continue
        if f.name in ("strides", "dilation_rate"):
            text = _pair(value)
        elif f.name == "kernel_regularizer":
            text = f"keras.regularizers.L2({float(value)!r})"
        elif isinstance(value, str):
            text = f'"{value}"'
        else:
            text = repr(value)
        args.append(f"{f.name}={text}")
    return args


def keras_code(specs, input_shape, n_classes: int) -> str:
    """The network as the lesson writes it: ``keras.Sequential()`` and one ``model.add`` per layer.

    Raises BuildError for the same problems as :func:`check` (with no parameter limit).
    """
    check(specs, input_shape, n_classes, max_params=math.inf)
    lines = ["import keras", "from keras import layers", "", "model = keras.Sequential()",
             f"model.add(keras.Input(shape={tuple(int(n) for n in input_shape)!r}))"]
    for spec in [*specs, Dense(n_classes, "softmax")]:
        lines.append(f"model.add(layers.{kind(spec)}({', '.join(_arguments(spec))}))")
    return "\n".join(lines) + "\n"
