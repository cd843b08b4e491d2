"""cnnviz.activations against keras.activations and TensorFlow's autodiff."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cnnviz import activations as A

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from keras_reference import keras_experiment  # noqa: E402  (after TensorFlow is known to be there)

X = np.concatenate([np.linspace(-60, 60, 1201), [-1e3, -40.5, -1e-9, 0.0, 1e-9, 40.5, 1e3],
                    np.random.default_rng(0).normal(0, 5, 500)]).astype(np.float64)


def keras_fn(name):
    return getattr(keras.activations, name)


@pytest.mark.parametrize("name", list(A.FUNCTIONS))
def test_function_matches_keras(name):
    f, _ = A.FUNCTIONS[name]
    expected = keras.ops.convert_to_numpy(keras_fn(name)(tf.constant(X)))
    got = f(X)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", list(A.FUNCTIONS))
def test_derivative_matches_gradient_tape(name):
    _, df = A.FUNCTIONS[name]
    x = tf.Variable(X)
    with tf.GradientTape() as tape:
        y = keras_fn(name)(x)
    expected = tape.gradient(y, x).numpy()       # elementwise f, so the gradient of sum is f'
    np.testing.assert_allclose(df(X), expected, rtol=1e-6, atol=1e-6)


# Where relu, leaky_relu and elu bend, and numbers around it down to float32's smallest normal
# ones (TensorFlow flushes subnormal float32 numbers, below 1.2e-38, to zero).
KINKS = np.array([0.0, -0.0, 1e-37, -1e-37, 1e-30, -1e-30, 1e-7, -1e-7, 1e-3, -1e-3])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(A.FUNCTIONS))
def test_kinks_and_random_inputs_match_tensorflow(name, dtype):
    """f and f' at the kinks and on random inputs (near 0 and spread out) in float32 and
    float64, against keras.activations (default parameters) and tf.GradientTape."""
    rng = np.random.default_rng(sum(map(ord, name)))
    x = np.concatenate([KINKS, rng.uniform(-1e-4, 1e-4, 100), rng.normal(0, 4, 400)]).astype(dtype)
    f, df = A.FUNCTIONS[name]
    variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = keras_fn(name)(variable)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-6, "atol": 1e-6}
    got_f, got_df = f(x), df(x)
    assert got_f.dtype == dtype and got_df.dtype == dtype
    np.testing.assert_allclose(got_f, y.numpy(), **tol)
    np.testing.assert_allclose(got_df, tape.gradient(y, variable).numpy(), **tol)


def test_float32_inputs_stay_float32_and_no_overflow():
    x = np.array([-1e4, -100, 0, 100, 1e4], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for f, df in A.FUNCTIONS.values():
            assert f(x).dtype == np.float32 and np.all(np.isfinite(f(x)))
            assert np.all(np.isfinite(df(x)))


def test_softplus_derivative_is_the_logistic_function():
    np.testing.assert_array_equal(A.d_softplus(X), A.sigmoid(X))


def test_swish_alias_and_unknown_name():
    assert A.get("swish") is A.FUNCTIONS["silu"]
    with pytest.raises(ValueError, match="unknown activation"):
        A.get("nope")


def test_saturated_intervals():
    x = np.linspace(-10, 10, 2001)
    spans = A.saturated_intervals(x, A.d_sigmoid(x))
    assert len(spans) == 2 and spans[0][0] == -10 and spans[1][1] == 10
    # sigmoid'(x) < 0.01  <=>  |x| > ~4.6
    assert spans[0][1] == pytest.approx(-4.6, abs=0.02) and spans[1][0] == pytest.approx(4.6, abs=0.02)
    assert A.saturated_intervals(x, A.d_relu(x)) == [(-10.0, 0.0)]


def test_importing_activations_does_not_import_tensorflow():
    code = "import sys, cnnviz.activations; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("activation,depth,width,seed,initializer", [
    ("sigmoid", 20, 32, 3, "glorot_uniform"),
    ("relu", 12, 64, 0, "he_normal"),
    ("tanh", 5, 16, 9999, "glorot_normal"),
    ("gelu", 3, 8, 17, "lecun_normal"),
    ("leaky_relu", 4, 16, 5, "he_uniform"),
    ("swish", 6, 16, 2, "random_normal"),
])
@pytest.mark.slow
def test_gradient_norms_match_a_keras_model(activation, depth, width, seed, initializer):
    got = A.gradient_norms(activation, depth, width, seed=seed, initializer=initializer)
    want = keras_experiment(A.ALIASES.get(activation, activation), depth, width, seed, initializer)[1]().numpy()
    assert got.shape == (depth,)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=0)


@pytest.mark.slow
def test_gradient_norms_reproducible_and_vanishing_for_sigmoid():
    a = A.gradient_norms("sigmoid", 20, 32, seed=3)
    b = A.gradient_norms("sigmoid", 20, 32, seed=3)
    assert a.shape == (20,)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, A.gradient_norms("sigmoid", 20, 32, seed=4))
    relu = A.gradient_norms("relu", 20, 32, seed=3)
    # the first layers of the sigmoid stack get vanishingly small gradients
    assert np.all(a[:5] < 1e-3 * relu[:5])
    assert a[0] < 1e-3 * a[-1]


def test_gradient_norms_trace_once_per_activation():
    for seed, depth, width in [(0, 2, 16), (1, 30, 128), (2, 7, 64), (3, 7, 64)]:
        A.gradient_norms("softplus", depth, width, seed=seed)
    assert A._compiled_norms("softplus").experimental_get_tracing_count() == 1


def _rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.slow
def test_new_seeds_keep_memory_flat():
    """Nothing is kept per seed (a Keras model per seed would add ~10 MB each, no plateau)."""
    for seed in range(4):   # warm-up: TensorFlow's kernels, the traced function, allocator pools
        for name in ("sigmoid", "tanh", "relu", "softplus"):
            A.gradient_norms(name, 30, 128, seed=seed)
    before = _rss_mb()
    for seed in range(100, 132):   # 32 seeds not seen before
        for name in ("sigmoid", "tanh", "relu", "softplus"):
            A.gradient_norms(name, 30, 128, seed=seed)
    growth = _rss_mb() - before
    assert growth < 50, f"RSS grew {growth:.0f} MB over 32 new seeds"


def test_gradient_norms_refuse_oversized_work():
    with pytest.raises(ValueError, match="weights"):
        A.gradient_norms("relu", 100, 1024)
    with pytest.raises(ValueError, match="too much work"):
        A.gradient_norms("relu", 16, 1024, batch=4096)
    with pytest.raises(ValueError, match="seed"):
        A.gradient_norms("relu", 3, 8, seed=-1)


def test_gradient_norms_validates():
    with pytest.raises(ValueError, match="depth"):
        A.gradient_norms("relu", 0, 8)
    with pytest.raises(ValueError, match="initializer"):
        A.gradient_norms("relu", 3, 8, initializer="zeros!")
    with pytest.raises(ValueError, match="unknown activation"):
        A.gradient_norms("nope", 3, 8)
