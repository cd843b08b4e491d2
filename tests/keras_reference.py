"""The vanishing-gradient experiment as it was first written, with a Keras model: the reference.

tests/test_activations.py checks cnnviz.activations.gradient_norms against it;
benchmarks/bench_bounded.py times it (and the memory a cache of such models held).
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from cnnviz import activations


def keras_experiment(activation, depth, width, seed, initializer="glorot_uniform", batch=64):
    """(model, norms): `depth` Dense(width, activation) layers and a Dense(10) head, weights from
    `initializer` with seed * 1000 + layer; norms() gives each hidden layer's |dLoss/dW| for one
    seeded batch of standard-normal inputs with random labels."""
    def init(i):
        return keras.initializers.get({"class_name": initializer, "config": {"seed": seed * 1000 + i}})

    hidden = [keras.layers.Dense(width, activation=activation, kernel_initializer=init(i))
              for i in range(depth)]
    model = keras.Sequential([keras.Input((width,)), *hidden,
                              keras.layers.Dense(activations.N_CLASSES, kernel_initializer=init(depth))])
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.standard_normal((batch, width)).astype(np.float32))
    y = tf.constant(rng.integers(0, activations.N_CLASSES, batch).astype(np.int32))
    kernels = [layer.kernel for layer in hidden]

    def norms():
        with tf.GradientTape() as tape:
            logits = model(x, training=False)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        return tf.stack([tf.norm(g) for g in tape.gradient(loss, kernels)])

    return model, norms
