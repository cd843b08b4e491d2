"""cnnviz.pooling against keras.layers.MaxPooling2D / AveragePooling2D, plus L2, translation, dropout."""
from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from cnnviz import pooling

keras = pytest.importorskip("keras")

RNG = np.random.default_rng(42)
CASES = list(itertools.product(range(1, 5), range(1, 5), ("valid", "same")))
INPUTS = [RNG.normal(size=(9, 11, 3)).astype(np.float32), RNG.normal(size=(6, 7, 2)).astype(np.float32)]


def keras_pool(layer_cls, x, size, stride, padding):
    layer = layer_cls(pool_size=size, strides=stride, padding=padding)
    return keras.ops.convert_to_numpy(layer(x[None]))[0]


@pytest.mark.parametrize("size,stride,padding", CASES)
def test_max_and_avg_match_keras(size, stride, padding):
    for x in INPUTS:
        for mode, cls in (("max", keras.layers.MaxPooling2D), ("avg", keras.layers.AveragePooling2D)):
            ours = pooling.pool2d(x, size, stride, padding, mode).output
            theirs = keras_pool(cls, x, size, stride, padding)
            assert ours.shape == theirs.shape, (mode, size, stride, padding)
            np.testing.assert_allclose(ours, theirs, atol=1e-5, err_msg=f"{mode} {size} {stride} {padding}")


def test_default_stride_is_pool_size_like_keras():
    x = INPUTS[0]
    ours = pooling.pool2d(x, 3).output
    theirs = keras.ops.convert_to_numpy(keras.layers.MaxPooling2D(3)(x[None]))[0]
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_grayscale_input_gives_2d_output():
    x = INPUTS[0][..., 0]
    r = pooling.pool2d(x, 2, 1, "same", "max")
    assert r.output.shape == (9, 11) and r.winners.shape == (9, 11, 2)
    np.testing.assert_allclose(r.output, pooling.pool2d(x[..., None], 2, 1, "same").output[..., 0])


@pytest.mark.parametrize("size,stride,padding", CASES)
def test_l2_is_sqrt_of_window_sum_of_squares(size, stride, padding):
    x = INPUTS[1][..., 0]
    r = pooling.pool2d(x, size, stride, padding, "l2")
    assert r.winners is None
    for i, j in np.ndindex(r.output.shape):
        rows, cols = r.window(i, j)
        assert np.isclose(r.output[i, j], np.sqrt(np.sum(x[rows, cols] ** 2)), atol=1e-5)


@pytest.mark.parametrize("size,stride,padding", CASES)
def test_winners_point_at_the_max_inside_the_window(size, stride, padding):
    x = INPUTS[0]
    r = pooling.pool2d(x, size, stride, padding, "max")
    h, w = x.shape[:2]
    for i, j, c in np.ndindex(r.output.shape):
        row, col = r.winners[i, j, c]
        assert 0 <= row < h and 0 <= col < w
        rows, cols = r.window(i, j)
        assert rows.start <= row < rows.stop and cols.start <= col < cols.stop
        assert x[row, col, c] == r.output[i, j, c] == x[rows, cols, c].max()


def test_output_shape_uses_keras_formula():
    assert pooling.output_shape((28, 28), 2) == (14, 14)
    assert pooling.output_shape((7, 7), 2, 2, "same") == (4, 4)
    assert pooling.output_shape((7, 7), 3, 1, "valid") == (5, 5)


def test_bad_arguments():
    x = np.zeros((4, 4))
    for kwargs, msg in (({"mode": "min"}, "mode"), ({"size": 0}, "pool size"),
                        ({"padding": "full"}, "padding"), ({"size": 5}, "pooling window does not fit")):
        with pytest.raises(ValueError, match=msg):
            pooling.pool2d(x, **{"size": 2, **kwargs})
    with pytest.raises(ValueError):
        pooling.pool2d(np.array([[np.nan]]), 1)


def test_translation_change_pooling_is_more_stable():
    yy, xx = np.mgrid[0:32, 0:32]
    blob = np.exp(-((xx - 15) ** 2 + (yy - 16) ** 2) / 20.0)
    t = pooling.translation_change(blob, 1, size=2, mode="max")
    assert t.shifted.shape == blob.shape and t.pooled.shape == (16, 16)
    np.testing.assert_array_equal(t.shifted[:, 1:], blob[:, :-1].astype(np.float32))
    assert 0 < t.pooled_change < t.map_change and t.ratio < 1
    assert pooling.translation_change(blob, 0).map_change == 0
    with pytest.raises(ValueError, match="shift"):
        pooling.shift_image(blob, -1)


def test_dropout_mask_and_scaling():
    mask = pooling.dropout_mask((200, 200), 0.3, seed=1)
    assert mask.dtype == bool and abs(1 - mask.mean() - 0.3) < 0.01
    np.testing.assert_array_equal(mask, pooling.dropout_mask((200, 200), 0.3, seed=1))
    assert not np.array_equal(mask, pooling.dropout_mask((200, 200), 0.3, seed=2))
    x = RNG.normal(size=(200, 200)).astype(np.float32)
    y = pooling.apply_dropout(x, 0.3, seed=1, training=True)
    np.testing.assert_allclose(y[mask], x[mask] / 0.7, rtol=1e-6)
    assert np.all(y[~mask] == 0)
    np.testing.assert_array_equal(pooling.apply_dropout(x, 0.3, seed=1, training=False), x)
    np.testing.assert_array_equal(pooling.apply_dropout(x, 0.0, seed=1), x)
    for bad in (1.0, -0.1, float("nan"), "0.5"):
        with pytest.raises(ValueError, match="rate"):
            pooling.dropout_mask((2, 2), bad, seed=0)


def test_dropout_scaling_matches_keras_survivors():
    x = np.ones((64, 64), dtype=np.float32)
    y = keras.ops.convert_to_numpy(keras.layers.Dropout(0.25, seed=0)(x, training=True))
    ours = pooling.apply_dropout(x, 0.25, seed=0)
    # masks come from different generators; the kept values and the inference identity must agree
    assert set(np.unique(y)) == set(np.unique(ours)) == {0.0, np.float32(1 / 0.75)}
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(keras.layers.Dropout(0.25)(x, training=False)),
                                  pooling.apply_dropout(x, 0.25, seed=0, training=False))


def test_pooling_does_not_import_tensorflow():
    code = "import sys, cnnviz.pooling; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
