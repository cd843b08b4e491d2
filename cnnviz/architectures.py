"""Ready-made networks as layer specs: the one definition of each architecture (TensorFlow-free).

The builder (the /train page, ``python -m cnnviz train --arch``) builds any of them as a
Sequential model with the output ``Dense(n_classes, softmax)``; cnnviz.models builds digits_cnn,
small_vgg and wide_vgg from the same specs with the explorer's layer names (conv1, bn1, relu1,
pool1, ..., logits, softmax).
"""
from __future__ import annotations

from cnnviz.layer_specs import (Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                                MaxPooling2D)


def _conv_bn_relu(filters: int) -> tuple:
    """conv (no bias) -> batch norm -> ReLU."""
    return (Conv2D(filters, 3, padding="same", use_bias=False), BatchNormalization(), Activation("relu"))


_HEAD = (Flatten(), Dropout(0.3), Dense(128), Activation("relu"), Dropout(0.3))   # the classifier's head

#: Ready-made networks (the output Dense(n_classes, softmax) is added by the builder).
PRESETS: dict[str, tuple] = {
    # Two small convolutions: about 13,000 parameters, past 98 % on MNIST in two epochs.
    "tiny": (Conv2D(16, 3, activation="relu"), MaxPooling2D(2),
             Conv2D(32, 3, activation="relu"), MaxPooling2D(2), Flatten()),
    "lenet5": (Conv2D(6, 5, padding="same", activation="tanh"), AveragePooling2D(2),
               Conv2D(16, 5, activation="tanh"), AveragePooling2D(2), Flatten(),
               Dense(120, "tanh"), Dense(84, "tanh")),
    "digits_cnn": (*_conv_bn_relu(32), *_conv_bn_relu(32), MaxPooling2D(2),
                   *_conv_bn_relu(64), *_conv_bn_relu(64), MaxPooling2D(2),
                   Conv2D(64, 3), Activation("relu"), *_HEAD),
    "small_vgg": (*_conv_bn_relu(32), *_conv_bn_relu(32), MaxPooling2D(2),
                  *_conv_bn_relu(64), *_conv_bn_relu(64), MaxPooling2D(2),
                  *_conv_bn_relu(64), *_conv_bn_relu(64), MaxPooling2D(2), *_HEAD),
    "wide_vgg": (*_conv_bn_relu(32), *_conv_bn_relu(32), MaxPooling2D(2),
                 *_conv_bn_relu(64), *_conv_bn_relu(64), MaxPooling2D(2),
                 *_conv_bn_relu(128), *_conv_bn_relu(128), MaxPooling2D(2), *_HEAD),
    # Eight sigmoid convolutions: the gradient reaching the first layers all but vanishes.
    "deep_sigmoid": (*[Conv2D(16, 3, padding="same", activation="sigmoid")] * 3, MaxPooling2D(2),
                     *[Conv2D(16, 3, padding="same", activation="sigmoid")] * 3, MaxPooling2D(2),
                     *[Conv2D(16, 3, padding="same", activation="sigmoid")] * 2, Flatten()),
}
