"""cnnviz.shapes against Keras layers built with each data_format."""
import keras
import numpy as np
import pytest

from cnnviz import shapes


def test_names_shapes_and_text():
    assert shapes.batch_shape((28, 28, 1)) == (1, 28, 28, 1)
    assert shapes.batch_shape((28, 28, 3), "channels_first", None) == (None, 3, 28, 28)
    assert shapes.axis_names(2) == ("batch_size", "steps", "input_dim")
    assert shapes.axis_names(2, "channels_first") == ("batch_size", "input_dim", "steps")
    assert shapes.shape_text((32, 32, 3), "channels_first") == \
        "(batch_size, channels, rows, cols) = (1, 3, 32, 32)"
    with pytest.raises(ValueError, match="data_format must be"):
        shapes.batch_shape((4, 4, 1), "nhwc")
    with pytest.raises(ValueError, match="2 .* or 3"):
        shapes.layout(np.zeros(5))


@pytest.mark.parametrize("sample_shape, layer", [
    ((9, 11, 3), lambda fmt: keras.layers.Conv2D(4, 3, strides=2, padding="same", data_format=fmt)),
    ((9, 11, 2), lambda fmt: keras.layers.MaxPooling2D(2, data_format=fmt)),
    ((20, 3), lambda fmt: keras.layers.Conv1D(5, 4, data_format=fmt)),
])
def test_the_same_numbers_laid_out_the_other_way_give_the_same_result(sample_shape, layer):
    rng = np.random.default_rng(0)
    sample = rng.random(sample_shape, dtype=np.float32)
    last, first = layer("channels_last"), layer("channels_first")
    out_last = np.asarray(last(shapes.layout(sample)))
    first.build(shapes.layout(sample, "channels_first").shape)
    if last.weights:
        first.set_weights(last.get_weights())   # kernels are stored the same way in both formats
    out_first = np.asarray(first(shapes.layout(sample, "channels_first")))
    # Keras's output shapes are ours, and the numbers are the same, only moved.
    assert out_last.shape == shapes.batch_shape(out_last.shape[1:])
    assert out_first.shape == shapes.batch_shape(out_last.shape[1:], "channels_first")
    np.testing.assert_allclose(out_first, shapes.layout(out_last[0], "channels_first"), rtol=1e-5, atol=1e-5)
