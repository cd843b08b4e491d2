"""Activation functions, their derivatives, and the vanishing-gradient experiment.

``FUNCTIONS[name]`` is a pair ``(f, df)`` of NumPy functions that match
``keras.activations.<name>`` and the derivative TensorFlow's autodiff gives
(checked in tests/test_activations.py), including at the kinks:

* relu'(0) = 0 and leaky_relu'(0) = the negative slope, as in TensorFlow;
* leaky_relu uses ``keras.activations.leaky_relu``'s default slope, 0.2
  (note: the *layer* ``keras.layers.LeakyReLU`` defaults to 0.3);
* gelu is the exact form, 0.5 x (1 + erf(x / sqrt 2)), because
  ``keras.activations.gelu`` defaults to ``approximate=False``.

The NumPy part never imports TensorFlow. ``gradient_norms`` does, lazily,
inside the function, so ``import cnnviz.activations`` stays light.
"""
from __future__ import annotations

import math
import threading
from typing import Callable

import numpy as np

Array = np.ndarray
Fn = Callable[[Array], Array]

LEAKY_RELU_SLOPE = 0.2   # keras.activations.leaky_relu default (Keras 3)
ELU_ALPHA = 1.0          # keras.activations.elu default
SATURATION_THRESHOLD = 0.01  # |f'(x)| below this counts as "saturated" on the page

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _f(x) -> Array:
    return np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float32))


# ---------------------------------------------------------------- the functions
def sigmoid(x) -> Array:
    """1 / (1 + e^-x), computed without overflow for large |x|."""
    x = _f(x)
    e = np.exp(-np.abs(x))            # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype)


def d_sigmoid(x) -> Array:
    s = sigmoid(x)
    return s * (1.0 - s)


def relu(x) -> Array:
    x = _f(x)
    return np.maximum(x, 0).astype(x.dtype)


def d_relu(x) -> Array:
    x = _f(x)
    return (x > 0).astype(x.dtype)    # 0 at x = 0, like TensorFlow's ReluGrad


def tanh(x) -> Array:
    return np.tanh(_f(x))


def d_tanh(x) -> Array:
    t = np.tanh(_f(x))
    return 1.0 - t * t


def softplus(x) -> Array:
    """ln(1 + e^x) = logaddexp(0, x): stable for any x."""
    x = _f(x)
    return np.logaddexp(np.zeros((), x.dtype), x)


def d_softplus(x) -> Array:
    """The derivative of softplus is the logistic function (sigmoid)."""
    return sigmoid(x)


def leaky_relu(x, negative_slope: float = LEAKY_RELU_SLOPE) -> Array:
    x = _f(x)
    return np.where(x > 0, x, negative_slope * x).astype(x.dtype)


def d_leaky_relu(x, negative_slope: float = LEAKY_RELU_SLOPE) -> Array:
    x = _f(x)
    return np.where(x > 0, 1.0, negative_slope).astype(x.dtype)


def elu(x, alpha: float = ELU_ALPHA) -> Array:
    x = _f(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype)


def d_elu(x, alpha: float = ELU_ALPHA) -> Array:
    x = _f(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)


def _normal_cdf(x: Array) -> Array:
    """Phi(x) = erfc(-x / sqrt 2) / 2, accurate in both tails."""
    return (0.5 * _erfc(-x / _SQRT2).astype(np.float64)).astype(x.dtype)


def gelu(x) -> Array:
    """Exact GELU, x * Phi(x) (keras.activations.gelu with approximate=False)."""
    x = _f(x)
    return x * _normal_cdf(x)


def d_gelu(x) -> Array:
    x = _f(x)
    pdf = (_INV_SQRT_2PI * np.exp(-0.5 * x.astype(np.float64) ** 2)).astype(x.dtype)
    return _normal_cdf(x) + x * pdf


def silu(x) -> Array:
    """x * sigmoid(x), also called swish."""
    x = _f(x)
    return x * sigmoid(x)


def d_silu(x) -> Array:
    x = _f(x)
    s = sigmoid(x)
    return s + x * s * (1.0 - s)


FUNCTIONS: dict[str, tuple[Fn, Fn]] = {
    "relu": (relu, d_relu),
    "sigmoid": (sigmoid, d_sigmoid),
    "tanh": (tanh, d_tanh),
    "softplus": (softplus, d_softplus),
    "leaky_relu": (leaky_relu, d_leaky_relu),
    "elu": (elu, d_elu),
    "gelu": (gelu, d_gelu),
    "silu": (silu, d_silu),
}
ALIASES = {"swish": "silu"}
LABELS = {
    "relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "softplus": "softplus",
    "leaky_relu": "leaky ReLU", "elu": "ELU", "gelu": "GELU", "silu": "swish / SiLU",
}


def get(name: str) -> tuple[Fn, Fn]:
    """(f, df) for an activation name (Keras spelling; 'swish' is accepted for 'silu')."""
    key = ALIASES.get(name, name)
    if key not in FUNCTIONS:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(FUNCTIONS)}")
    return FUNCTIONS[key]


def saturated(df_values: Array, threshold: float = SATURATION_THRESHOLD) -> Array:
    """Boolean mask of where |f'(x)| < threshold (the function is nearly flat there)."""
    return np.abs(np.asarray(df_values)) < threshold


def saturated_intervals(x: Array, df_values: Array,
                        threshold: float = SATURATION_THRESHOLD) -> list[tuple[float, float]]:
    """The x-intervals (on a sorted grid) where |f'(x)| < threshold, as (start, end) pairs."""
    x = np.asarray(x, dtype=float)
    mask = saturated(df_values, threshold)
    out: list[tuple[float, float]] = []
    start = None
    for i, flag in enumerate(mask):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            out.append((float(x[start]), float(x[i - 1])))
            start = None
    if start is not None:
        out.append((float(x[start]), float(x[-1])))
    return out


# ---------------------------------------------------- vanishing-gradient experiment
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                "lecun_normal", "random_normal")
N_CLASSES = 10
_cache: dict[tuple, Callable[[], Array]] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 64


def _build_experiment(activation: str, depth: int, width: int, initializer: str,
                      seed: int, batch: int) -> Callable[[], Array]:
    import keras  # lazily: TensorFlow costs seconds to import
    import tensorflow as tf

    def init(i: int):
        return keras.initializers.get({"class_name": initializer, "config": {"seed": seed * 1000 + i}})

    hidden = [keras.layers.Dense(width, activation=activation, kernel_initializer=init(i),
                                 name=f"dense_{i + 1}") for i in range(depth)]
    head = keras.layers.Dense(N_CLASSES, kernel_initializer=init(depth), name="head")
    model = keras.Sequential([keras.Input((width,)), *hidden, head])
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.standard_normal((batch, width)).astype(np.float32))
    y = tf.constant(rng.integers(0, N_CLASSES, batch).astype(np.int32))
    kernels = [layer.kernel for layer in hidden]

    @tf.function
    def norms():
        with tf.GradientTape() as tape:
            logits = model(x, training=False)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        grads = tape.gradient(loss, kernels)
        return tf.stack([tf.norm(g) for g in grads])

    return lambda: norms().numpy().astype(np.float64)


def gradient_norms(activation: str, depth: int, width: int, seed: int = 0,
                   initializer: str = "glorot_uniform", batch: int = 64) -> Array:
    """Per-layer gradient norms in a deep stack of Dense layers after one backward pass.

    The network: ``depth`` keras Dense(width, activation) layers, then a linear
    Dense(10) head; weights from ``initializer`` (seeded), biases zero. One batch
    of ``batch`` standard-normal inputs with random labels (0-9, seeded) goes
    forward; the loss is the mean softmax cross-entropy. Returned: for each
    hidden layer, input side first, the Frobenius norm of dLoss/dW (the
    gradient w.r.t. that layer's weight matrix), shape (depth,). This is what
    the optimiser uses to update the layer, so a tiny norm means a layer that
    barely learns.

    The same arguments always give the same numbers. The built model is cached
    per (activation, depth, width, initializer, seed, batch); it is never trained.
    """
    key = ALIASES.get(activation, activation)
    if key not in FUNCTIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(FUNCTIONS)}")
    if initializer not in INITIALIZERS:
        raise ValueError(f"unknown initializer {initializer!r}; known: {', '.join(INITIALIZERS)}")
    for name, value, lo, hi in (("depth", depth, 1, 100), ("width", width, 1, 1024),
                                ("batch", batch, 1, 4096)):
        if not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
            raise ValueError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}")
    cache_key = (key, int(depth), int(width), initializer, int(seed), int(batch))
    with _cache_lock:
        run = _cache.get(cache_key)
        if run is None:
            if len(_cache) >= _CACHE_MAX:
                _cache.pop(next(iter(_cache)))
            run = _build_experiment(key, int(depth), int(width), initializer, int(seed), int(batch))
            _cache[cache_key] = run
    return run()
