"""cnnviz.activations against keras.activations and TensorFlow's autodiff."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cnnviz import activations as A

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

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


def test_derivative_at_kinks_matches_tensorflow():
    assert A.d_relu(np.array([0.0]))[0] == 0.0
    assert A.d_leaky_relu(np.array([0.0]))[0] == pytest.approx(0.2)
    assert A.LEAKY_RELU_SLOPE == 0.2


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


def test_gradient_norms_reproducible_and_vanishing_for_sigmoid():
    a = A.gradient_norms("sigmoid", 20, 32, seed=3)
    b = A.gradient_norms("sigmoid", 20, 32, seed=3)
    A._cache.clear()                                   # rebuilt from scratch: same numbers
    c = A.gradient_norms("sigmoid", 20, 32, seed=3)
    assert a.shape == (20,)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, c, rtol=1e-6)
    assert not np.allclose(a, A.gradient_norms("sigmoid", 20, 32, seed=4))
    relu = A.gradient_norms("relu", 20, 32, seed=3)
    # the first layers of the sigmoid stack get vanishingly small gradients
    assert np.all(a[:5] < 1e-3 * relu[:5])
    assert a[0] < 1e-3 * a[-1]


def test_gradient_norms_validates():
    with pytest.raises(ValueError, match="depth"):
        A.gradient_norms("relu", 0, 8)
    with pytest.raises(ValueError, match="initializer"):
        A.gradient_norms("relu", 3, 8, initializer="zeros!")
    with pytest.raises(ValueError, match="unknown activation"):
        A.gradient_norms("nope", 3, 8)
