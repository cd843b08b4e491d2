"""cnnviz.kernels against Keras: Conv2D, DepthwiseConv2D, ZeroPadding2D + valid, Conv1D."""
from __future__ import annotations

import itertools
import math
import subprocess
import sys
import zlib

import numpy as np
import pytest

from cnnviz import conv1d, conv_arithmetic, kernel_text, kernels

keras = pytest.importorskip("keras")

TOL = dict(rtol=1e-5, atol=1e-5)
KERNEL_SIZES = (1, 2, 3, 4, 5, 7)
PADDINGS = ("valid", "same", 1, 2)
# Every (stride, dilation) pair Keras accepts: it refuses stride > 1 with dilation > 1.
STRIDE_DILATION = [(1, 1), (1, 2), (1, 3), (2, 1), (3, 1)]
H, W = 22, 19                       # odd/even, non-square: catches asymmetric "same" padding


def _case_seed(*parts) -> int:
    """A stable seed per parameter set (str hashes change between runs)."""
    return zlib.crc32(repr(parts).encode())


def _keras_conv(layer_cls, padding, image, **kw):
    """Run one freshly built Keras layer (with ZeroPadding2D first for an explicit int p)."""
    x = image[None].astype(np.float32)
    if isinstance(padding, int):
        x = keras.layers.ZeroPadding2D(padding)(x)
        padding = "valid"
    layer = layer_cls(padding=padding, **kw)
    layer.build(x.shape)
    return layer, x


# ----------------------------------------------------------------------------- Conv2D

@pytest.mark.parametrize("channels", [1, 3], ids=["gray", "rgb"])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("stride,dilation", STRIDE_DILATION)
@pytest.mark.parametrize("k", KERNEL_SIZES)
def test_convolve_equals_keras_conv2d(k, stride, dilation, padding, channels):
    rng = np.random.default_rng(_case_seed("c2d", k, stride, dilation, padding, channels))
    image = rng.random((H, W, channels)).astype(np.float32)
    kernel = rng.uniform(-1, 1, (k, k, channels)).astype(np.float32)
    bias = float(rng.uniform(-1, 1))
    layer, x = _keras_conv(keras.layers.Conv2D, padding, image, filters=1, kernel_size=k,
                           strides=stride, dilation_rate=dilation, use_bias=True)
    layer.set_weights([kernel[..., None], np.array([bias], np.float32)])
    expected = np.asarray(layer(x))[0, ..., 0]
    got_image = image if channels == 3 else image[..., 0]
    got_kernel = kernel if channels == 3 else kernel[..., 0]
    got = kernels.convolve(got_image, got_kernel, stride, padding, dilation, bias=bias)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **TOL)
    # The shape formula agrees too.
    assert got.shape == (conv_arithmetic.output_size(H, k, stride, padding, dilation),
                         conv_arithmetic.output_size(W, k, stride, padding, dilation))


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (1, 2)])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_shared_kernel_on_rgb_is_conv2d_with_the_kernel_on_every_channel(k, stride, dilation, padding):
    rng = np.random.default_rng(_case_seed("shared", k, stride, dilation, padding))
    image = rng.random((H, W, 3)).astype(np.float32)
    kernel = rng.uniform(-1, 1, (k, k)).astype(np.float32)
    layer, x = _keras_conv(keras.layers.Conv2D, padding, image, filters=1, kernel_size=k,
                           strides=stride, dilation_rate=dilation, use_bias=True)
    layer.set_weights([np.repeat(kernel[..., None, None], 3, axis=2), np.array([0.25], np.float32)])
    expected = np.asarray(layer(x))[0, ..., 0]
    got = kernels.convolve(image, kernel, stride, padding, dilation, bias=0.25)
    np.testing.assert_allclose(got, expected, **TOL)


# ----------------------------------------------------------------------------- DepthwiseConv2D

@pytest.mark.parametrize("shared", [False, True], ids=["per-channel-kernel", "shared-kernel"])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("stride,dilation", STRIDE_DILATION)
@pytest.mark.parametrize("k", KERNEL_SIZES)
def test_depthwise_equals_keras_depthwiseconv2d(k, stride, dilation, padding, shared):
    rng = np.random.default_rng(_case_seed("dw", k, stride, dilation, padding, shared))
    image = rng.random((H, W, 3)).astype(np.float32)
    kernel = rng.uniform(-1, 1, (k, k) if shared else (k, k, 3)).astype(np.float32)
    bias = rng.uniform(-1, 1, 3).astype(np.float32)
    layer, x = _keras_conv(keras.layers.DepthwiseConv2D, padding, image, kernel_size=k,
                           strides=stride, dilation_rate=dilation, use_bias=True)
    k3 = np.repeat(kernel[..., None], 3, axis=2) if shared else kernel
    layer.set_weights([k3[..., None], bias])
    expected = np.asarray(layer(x))[0]
    got = kernels.convolve(image, kernel, stride, padding, dilation, bias=bias, depthwise=True)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **TOL)


def test_largest_case_the_page_allows_equals_keras():
    """7x7 kernel, dilation 4 (the page's maximum), 'same', on 512x512x3, depthwise: the worst
    request the convolution page can make (its time: benchmarks/bench_bounded.py)."""
    rng = np.random.default_rng(_case_seed("largest"))
    image = rng.random((512, 512, 3)).astype(np.float32)
    kernel = rng.uniform(-1, 1, (7, 7, 3)).astype(np.float32)
    layer, x = _keras_conv(keras.layers.DepthwiseConv2D, "same", image, kernel_size=7,
                           dilation_rate=4, use_bias=False)
    layer.set_weights([kernel[..., None]])
    got = kernels.convolve(image, kernel, 1, "same", 4, depthwise=True)
    np.testing.assert_allclose(got, np.asarray(layer(x))[0], **TOL)


def test_grayscale_depthwise_keeps_a_channel_axis():
    img = np.random.default_rng(0).random((6, 7))
    out = kernels.convolve(img, kernels.PRESETS["box blur"], depthwise=True)
    assert out.shape == (4, 5, 1)
    np.testing.assert_allclose(out[..., 0], kernels.convolve(img, kernels.PRESETS["box blur"]), **TOL)


# ----------------------------------------------------------------------------- beyond Keras

def _naive(image, kernel, stride, pads, dilation):
    (pt, pb), (pl, pr) = pads
    x = np.pad(image.astype(np.float64), ((pt, pb), (pl, pr)))
    kh, kw = kernel.shape
    oh = (x.shape[0] - (kh - 1) * dilation - 1) // stride + 1
    ow = (x.shape[1] - (kw - 1) * dilation - 1) // stride + 1
    out = np.zeros((oh, ow))
    for r in range(oh):
        for c in range(ow):
            patch = x[r * stride:r * stride + (kh - 1) * dilation + 1:dilation,
                      c * stride:c * stride + (kw - 1) * dilation + 1:dilation]
            out[r, c] = (patch * kernel).sum()
    return out


@pytest.mark.parametrize("kshape", [(2, 5), (3, 1), (4, 3)])
@pytest.mark.parametrize("stride,dilation,padding", [(2, 2, "same"), (3, 2, "valid"), (1, 1, 2), (2, 1, "same")])
def test_non_square_kernels_and_stride_with_dilation_match_a_naive_loop(kshape, stride, dilation, padding):
    """Keras refuses stride > 1 with dilation > 1; the arithmetic still has one meaning."""
    rng = np.random.default_rng(_case_seed("naive", kshape, stride, dilation, padding))
    image = rng.random((13, 11))
    kernel = rng.uniform(-1, 1, kshape)
    pads = (conv_arithmetic.pad_amounts(13, kshape[0], stride, padding, dilation),
            conv_arithmetic.pad_amounts(11, kshape[1], stride, padding, dilation))
    got = kernels.convolve(image, kernel, stride, padding, dilation)
    np.testing.assert_allclose(got, _naive(image, kernel, stride, pads, dilation), **TOL)


def test_no_kernel_flip():
    """Cross-correlation: a kernel with a single 1 at the top-left picks the pixel up-left of centre."""
    img = np.arange(25, dtype=float).reshape(5, 5)
    k = np.zeros((3, 3))
    k[0, 0] = 1
    np.testing.assert_array_equal(kernels.convolve(img, k), img[:3, :3])


def test_bad_arguments_are_refused_with_readable_messages():
    img = np.zeros((8, 8))
    with pytest.raises(ValueError, match="padding"):
        kernels.convolve(img, np.ones((3, 3)), padding="full")
    with pytest.raises(ValueError, match="stride"):
        kernels.convolve(img, np.ones((3, 3)), stride=0)
    with pytest.raises(ValueError, match="channels"):
        kernels.convolve(np.zeros((8, 8, 3)), np.ones((3, 3, 2)))
    with pytest.raises(ValueError, match="empty"):
        kernels.convolve(img, np.ones((5, 5)), dilation=2)
    with pytest.raises(ValueError, match="finite"):
        kernels.convolve(img, np.full((3, 3), np.nan))


# ----------------------------------------------------------------------------- output_size

def test_output_size_equals_keras_output_shapes():
    for n, k, (s, d), padding in itertools.product(range(1, 13), (1, 2, 3, 5), STRIDE_DILATION,
                                                     ("valid", "same")):
        layer = keras.layers.Conv2D(1, k, strides=s, padding=padding, dilation_rate=d)
        try:
            expected = layer.compute_output_shape((1, n, n + 1, 1))[1:3]
        except ValueError:
            expected = None
        if expected is None or min(expected) <= 0:
            with pytest.raises(ValueError, match="empty"):
                conv_arithmetic.output_size(n, k, s, padding, d)
            continue
        assert conv_arithmetic.output_size(n, k, s, padding, d) == expected[0], (n, k, s, d, padding)
        assert conv_arithmetic.output_size(n + 1, k, s, padding, d) == expected[1], (n, k, s, d, padding)


def test_output_size_formula_for_explicit_padding():
    for n, k, s, d, p in itertools.product(range(1, 15), range(1, 8), (1, 2, 3), (1, 2, 3), (0, 1, 2, 3)):
        size = math.floor((n + 2 * p - k - (k - 1) * (d - 1)) / s) + 1
        if n + 2 * p < (k - 1) * d + 1:
            with pytest.raises(ValueError):
                conv_arithmetic.output_size(n, k, s, p, d)
        else:
            assert conv_arithmetic.output_size(n, k, s, p, d) == size


def test_same_padding_is_asymmetric_like_tensorflow():
    assert conv_arithmetic.pad_amounts(10, 4, padding="same") == (1, 2)   # extra zero at the bottom/right
    assert conv_arithmetic.pad_amounts(10, 3, stride=2, padding="same") == (0, 1)
    assert conv_arithmetic.pad_amounts(7, 3, stride=2, padding="same") == (1, 1)
    assert conv_arithmetic.pad_amounts(5, 3, dilation=2, padding="same") == (2, 2)
    assert conv_arithmetic.pad_amounts(5, 3, padding=2) == (2, 2)
    assert conv_arithmetic.pad_amounts(5, 3, dilation=2, padding="causal") == (4, 0)
    assert conv_arithmetic.pad_amounts(5, 3) == (0, 0)


# ----------------------------------------------------------------------------- the step-through

@pytest.mark.parametrize("channels,depthwise", [(1, False), (3, False), (3, True)])
@pytest.mark.parametrize("stride,dilation,padding", [(1, 1, "same"), (2, 1, "same"), (1, 2, "valid"),
                                                     (3, 1, 2), (1, 3, "same"), (2, 1, 1)])
def test_window_sum_plus_bias_equals_convolve(channels, depthwise, stride, dilation, padding):
    rng = np.random.default_rng(_case_seed("win", channels, depthwise, stride, dilation, padding))
    image = rng.random((15, 12, channels) if channels == 3 else (15, 12))
    kernel = rng.uniform(-2, 2, (3, 3))
    bias = 0.37
    out = kernels.convolve(image, kernel, stride, padding, dilation, bias=bias, depthwise=depthwise)
    positions = [(0, 0), (out.shape[0] - 1, out.shape[1] - 1)]
    positions += [(int(rng.integers(out.shape[0])), int(rng.integers(out.shape[1]))) for _ in range(8)]
    for r, c in positions:
        w = kernels.window(image, kernel, r, c, stride, padding, dilation, bias=bias, depthwise=depthwise)
        np.testing.assert_allclose(w.value, out[r, c], **TOL)
        np.testing.assert_allclose(w.products, w.patch * w.kernel)
        np.testing.assert_allclose(np.sum(w.total), w.products.sum())
        # Padding taps read 0; image taps read the image.
        assert np.all(w.patch[~w.in_image] == 0)
        for i, rr in enumerate(w.rows):
            for j, cc in enumerate(w.cols):
                if w.in_image[i, j]:
                    np.testing.assert_allclose(w.patch[i, j], image[rr, cc])


def test_window_coordinates_show_padding_and_dilation():
    w = kernels.window(np.ones((5, 5)), np.ones((3, 3)), 0, 0, padding="same")
    assert list(w.rows) == [-1, 0, 1] and list(w.cols) == [-1, 0, 1]
    assert w.in_image.sum() == 4 and w.value == 4
    w = kernels.window(np.ones((9, 9)), np.ones((3, 3)), 1, 2, dilation=3)
    assert list(w.rows) == [1, 4, 7] and list(w.cols) == [2, 5, 8]
    assert (w.top, w.left, w.bottom, w.right) == (1, 2, 7, 8)
    with pytest.raises(ValueError, match="outside"):
        kernels.window(np.ones((5, 5)), np.ones((3, 3)), 3, 0)


# ----------------------------------------------------------------------------- presets, parsing

def test_presets_have_descriptions_and_sensible_sums():
    assert set(kernels.PRESETS) == set(kernels.DESCRIPTIONS)
    for name, k in kernels.PRESETS.items():
        assert k.ndim == 2 and 1 <= k.shape[0] <= 7 and k.shape[0] == k.shape[1], name
        assert kernels.DESCRIPTIONS[name].strip(), name
    for name in ("box blur", "Gaussian blur 3×3", "Gaussian blur 5×5", "identity", "sharpen"):
        assert kernels.PRESETS[name].sum() == pytest.approx(1.0), name
    for name in ("outline (Laplacian)", "Sobel x", "Sobel y", "Prewitt x", "Prewitt y"):
        assert kernels.PRESETS[name].sum() == pytest.approx(0.0), name
    curve = kernels.PRESETS["curve detector"]
    assert curve.shape == (7, 7) and curve.min() == 0 and curve.max() > 0


def test_parse_kernel_accepts_numbers_text_numbers_and_fractions():
    import pandas as pd
    k = kernel_text.parse_kernel([[1, "2", " -0.5 "], ["1/4", 0.0, "−3"], [1e6, -1e6, "1e-3"]])
    np.testing.assert_allclose(k, [[1, 2, -0.5], [0.25, 0, -3], [1e6, -1e6, 1e-3]])
    df = pd.DataFrame(np.eye(3))
    np.testing.assert_array_equal(kernel_text.parse_kernel(df), np.eye(3))
    assert kernel_text.parse_kernel([[5]]).shape == (1, 1)


@pytest.mark.parametrize("bad,fragment", [
    (None, "empty"), ("", "empty"), ("   ", "empty"), ("abc", "not a number"), ("1/0", "zero"),
    (float("nan"), "NaN"), ("nan", "nan"), (float("inf"), "infinite"), (float("-inf"), "infinite"),
    ("inf", "inf"), (1e6 + 1, "larger than the limit"), ("-2e6", "larger than the limit"), (True, "not a number"),
    ([1], "not a number"),
])
def test_parse_kernel_names_the_bad_cell(bad, fragment):
    grid = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
    grid[1][2] = bad
    with pytest.raises(ValueError) as info:
        kernel_text.parse_kernel(grid)
    msg = str(info.value)
    assert "row 2, column 3" in msg and fragment.lower() in msg.lower()
    assert "Use numbers" in msg


def test_parse_kernel_rejects_bad_grids():
    with pytest.raises(ValueError, match="empty"):
        kernel_text.parse_kernel([])
    with pytest.raises(ValueError, match="same number of cells"):
        kernel_text.parse_kernel([[1, 2], [3]])
    with pytest.raises(ValueError, match="largest"):
        kernel_text.parse_kernel(np.zeros((8, 8)))


def test_normalise():
    np.testing.assert_allclose(kernel_text.normalise([[1, 2], [3, 4]]).sum(), 1.0)
    np.testing.assert_allclose(kernel_text.normalise(kernels.PRESETS["box blur"] * 9), kernels.PRESETS["box blur"])
    with pytest.raises(ValueError, match="add up to"):
        kernel_text.normalise(kernels.PRESETS["Sobel x"])
    with pytest.raises(ValueError, match="add up to"):
        kernel_text.normalise(np.zeros((3, 3)))


# ----------------------------------------------------------------------------- Conv1D

@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("stride,dilation", STRIDE_DILATION)
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_convolve1d_equals_keras_conv1d(k, stride, dilation, padding, channels):
    rng = np.random.default_rng(_case_seed("c1d", k, stride, dilation, padding, channels))
    n = 23
    signal = rng.uniform(-1, 1, (n, channels)).astype(np.float32)
    kernel = rng.uniform(-1, 1, (k, channels)).astype(np.float32)
    layer = keras.layers.Conv1D(1, k, strides=stride, padding=padding, dilation_rate=dilation)
    layer.build((1, n, channels))
    layer.set_weights([kernel[..., None], np.array([0.5], np.float32)])
    expected = np.asarray(layer(signal[None]))[0, :, 0]
    got = conv1d.convolve1d(signal if channels > 1 else signal[:, 0],
                             kernel if channels > 1 else kernel[:, 0],
                             stride, padding, dilation, bias=0.5)
    assert got.shape == expected.shape
    assert got.shape[0] == conv_arithmetic.output_size(n, k, stride, padding, dilation)
    np.testing.assert_allclose(got, expected, **TOL)
    # The receptive field helper reproduces every output value.
    idx = conv1d.receptive_field_1d(n, k, stride, padding, dilation)
    x = signal if channels > 1 else signal[:, :1]
    taps = np.where(((idx >= 0) & (idx < n))[..., None], x[np.clip(idx, 0, n - 1)], 0.0)
    np.testing.assert_allclose((taps * kernel[None]).sum(axis=(1, 2)) + 0.5, expected, **TOL)


def test_causal_outputs_never_see_the_future():
    idx = conv1d.receptive_field_1d(10, 3, padding="causal", dilation=2)
    assert np.all(idx <= np.arange(10)[:, None])
    assert list(idx[0]) == [-4, -2, 0]


# ----------------------------------------------------------------------------- light import

def test_kernels_does_not_import_tensorflow():
    code = "import sys, cnnviz.kernels; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
