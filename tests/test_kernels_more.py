"""cnnviz.kernels beyond Conv2D, against Keras: Conv2DTranspose, Conv3D and SeparableConv2D."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_kernels import _case_seed

from cnnviz import conv3d, conv_arithmetic, kernels, separable, transposed

keras = pytest.importorskip("keras")

TOL = dict(rtol=1e-5, atol=1e-5)
# Every (stride, dilation) pair Keras accepts for Conv2DTranspose and Conv3D: it refuses
# stride > 1 with dilation > 1. SeparableConv2D (Keras 3.15) accepts that pair too.
STRIDE_DILATION = [(1, 1), (1, 2), (1, 3), (2, 1), (3, 1)]
SEPARABLE_STRIDE_DILATION = STRIDE_DILATION + [(2, 2)]


def _keras_padding(x, padding):
    """x zero-padded first for an explicit int p (Keras layers take only "valid" or "same"), and
    the padding to give the layer."""
    if not isinstance(padding, int):
        return x, padding
    pad = keras.layers.ZeroPadding3D if x.ndim == 5 else keras.layers.ZeroPadding2D
    return pad(padding)(x), "valid"


# ----------------------------------------------------------------------------- Conv2DTranspose

@pytest.mark.parametrize("channels", ["gray", "rgb", "rgb-shared"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride,dilation", STRIDE_DILATION)
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_conv_transpose2d_equals_keras_conv2dtranspose(k, stride, dilation, padding, channels):
    rng = np.random.default_rng(_case_seed("ct2d", k, stride, dilation, padding, channels))
    h, w = 7, 6                                  # odd/even, non-square: catches asymmetric crops
    c = 1 if channels == "gray" else 3
    image = rng.uniform(-1, 1, (h, w, c)).astype(np.float32)
    kernel = rng.uniform(-1, 1, (k, k) if channels == "rgb-shared" else (k, k, c)).astype(np.float32)
    bias = float(rng.uniform(-1, 1))
    layer = keras.layers.Conv2DTranspose(1, k, strides=stride, padding=padding,
                                         dilation_rate=dilation, use_bias=True)
    layer.build((1, h, w, c))
    k3 = np.repeat(kernel[..., None], c, axis=2) if kernel.ndim == 2 else kernel
    # Keras's transposed kernel is (k, k, out_channels, in_channels).
    layer.set_weights([k3[:, :, None, :], np.array([bias], np.float32)])
    expected = np.asarray(layer(image[None]))[0, ..., 0]
    got_image = image[..., 0] if channels == "gray" else image
    got_kernel = kernel[..., 0] if channels == "gray" else kernel
    got = transposed.conv_transpose2d(got_image, got_kernel, stride, padding, bias, dilation=dilation)
    assert got.dtype == np.float32
    assert got.shape == expected.shape
    assert got.shape == (transposed.conv_transpose_output_size(h, k, stride, padding, dilation),
                         transposed.conv_transpose_output_size(w, k, stride, padding, dilation))
    np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.slow
def test_conv_transpose_output_size_equals_keras_output_shapes():
    for n, k, (s, d), padding in itertools.product(range(1, 10), (1, 2, 3, 4, 5), STRIDE_DILATION + [(4, 1)],
                                                     ("valid", "same")):
        layer = keras.layers.Conv2DTranspose(1, k, strides=s, padding=padding, dilation_rate=d)
        expected = layer.compute_output_shape((1, n, n + 1, 1))[1:3]
        got = (transposed.conv_transpose_output_size(n, k, s, padding, d),
               transposed.conv_transpose_output_size(n + 1, k, s, padding, d))
        assert got == tuple(expected), (n, k, s, d, padding)
        # The textbook formulas (dilation 1): valid (n-1)·s + k when k ≥ s, same n·s.
        if d == 1 and padding == "valid" and k >= s:
            assert got[0] == (n - 1) * s + k
        if padding == "same":
            assert got[0] == n * s


def test_a_stride_longer_than_the_kernel_leaves_zero_gaps_in_valid_and_same():
    # k=1, s=3: each input value becomes one pixel followed by two gaps (only the bias there).
    img = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    for padding in ("valid", "same"):
        out = transposed.conv_transpose2d(img, [[2.0]], 3, padding, bias=0.5)
        assert out.shape == (6, 9)
        np.testing.assert_array_equal(out[::3, ::3], 2 * img + 0.5)
        mask = np.ones_like(out, dtype=bool)
        mask[::3, ::3] = False
        assert np.all(out[mask] == 0.5)


def test_each_input_pixel_stamps_the_unflipped_kernel():
    """One bright pixel at (i, j) puts value × kernel with its top-left at (i·s, j·s) ("valid")."""
    kernel = np.arange(1, 10, dtype=np.float32).reshape(3, 3)
    img = np.zeros((4, 5), np.float32)
    img[2, 1] = 2.0
    out = transposed.conv_transpose2d(img, kernel, stride=2)
    expected = np.zeros_like(out)
    expected[4:7, 2:5] = 2 * kernel
    np.testing.assert_array_equal(out, expected)
    # "same" crops max(k - s, 0) // 2 = 0 here, 1 for k=4, s=1 (extra cut at the bottom/right).
    assert transposed.conv_transpose_crop(3, 2, "same") == 0
    assert transposed.conv_transpose_crop(4, 1, "same") == 1
    assert transposed.conv_transpose_crop(5, 2, "same") == 1
    assert transposed.conv_transpose_crop(5, 1, "same", dilation=2) == 4
    assert transposed.conv_transpose_crop(5, 2, "valid") == 0
    same = transposed.conv_transpose2d(img, np.pad(kernel, ((0, 1), (0, 1))), 1, "same")
    full = transposed.conv_transpose2d(img, np.pad(kernel, ((0, 1), (0, 1))), 1, "valid")
    np.testing.assert_array_equal(same, full[1:1 + 4, 1:1 + 5])


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride,dilation", STRIDE_DILATION + [(2, 2), (3, 2)])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_transposed_convolution_is_the_transpose_of_convolve(k, stride, dilation, padding):
    """<conv_transpose2d(x), y> = <x, convolve(y)>: the name's meaning, also where Keras refuses
    (stride and dilation both > 1)."""
    rng = np.random.default_rng(_case_seed("adjoint", k, stride, dilation, padding))
    x = rng.standard_normal((5, 4, 2))
    kernel = rng.standard_normal((k, k, 2))
    up = transposed.conv_transpose2d(x, kernel, stride, padding, dilation=dilation)
    y = rng.standard_normal(up.shape)
    # The transpose of "stamp each channel and sum" is "filter the map with each channel's kernel".
    down = kernels.convolve(np.repeat(y[..., None], 2, axis=2), kernel, stride, padding, dilation,
                            depthwise=True)
    assert down.shape == x.shape
    np.testing.assert_allclose((up * y).sum(), (x * down).sum(), rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------- checkerboard

@pytest.mark.parametrize("padding", ["valid", "same"])
def test_stamp_counts_show_the_checkerboard_exactly_when_k_is_not_a_multiple_of_s(padding):
    n = 16
    for k, s in itertools.product(range(1, 7), range(1, 5)):
        counts = transposed.stamp_counts((n, n + 1), k, s, padding)
        assert counts.shape == (transposed.conv_transpose_output_size(n, k, s, padding),
                                transposed.conv_transpose_output_size(n + 1, k, s, padding))
        m = k + s                                          # away from the border's partial stamps
        interior = counts[m:-m, m:-m]
        assert min(interior.shape) >= s
        uneven = len(np.unique(interior)) > 1
        assert uneven == transposed.checkerboard(k, s) == (k % s != 0), (k, s, padding)
        if not uneven:
            assert np.all(interior == (k // s) ** 2)
        else:
            assert set(np.unique(interior)) <= {a * b for a in (k // s, -(-k // s))
                                                for b in (k // s, -(-k // s))}


def test_checkerboard_examples():
    counts = transposed.stamp_counts(6, 3, 2)                  # k=3, s=2: 1, 2, 4 alternate inside
    assert counts.shape == (13, 13)
    np.testing.assert_array_equal(counts[2:5, 2:5], [[4, 2, 4], [2, 1, 2], [4, 2, 4]])
    assert transposed.checkerboard(3, 2) and not transposed.checkerboard(4, 2)
    counts = transposed.stamp_counts(6, 4, 2)                  # k=4, s=2: every interior pixel gets 4
    assert np.all(counts[2:-2, 2:-2] == 4)
    assert transposed.checkerboard(1, 2) and not transposed.checkerboard(3, 1)


@pytest.mark.parametrize("k,stride,padding", [(3, 2, "valid"), (3, 2, "same"), (4, 2, "same"),
                                               (2, 3, "valid"), (5, 3, "same")])
def test_stamp_counts_are_keras_on_a_flat_image_with_a_flat_kernel(k, stride, padding):
    layer = keras.layers.Conv2DTranspose(1, k, strides=stride, padding=padding, use_bias=False,
                                         kernel_initializer="ones")
    expected = np.asarray(layer(np.ones((1, 5, 7, 1), np.float32)))[0, ..., 0]
    counts = transposed.stamp_counts((5, 7), k, stride, padding)
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(counts, transposed.conv_transpose2d(np.ones((5, 7)), np.ones((k, k)),
                                                                   stride, padding))


# ----------------------------------------------------------------------------- Conv3D

@pytest.mark.parametrize("padding", ["valid", "same", 1])
@pytest.mark.parametrize("stride,dilation", STRIDE_DILATION)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_convolve3d_equals_keras_conv3d(k, stride, dilation, padding):
    rng = np.random.default_rng(_case_seed("c3d", k, stride, dilation, padding))
    shape = (7, 8, 6)
    volume = rng.uniform(-1, 1, shape).astype(np.float32)
    kernel = rng.uniform(-1, 1, (k, k, k)).astype(np.float32)
    bias = float(rng.uniform(-1, 1))
    x, keras_padding = _keras_padding(volume[None, ..., None], padding)
    if keras_padding == "valid" and (k - 1) * dilation + 1 > min(x.shape[1:4]):
        with pytest.raises(ValueError, match="empty"):
            conv3d.convolve3d(volume, kernel, stride, padding, dilation, bias)
        return
    layer = keras.layers.Conv3D(1, k, strides=stride, padding=keras_padding, dilation_rate=dilation)
    layer.build(x.shape)
    layer.set_weights([kernel[..., None, None], np.array([bias], np.float32)])
    expected = np.asarray(layer(x))[0, ..., 0]
    got = conv3d.convolve3d(volume, kernel, stride, padding, dilation, bias)
    assert got.dtype == np.float32
    assert got.shape == expected.shape == conv3d.output_size3d(shape, k, stride, padding, dilation)
    np.testing.assert_allclose(got, expected, **TOL)


def test_output_size3d_equals_keras_output_shapes():
    for n, k, (s, d), padding in itertools.product((1, 3, 4, 7), (1, 2, 3), STRIDE_DILATION, ("valid", "same")):
        shape = (n, n + 1, n + 2)
        layer = keras.layers.Conv3D(1, k, strides=s, padding=padding, dilation_rate=d)
        try:
            expected = layer.compute_output_shape((1, *shape, 1))[1:4]
        except ValueError:                                # Keras: "zero or negative"
            expected = None
        if expected is None or min(expected) <= 0:
            with pytest.raises(ValueError, match="empty"):
                conv3d.output_size3d(shape, k, s, padding, d)
            continue
        assert conv3d.output_size3d(shape, k, s, padding, d) == tuple(expected), (shape, k, s, d, padding)


def test_convolve3d_is_a_sum_of_2d_convolutions_over_the_kernel_depth():
    rng = np.random.default_rng(3)
    volume = rng.random((6, 7, 8))
    kernel = rng.uniform(-1, 1, (3, 3, 3))
    got = conv3d.convolve3d(volume, kernel, stride=2)
    for z in range(got.shape[0]):
        slices = sum(kernels.convolve(volume[2 * z + a], kernel[a], stride=2) for a in range(3))
        np.testing.assert_allclose(got[z], slices, **TOL)


# ----------------------------------------------------------------------------- SeparableConv2D

@pytest.mark.parametrize("channels,filters", [(3, 4), (1, 2)])
@pytest.mark.parametrize("padding", ["valid", "same", 1])
@pytest.mark.parametrize("stride,dilation", SEPARABLE_STRIDE_DILATION)
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_separable_convolve_equals_keras_separableconv2d(k, stride, dilation, padding, channels, filters):
    rng = np.random.default_rng(_case_seed("sep", k, stride, dilation, padding, channels, filters))
    h, w = 11, 10
    image = rng.uniform(-1, 1, (h, w, channels)).astype(np.float32)
    depthwise = rng.uniform(-1, 1, (k, k, channels)).astype(np.float32)
    pointwise = rng.uniform(-1, 1, (channels, filters)).astype(np.float32)
    x, keras_padding = _keras_padding(image[None], padding)
    if keras_padding == "valid" and (k - 1) * dilation + 1 > min(x.shape[1:3]):
        with pytest.raises(ValueError, match="empty"):
            separable.separable_convolve(image, depthwise, pointwise, stride, padding, dilation)
        return
    layer = keras.layers.SeparableConv2D(filters, k, strides=stride, padding=keras_padding,
                                         dilation_rate=dilation, use_bias=False)
    layer.build(x.shape)
    layer.set_weights([depthwise[..., None], pointwise[None, None]])
    expected = np.asarray(layer(x))[0]
    got = separable.separable_convolve(image if channels > 1 else image[..., 0],
                                     depthwise if channels > 1 else depthwise[..., 0],
                                     pointwise, stride, padding, dilation)
    assert got.dtype == np.float32
    assert got.shape == expected.shape
    assert got.shape == (conv_arithmetic.output_size(h, k, stride, padding, dilation),
                         conv_arithmetic.output_size(w, k, stride, padding, dilation), filters)
    np.testing.assert_allclose(got, expected, **TOL)


def test_separable_bias_and_a_shared_depthwise_kernel():
    rng = np.random.default_rng(7)
    image = rng.random((9, 8, 3)).astype(np.float32)
    shared = rng.uniform(-1, 1, (3, 3)).astype(np.float32)
    pointwise = rng.uniform(-1, 1, (3, 2)).astype(np.float32)
    bias = np.array([0.5, -0.25], np.float32)
    layer = keras.layers.SeparableConv2D(2, 3, padding="same", use_bias=True)
    layer.build((1, 9, 8, 3))
    layer.set_weights([np.repeat(shared[:, :, None, None], 3, axis=2), pointwise[None, None], bias])
    got = separable.separable_convolve(image, shared, pointwise, padding="same", bias=bias)
    np.testing.assert_allclose(got, np.asarray(layer(image[None]))[0], **TOL)


@pytest.mark.parametrize("k,c,f", [(1, 1, 1), (3, 3, 8), (3, 16, 32), (5, 8, 4), (7, 2, 64),
                                   (7, 256, 256),
                                   # the largest /more-convolutions allows: 51 M weights, ~1 GB
                                   # that TensorFlow keeps for the rest of the process
                                   pytest.param(7, 1024, 1024, marks=pytest.mark.slow)])
@pytest.mark.parametrize("use_bias", [True, False])
def test_separable_param_counts_equal_keras_count_params(k, c, f, use_bias):
    counts = separable.separable_param_counts(k, c, f, use_bias=use_bias)
    shape = (None, 9, 9, c)
    separable_layer = keras.layers.SeparableConv2D(f, k, use_bias=use_bias)
    separable_layer.build(shape)
    full = keras.layers.Conv2D(f, k, use_bias=use_bias)
    full.build(shape)
    assert counts["separable"] == separable_layer.count_params()
    assert counts["conv2d"] == full.count_params()
    assert counts["depthwise"] == separable_layer.depthwise_kernel.numpy().size
    assert counts["pointwise"] == separable_layer.pointwise_kernel.numpy().size
    assert counts["separable"] == counts["depthwise"] + counts["pointwise"] + counts["bias"]
    assert counts["ratio"] == pytest.approx(counts["separable"] / counts["conv2d"])


# ----------------------------------------------------------------------------- refusals

def test_bad_arguments_are_refused_with_readable_messages():
    img, rgb = np.zeros((8, 8)), np.zeros((8, 8, 3))
    pw = np.ones((3, 4))
    cases = [
        # bad padding
        (lambda: transposed.conv_transpose2d(img, np.ones((3, 3)), padding="full"), "padding"),
        (lambda: transposed.conv_transpose2d(img, np.ones((3, 3)), padding=1), "'valid' or 'same'"),
        (lambda: transposed.conv_transpose_output_size(5, 3, 2, "causal"), "padding"),
        (lambda: transposed.stamp_counts(5, 3, 2, "full"), "padding"),
        (lambda: conv3d.convolve3d(np.zeros((5, 5, 5)), np.ones((3, 3, 3)), padding="full"), "padding"),
        (lambda: separable.separable_convolve(rgb, np.ones((3, 3, 3)), pw, padding="full"), "padding"),
        # kernel larger than the input with "valid"
        (lambda: conv3d.convolve3d(np.zeros((4, 9, 9)), np.ones((5, 5, 5))), "empty"),
        (lambda: conv3d.convolve3d(np.zeros((5, 5, 5)), np.ones((3, 3, 3)), dilation=3), "empty"),
        (lambda: separable.separable_convolve(np.zeros((4, 8, 3)), np.ones((5, 5, 3)), pw), "empty"),
        (lambda: conv3d.output_size3d((2, 9, 9), 3), "empty"),
        # non-square kernels
        (lambda: transposed.conv_transpose2d(img, np.ones((3, 2))), "square"),
        (lambda: conv3d.convolve3d(np.zeros((5, 5, 5)), np.ones((3, 3, 2))), "square"),
        (lambda: separable.separable_convolve(rgb, np.ones((3, 2, 3)), pw), "square"),
        # wrong kernel depth / shape
        (lambda: transposed.conv_transpose2d(rgb, np.ones((3, 3, 2))), "channels"),
        (lambda: separable.separable_convolve(rgb, np.ones((3, 3, 2)), pw), "channels"),
        (lambda: separable.separable_convolve(rgb, np.ones((3, 3, 3)), np.ones((2, 4))), "channels"),
        (lambda: separable.separable_convolve(rgb, np.ones((3, 3, 3)), np.ones(3)), "C×F"),
        (lambda: conv3d.convolve3d(np.zeros((5, 5, 5)), np.ones((3, 3))), "k×k×k"),
        (lambda: conv3d.convolve3d(np.zeros((5, 5)), np.ones((3, 3, 3))), "D×H×W"),
        (lambda: transposed.conv_transpose2d(np.zeros((2, 2, 2, 2)), np.ones((1, 1))), "H×W"),
        (lambda: conv3d.output_size3d((5, 5), 3), "D, H, W"),
        # other numbers
        (lambda: transposed.conv_transpose2d(img, np.ones((3, 3)), stride=0), "stride"),
        (lambda: transposed.conv_transpose2d(img, np.full((3, 3), np.nan)), "finite"),
        (lambda: transposed.conv_transpose2d(img, np.ones((3, 3)), bias=[1, 2]), "bias"),
        (lambda: conv3d.convolve3d(np.zeros((5, 5, 5)), np.ones((3, 3, 3)), stride=1.5), "stride"),
        (lambda: separable.separable_convolve(rgb, np.ones((3, 3, 3)), np.full((3, 4), np.inf)), "finite"),
        (lambda: separable.separable_convolve(rgb, np.ones((3, 3, 3)), pw, bias=[1, 2]), "bias"),
        (lambda: separable.separable_param_counts(0, 3, 4), "kernel size"),
        (lambda: transposed.checkerboard(3, 0), "stride"),
        (lambda: transposed.stamp_counts((5, 0), 3), "input size"),
        # bounded sizes: a big stride on a big image would make a huge output
        (lambda: transposed.conv_transpose2d(np.zeros((2048, 2048)), np.ones((1, 1)), stride=4), "largest"),
        (lambda: transposed.stamp_counts(100_000, 3, 2), "largest"),
        (lambda: conv3d.convolve3d(np.zeros((64, 64, 64)), np.ones((31, 31, 31)), padding="same"),
         "multiply-adds"),
    ]
    for call, fragment in cases:
        with pytest.raises(ValueError, match=fragment):
            call()
