"""Named CNN architectures built for being looked at, and the pretrained models.

Every layer has a readable name (conv1, bn1, relu1, pool1, ...), activations
are separate layers so a map can be seen before and after ReLU, and no layer
has more than 128 channels (a mosaic of 128 maps still fits on a page).
"""
from __future__ import annotations

import json
import pathlib

import keras
from keras import layers

from cnnviz import architectures, builder, data, layer_specs, resources

#: The folder of the shipped models (name.keras) and their model cards (name.json).
PRETRAINED_DIR = resources.pretrained_dir()


def _named(name: str, specs, input_shape, n_classes: int) -> keras.Model:
    """The functional model of an architecture with the explorer's layer names and a separate
    logits layer: conv1, bn1, relu1, ..., pool1, ..., flatten, dropout1, dense1, relu_dense1,
    dropout2, then logits and softmax. ReLU activations are ReLU layers."""
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    count = {"conv": 0, "pool": 0, "dropout": 0, "dense": 0}
    for spec in specs:
        if isinstance(spec, layer_specs.Activation):
            if spec.activation != "relu":
                raise ValueError(f"{name}: only ReLU activations have an explorer name, not {spec.activation}")
            x = layers.ReLU(name=f"relu_dense{count['dense']}" if count["dense"] else f"relu{count['conv']}")(x)
            continue
        if isinstance(spec, layer_specs.BatchNormalization):
            layer_name = f"bn{count['conv']}"
        elif isinstance(spec, layer_specs.Flatten):
            layer_name = "flatten"
        else:
            key = {layer_specs.Conv2D: "conv", layer_specs.MaxPooling2D: "pool", layer_specs.Dropout: "dropout",
                   layer_specs.Dense: "dense"}[type(spec)]
            count[key] += 1
            layer_name = f"{key}{count[key]}"
        x = builder.keras_layer(spec, layer_name, seed=None)(x)
    x = layers.Dense(n_classes, name="logits")(x)
    return keras.Model(inputs, layers.Softmax(name="softmax")(x), name=name)


def digits_cnn(input_shape=(28, 28, 1), n_classes: int = 10) -> keras.Model:
    """Two conv-conv-pool blocks (32 and 64 channels), a 128-unit dense layer.

    For 28x28 grayscale digits or clothes: 7x7x64 features after two poolings, then a 3x3
    convolution without padding (7x7 -> 5x5) keeps the dense layer small.
    """
    return _named("digits_cnn", architectures.PRESETS["digits_cnn"], input_shape, n_classes)


def small_vgg(input_shape=(32, 32, 3), n_classes: int = 10) -> keras.Model:
    """Three conv-conv-pool blocks of 32, 64 and 64 channels: quick to train, underfits CIFAR-10."""
    return _named("small_vgg", architectures.PRESETS["small_vgg"], input_shape, n_classes)


def wide_vgg(input_shape=(32, 32, 3), n_classes: int = 10) -> keras.Model:
    """Three conv-conv-pool blocks of 32, 64 and 128 channels: the shipped CIFAR-10 network."""
    return _named("wide_vgg", architectures.PRESETS["wide_vgg"], input_shape, n_classes)


ARCHITECTURES = {"digits_cnn": digits_cnn, "small_vgg": small_vgg, "wide_vgg": wide_vgg}
DEFAULT_ARCH = {k: "wide_vgg" if len(d.image_shape) == 3 else "digits_cnn"   # photos: the deeper net
                for k, d in data.TABLE.items()}
INPUT_SHAPES = {k: d.image_shape if len(d.image_shape) == 3 else (*d.image_shape, 1)
                for k, d in data.TABLE.items()}   # what the networks take: always a channel axis


def build(arch: str, dataset: str) -> keras.Model:
    if arch not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}.")
    return ARCHITECTURES[arch](INPUT_SHAPES[dataset])


def _read_cards() -> dict[str, dict]:
    cards = {}
    for card in sorted(PRETRAINED_DIR.glob("*.json")):
        if card.with_suffix(".keras").is_file():
            cards[card.stem] = json.loads(card.read_text())
    return cards


PRETRAINED: dict[str, dict] = _read_cards()
"""Pretrained model name -> its model card (dataset, accuracy, ...)."""


def model_path(name: str) -> pathlib.Path:
    if name not in PRETRAINED:
        raise KeyError(f"No pretrained model {name!r} in {PRETRAINED_DIR}; "
                       f"available: {', '.join(PRETRAINED) or 'none'}.")
    return PRETRAINED_DIR / f"{name}.keras"


def load_pretrained(name: str) -> keras.Model:
    """Load a shipped model (safe_mode, no custom code) and warm it with one call."""
    model = keras.models.load_model(model_path(name), compile=False, safe_mode=True)
    model(keras.ops.zeros((1, *model.input_shape[1:])), training=False)
    return model
