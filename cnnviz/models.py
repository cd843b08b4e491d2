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

from cnnviz import data, resources

#: The folder of the shipped models (name.keras) and their model cards (name.json).
PRETRAINED_DIR = resources.pretrained_dir()


def _conv_block(x, n: int, filters: int, batchnorm: bool):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=not batchnorm, name=f"conv{n}")(x)
    if batchnorm:
        x = layers.BatchNormalization(name=f"bn{n}")(x)
    return layers.ReLU(name=f"relu{n}")(x)


def _head(x, units: int, n_classes: int, dropout: float):
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout1")(x)
    x = layers.Dense(units, name="dense1")(x)
    x = layers.ReLU(name="relu_dense1")(x)
    x = layers.Dropout(dropout, name="dropout2")(x)
    x = layers.Dense(n_classes, name="logits")(x)
    return layers.Softmax(name="softmax")(x)


def digits_cnn(input_shape=(28, 28, 1), n_classes: int = 10) -> keras.Model:
    """Two conv-conv-pool blocks (32 and 64 channels), a 128-unit dense layer.

    For 28x28 grayscale digits or clothes: 7x7x64 features after two poolings.
    """
    inputs = keras.Input(input_shape, name="image")
    x = _conv_block(inputs, 1, 32, True)
    x = _conv_block(x, 2, 32, True)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = _conv_block(x, 3, 64, True)
    x = _conv_block(x, 4, 64, True)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Conv2D(64, 3, name="conv5")(x)  # 7x7 -> 5x5, keeps the dense layer small
    x = layers.ReLU(name="relu5")(x)
    return keras.Model(inputs, _head(x, 128, n_classes, 0.3), name="digits_cnn")


def _vgg(name: str, widths, input_shape, n_classes: int) -> keras.Model:
    """VGG-style: one conv-conv-pool block with batch norm per width."""
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    n = 1
    for block, filters in enumerate(widths, start=1):
        for _ in range(2):
            x = _conv_block(x, n, filters, True)
            n += 1
        x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
    return keras.Model(inputs, _head(x, 128, n_classes, 0.3), name=name)


def small_vgg(input_shape=(32, 32, 3), n_classes: int = 10) -> keras.Model:
    """Three conv-conv-pool blocks of 32, 64 and 64 channels: quick to train, underfits CIFAR-10."""
    return _vgg("small_vgg", (32, 64, 64), input_shape, n_classes)


def wide_vgg(input_shape=(32, 32, 3), n_classes: int = 10) -> keras.Model:
    """Three conv-conv-pool blocks of 32, 64 and 128 channels: the shipped CIFAR-10 network."""
    return _vgg("wide_vgg", (32, 64, 128), input_shape, n_classes)


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
