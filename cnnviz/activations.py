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


def _as_float(x) -> Array:
    """x as a float array, at least float32 (NumPy's promotion: float64 and int32/int64 give float64)."""
    return np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float32))


# ---------------------------------------------------------------- the functions
def sigmoid(x) -> Array:
    """1 / (1 + e^-x), computed without overflow for large |x|."""
    x = _as_float(x)
    e = np.exp(-np.abs(x))            # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype)


def d_sigmoid(x) -> Array:
    s = sigmoid(x)
    return s * (1.0 - s)


def relu(x) -> Array:
    x = _as_float(x)
    return np.maximum(x, 0).astype(x.dtype)


def d_relu(x) -> Array:
    x = _as_float(x)
    return (x > 0).astype(x.dtype)    # 0 at x = 0, like TensorFlow's ReluGrad


def tanh(x) -> Array:
    return np.tanh(_as_float(x))


def d_tanh(x) -> Array:
    t = np.tanh(_as_float(x))
    return 1.0 - t * t


def softplus(x) -> Array:
    """ln(1 + e^x) = logaddexp(0, x): stable for any x."""
    x = _as_float(x)
    return np.logaddexp(np.zeros((), x.dtype), x)


def d_softplus(x) -> Array:
    """The derivative of softplus is the logistic function (sigmoid)."""
    return sigmoid(x)


def leaky_relu(x, negative_slope: float = LEAKY_RELU_SLOPE) -> Array:
    x = _as_float(x)
    return np.where(x > 0, x, negative_slope * x).astype(x.dtype)


def d_leaky_relu(x, negative_slope: float = LEAKY_RELU_SLOPE) -> Array:
    x = _as_float(x)
    return np.where(x > 0, 1.0, negative_slope).astype(x.dtype)


def elu(x, alpha: float = ELU_ALPHA) -> Array:
    x = _as_float(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype)


def d_elu(x, alpha: float = ELU_ALPHA) -> Array:
    x = _as_float(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)


def _normal_cdf(x: Array) -> Array:
    """Phi(x) = erfc(-x / sqrt 2) / 2, accurate in both tails."""
    return (0.5 * _erfc(-x / _SQRT2).astype(np.float64)).astype(x.dtype)


def gelu(x) -> Array:
    """Exact GELU, x * Phi(x) (keras.activations.gelu with approximate=False)."""
    x = _as_float(x)
    return x * _normal_cdf(x)


def d_gelu(x) -> Array:
    x = _as_float(x)
    pdf = (_INV_SQRT_2PI * np.exp(-0.5 * x.astype(np.float64) ** 2)).astype(x.dtype)
    return _normal_cdf(x) + x * pdf


def silu(x) -> Array:
    """x * sigmoid(x), also called swish."""
    x = _as_float(x)
    return x * sigmoid(x)


def d_silu(x) -> Array:
    x = _as_float(x)
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
MAX_WEIGHTS = 1 << 24
"""Most hidden weights (depth x width^2, 64 MB of float32) one experiment may draw."""
MAX_WORK = 1 << 31
"""Most multiply-adds (depth x batch x width^2) of one forward pass (the backward costs 2x)."""
MAX_SEED = 1_000_000
_compiled: dict[str, Callable] = {}


def _compiled_norms(activation: str) -> Callable:
    """One tf.function per activation, traced once for every depth, width and batch.

    Its inputs are tensors (the batch, the labels, the hidden kernels stacked as
    (depth, width, width), the head's kernel), so a new seed or size never traces again
    and nothing is kept per seed (a Keras model per seed would take about 10 MB each, with
    no plateau), and no lock makes visitors wait for each other.
    """
    fn = _compiled.get(activation)
    if fn is not None:
        return fn
    import keras  # lazily: TensorFlow costs seconds to import
    import tensorflow as tf

    act = keras.activations.get(activation)   # what Dense(activation=name) applies

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32),
                                  tf.TensorSpec([None], tf.int32),
                                  tf.TensorSpec([None, None, None], tf.float32),
                                  tf.TensorSpec([None, N_CLASSES], tf.float32)])
    def norms(x, y, kernels, head):
        with tf.GradientTape() as tape:
            tape.watch(kernels)
            # Dense(width, activation) layer by layer; the biases are zeros and add nothing
            h = tf.foldl(lambda h, kernel: act(tf.matmul(h, kernel)), kernels, initializer=x)
            logits = tf.matmul(h, head)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        grads = tape.gradient(loss, kernels)
        return tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2]))

    return _compiled.setdefault(activation, norms)


_last_draw = threading.local()


def _draw_weights(initializer: str, seed: int, depth: int, width: int):
    """The kernels Keras gives Dense layer i with `initializer(seed=seed * 1000 + i)`:
    hidden ones stacked (depth, width, width), then the head's (width, 10).

    A page compares several activations on the same weights, one call each: the thread's last
    draw is kept (it goes with the thread) and handed out again for the same arguments, instead
    of drawing up to MAX_WEIGHTS numbers again per activation."""
    key = (initializer, seed, depth, width)
    if getattr(_last_draw, "key", None) == key:
        return _last_draw.value
    _last_draw.key, _last_draw.value = None, None     # free the old draw before making a new one
    value = _draw_fresh(initializer, seed, depth, width)
    _last_draw.key, _last_draw.value = key, value
    return value


def _draw_fresh(initializer: str, seed: int, depth: int, width: int):
    import keras
    import tensorflow as tf

    def draw(i: int, shape: tuple[int, int]):
        init = keras.initializers.get({"class_name": initializer, "config": {"seed": seed * 1000 + i}})
        return init(shape, dtype="float32")

    kernels = tf.stack([draw(i, (width, width)) for i in range(depth)])
    return kernels, draw(depth, (width, N_CLASSES))


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

    The same arguments always give the same numbers, the ones a Keras model built
    that way gives (tests/test_activations.py). No model is built: the weights are
    drawn with the Keras initializers and one compiled function per activation does
    the pass, so the cost of a call is bounded (MAX_WEIGHTS, MAX_WORK) and nothing is
    kept per seed; calls from several threads run side by side.
    """
    key = ALIASES.get(activation, activation)
    if key not in FUNCTIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(FUNCTIONS)}")
    if initializer not in INITIALIZERS:
        raise ValueError(f"unknown initializer {initializer!r}; known: {', '.join(INITIALIZERS)}")
    for name, value, lo, hi in (("depth", depth, 1, 100), ("width", width, 1, 1024),
                                ("batch", batch, 1, 4096), ("seed", seed, 0, MAX_SEED)):
        if not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
            raise ValueError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}")
    depth, width, batch, seed = int(depth), int(width), int(batch), int(seed)
    if depth * width * width > MAX_WEIGHTS:
        raise ValueError(f"{depth} layers of {width} units hold {depth * width * width:,} weights; "
                         f"at most {MAX_WEIGHTS:,}: use fewer or narrower layers")
    if depth * batch * width * width > MAX_WORK:
        raise ValueError(f"{depth} layers of {width} units on a batch of {batch} is too much work "
                         f"for one request: use fewer or narrower layers or a smaller batch")
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = tf.constant(rng.standard_normal((batch, width)).astype(np.float32))
    y = tf.constant(rng.integers(0, N_CLASSES, batch).astype(np.int32))
    kernels, head = _draw_weights(initializer, seed, depth, width)
    return _compiled_norms(key)(x, y, kernels, head).numpy().astype(np.float64)
