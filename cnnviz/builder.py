"""Layer specs -> Keras models: the model a spec list describes, and Keras's own shapes and counts.

    specs = [layer_specs.Conv2D(8, 3, activation="relu"), layer_specs.MaxPooling2D(2), layer_specs.Flatten()]
    summary = builder.validate(specs, (28, 28, 1), 10)   # shapes and parameter counts from Keras
    print(spec_code.keras_code(specs, (28, 28, 1), 10))  # the same network as Sequential code

``validate`` first checks everything spec_check.check can check by arithmetic (types, ranges,
output sizes, parameter totals) and only then builds the model, so a hostile spec costs no
memory. The numbers it reports are read back from the Keras model.
"""
from __future__ import annotations

import math

import keras
from keras import layers

from cnnviz.layer_specs import (MAX_PARAMS, Activation, AveragePooling2D, BuildError, Conv2D, Dense, Dropout,
                                MaxPooling2D, kind, layer_names)
from cnnviz.spec_check import LayerRow, Summary, check


def _initializer(name: str, seed: int | None):
    init = keras.initializers.get(name)
    if seed is not None and "seed" in init.get_config():
        init = type(init).from_config({**init.get_config(), "seed": seed})
    return init


def keras_layer(spec, name: str, seed: int | None):
    """The Keras layer of one spec; `seed` (or None) seeds its initializer and dropout."""
    if isinstance(spec, Conv2D):
        reg = spec.kernel_regularizer
        return layers.Conv2D(spec.filters, spec.kernel_size, strides=spec.strides, padding=spec.padding,
                             dilation_rate=spec.dilation_rate, activation=spec.activation,
                             use_bias=spec.use_bias,
                             kernel_initializer=_initializer(spec.kernel_initializer, seed),
                             kernel_regularizer=None if reg is None else keras.regularizers.L2(reg),
                             name=name)
    if isinstance(spec, (MaxPooling2D, AveragePooling2D)):
        cls = getattr(layers, kind(spec))
        return cls(spec.pool_size, strides=spec.strides, padding=spec.padding, name=name)
    if isinstance(spec, Dense):
        return layers.Dense(spec.units, activation=spec.activation,
                            kernel_initializer=_initializer("glorot_uniform", seed), name=name)
    if isinstance(spec, Dropout):
        return layers.Dropout(spec.rate, seed=seed, name=name)
    if isinstance(spec, Activation):
        return layers.Activation(spec.activation, name=name)
    return getattr(layers, kind(spec))(name=name)   # BatchNormalization, Flatten, GlobalAveragePooling2D


def build(specs, input_shape, n_classes: int, seed: int | None = None,
          max_params: int = MAX_PARAMS) -> keras.Model:
    """The Sequential model of ``specs`` plus the output ``Dense(n_classes, softmax)``.

    Runs :func:`check` first. ``seed`` makes the initial weights (and dropout masks) repeatable;
    each layer gets ``seed + position`` so layers differ. Nothing global is seeded.
    """
    check(specs, input_shape, n_classes, max_params)
    specs = [*specs, Dense(n_classes, "softmax")]
    model = keras.Sequential(name="built_cnn")
    model.add(keras.Input(shape=tuple(input_shape)))
    names = layer_names(specs[:-1]) + ["output"]
    for i, (spec, name) in enumerate(zip(specs, names), start=1):
        try:
            model.add(keras_layer(spec, name, None if seed is None else seed + i))
        except ValueError as e:   # a case check() missed: still name the layer
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise BuildError(i, f"Layer {i} ({kind(spec)}): Keras refused it: {reason}") from e
    return model


def validate(specs, input_shape, n_classes: int, max_params: int = MAX_PARAMS) -> Summary:
    """Check ``specs`` (cheaply first), build the model and read its shapes and parameter counts.

    The rows are one per spec and then the output layer; shapes and counts are Keras's own
    (``layer.output.shape`` without the batch axis, ``layer.count_params()``).
    """
    check(specs, input_shape, n_classes, max_params)
    model = build(specs, input_shape, n_classes, max_params=max_params)
    kinds = [kind(s) for s in specs] + ["Dense"]
    rows = tuple(LayerRow(layer.name, k, tuple(int(n) for n in layer.output.shape[1:]),
                          int(layer.count_params()))
                 for layer, k in zip(model.layers, kinds))
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return Summary(rows, int(model.count_params()), int(trainable))
