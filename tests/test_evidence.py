"""cnnviz.evidence against Keras and model_cards.evaluate computing the same things themselves."""
from __future__ import annotations

import gc

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cnnviz import data, evidence, model_cards, models, probe  # noqa: E402

pytestmark = pytest.mark.slow   # evaluates the shipped MNIST network on the test set

N = 1500                 # the first test images: quick, and three batches of 500
TOL = dict(rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def mnist(data_dir):
    model = models.load_pretrained("mnist")
    _, (x, y), names = data.load_dataset("mnist", data_dir)
    x, y = x[:N], y[:N]
    weights = [w.copy() for w in model.get_weights()]
    evidence.clear_cache()
    yield model, x, y, names
    after = model.get_weights()
    assert len(after) == len(weights)
    assert all(np.array_equal(a, b) for a, b in zip(after, weights)), "a weight changed"


@pytest.fixture(scope="module")
def results(mnist):
    model, x, y, names = mnist
    return evidence.test_results(model, x, y, names)


def _sub(model, layer_name):
    return keras.Model(model.inputs[0], model.get_layer(layer_name).output)


def _layer_output(model, layer_name, x_uint8, batch=500):
    sub = _sub(model, layer_name)
    return np.concatenate([np.asarray(sub(model_cards.to_model_input(x_uint8[a:a + batch]), training=False))
                           for a in range(0, len(x_uint8), batch)])


# --- test results -------------------------------------------------------------------------------

def test_results_equal_evaluate(mnist, results):
    model, x, y, names = mnist
    ev = model_cards.evaluate(model, x, y, names)
    assert results.n == ev["test_samples"] == N
    assert round(results.accuracy, 4) == ev["test_accuracy"]
    assert round(results.loss, 4) == ev["test_loss"]
    assert np.array_equal(results.confusion, np.array(ev["confusion_matrix"]))
    assert {n: round(float(a), 4) for n, a in zip(names, results.per_class_accuracy)} \
        == ev["per_class_accuracy"]
    # the very numbers Keras predicts, not merely the same rounded summary
    probs = model.predict(model_cards.to_model_input(x), batch_size=500, verbose=0)
    assert np.array_equal(results.probabilities, probs)
    assert np.array_equal(results.predictions, probs.argmax(axis=1))
    assert np.array_equal(results.labels, y)
    assert results.class_names == tuple(names)
    assert results.accuracy > 0.95 and results.correct.sum() == np.trace(results.confusion)


def test_results_are_cached_and_read_only(mnist, results):
    model, x, y, names = mnist
    assert evidence.test_results(model, x, y, names) is results
    for a in (results.probabilities, results.predictions, results.labels, results.confusion,
              results.per_class_accuracy, results.confidence, results.correct):
        assert not a.flags.writeable
    # another array (even with equal contents) is another test set
    other = evidence.test_results(model, x[:500].copy(), y[:500], names)
    assert other is not results and other.n == 500
    assert np.array_equal(other.probabilities, results.probabilities[:500])


def test_cells_match_the_confusion_matrix(results):
    k = len(results.class_names)
    for t in range(k):
        for p in range(k):
            cell = evidence.cell_examples(results, t, p, limit=None)
            assert len(cell) == results.confusion[t, p]
            assert np.all(results.labels[cell] == t) and np.all(results.predictions[cell] == p)
            conf = results.probabilities[cell, p]
            assert np.all(np.diff(conf) <= 0), "not surest first"
            top = evidence.cell_examples(results, t, p)
            assert np.array_equal(top, cell[:24])
    # indices are unique and the cells cover the test set
    everything = np.concatenate([evidence.cell_examples(results, t, p, limit=None)
                                 for t in range(k) for p in range(k)])
    assert np.array_equal(np.sort(everything), np.arange(results.n))


def test_confident_mistakes(results):
    wrong = evidence.confident_mistakes(results, limit=None)
    assert len(wrong) == results.n - np.trace(results.confusion) > 0
    assert np.all(results.predictions[wrong] != results.labels[wrong])
    conf = results.probabilities[wrong, results.predictions[wrong]]
    assert np.all(np.diff(conf) <= 0)
    assert np.array_equal(evidence.confident_mistakes(results, limit=5), wrong[:5])
    # nothing wrong is surer than the last one listed
    rest = np.setdiff1d(np.flatnonzero(~results.correct), wrong[:5])
    assert results.confidence[rest].max() <= conf[4]


@pytest.mark.parametrize("right", [True, False])
def test_examples_per_class(results, right):
    for c in range(len(results.class_names)):
        idx = evidence.examples_per_class(results, c, right=right, limit=None)
        expected = results.confusion[c, c] if right else results.confusion[c].sum() - results.confusion[c, c]
        assert len(idx) == expected
        assert np.all(results.labels[idx] == c)
        assert np.all((results.predictions[idx] == c) == right)
        assert np.all(np.diff(results.probabilities[idx, results.predictions[idx]]) <= 0)
        assert len(evidence.examples_per_class(results, c, right=right)) == min(expected, 12)


def test_bad_arguments(mnist, results):
    model, x, y, names = mnist
    with pytest.raises(ValueError, match="0..9"):
        evidence.cell_examples(results, 10, 0)
    with pytest.raises(ValueError, match="0..9"):
        evidence.examples_per_class(results, -1, right=True)
    with pytest.raises(ValueError, match="labels"):
        evidence.test_results(model, x, y[:10], names)
    with pytest.raises(ValueError, match="0..4"):
        evidence.test_results(model, x[:10], y[:10], names[:5])
    with pytest.raises(ValueError, match="10 outputs per image; 5 class names"):
        evidence.test_results(model, x[:10], y[:10] % 5, names[:5])
    with pytest.raises(ValueError, match="channels 0..63"):
        evidence.top_images_for_channel(model, "relu4", 64, x)
    with pytest.raises(ValueError):
        evidence.top_images_for_channel(model, "no_such_layer", 0, x)


def test_model_is_not_touched():
    """Predicting goes through a twin: not even Keras's predict function lands on the model."""
    keras.utils.set_random_seed(0)
    model = models.build("digits_cnn", "mnist")
    weights = [w.copy() for w in model.get_weights()]
    x = np.random.default_rng(0).integers(0, 256, (40, 28, 28), dtype=np.uint8)
    y = np.arange(40) % 10
    r = evidence.test_results(model, x, y, data.CLASS_NAMES["mnist"], batch_size=16)
    evidence.top_images_for_channel(model, "relu2", 0, x, batch_size=16)
    assert model.predict_function is None
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))
    np.testing.assert_allclose(r.probabilities,
                               np.asarray(model(model_cards.to_model_input(x), training=False)), **TOL)


def test_cache_lets_go_of_a_model():
    keras.utils.set_random_seed(0)
    model = models.build("digits_cnn", "mnist")
    x = np.zeros((4, 28, 28), np.uint8)
    evidence.test_results(model, x, np.zeros(4, int), data.CLASS_NAMES["mnist"])
    assert model in evidence._RESULTS._by_model
    before = len(evidence._RESULTS._by_model)
    del model
    gc.collect()
    assert len(evidence._RESULTS._by_model) == before - 1


# --- top images -------------------------------------------------------------------------------

@pytest.mark.parametrize("layer_name, channel", [("relu4", 5), ("conv1", 0), ("relu5", 17)])
def test_top_images_are_the_channels_maxima(mnist, layer_name, channel):
    model, x, _, _ = mnist
    top = evidence.top_images_for_channel(model, layer_name, channel, x, limit=9)
    assert len(top) == 9
    idx = np.array([t.index for t in top])
    scores = np.array([t.score for t in top])
    assert len(set(idx)) == 9 and np.all(np.diff(scores) <= 0)
    # recomputed by a Keras sub-model on those images alone
    maps = np.asarray(_sub(model, layer_name)(model_cards.to_model_input(x[idx]), training=False))[..., channel]
    np.testing.assert_allclose(scores, maps.max(axis=(1, 2)), **TOL)
    h, w = model.inputs[0].shape[1:3]
    rf = evidence.receptive_field(model, layer_name)
    for t, m in zip(top, maps):
        row, col = t.position
        np.testing.assert_allclose(m[row, col], m.max(), **TOL)      # the strongest response
        assert np.isclose(m.reshape(-1), m.max(), **TOL).argmax() == row * m.shape[1] + col  # first one
        top_, left, bottom, right = t.box
        cr, cc = rf.centre(row, col)
        assert 0 <= top_ <= cr < bottom <= h and 0 <= left <= cc < right <= w
    # no image left out scores higher than the last one in (all images, recomputed)
    everything = _layer_output(model, layer_name, x)[..., channel].max(axis=(1, 2))
    rest = np.setdiff1d(np.arange(len(x)), idx)
    assert everything[rest].max() <= scores[-1] + 1e-5 * abs(scores[-1])
    np.testing.assert_allclose(np.sort(everything)[::-1][:9], scores, **TOL)


def test_another_channel_runs_nothing(mnist, monkeypatch):
    model, x, _, _ = mnist
    calls = []
    real = evidence._run_layer

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(evidence, "_run_layer", counting)
    a = evidence.top_images_for_channel(model, "relu3", 1, x)
    assert len(calls) == 1
    b = evidence.top_images_for_channel(model, "relu3", 2, x, limit=3)
    c = evidence.top_images_for_channel(model, "relu3", 1, x)
    assert len(calls) == 1
    assert a == c and len(b) == 3
    stats = evidence.layer_stats(model, "relu3", x)
    assert stats.max.shape == (N, 64) and not stats.max.flags.writeable


def test_top_images_of_a_dense_unit(mnist):
    model, x, _, _ = mnist
    top = evidence.top_images_for_channel(model, "relu_dense1", 7, x, limit=4)
    values = _layer_output(model, "relu_dense1", x)[:, 7]
    np.testing.assert_allclose([t.score for t in top], np.sort(values)[::-1][:4], **TOL)
    assert all(t.position is None and t.box == (0, 0, 28, 28) for t in top)


@pytest.mark.parametrize("arch, dataset, layer_name", [
    ("digits_cnn", "mnist", "conv1"), ("digits_cnn", "mnist", "relu3"),
    ("digits_cnn", "mnist", "relu5"),                       # after a "valid" convolution
    ("wide_vgg", "cifar10", "pool1"), ("wide_vgg", "cifar10", "relu5")])
def test_receptive_field_is_the_whole_story(arch, dataset, layer_name):
    """Pixels outside the box never change the position's values; each edge of the box does."""
    keras.utils.set_random_seed(4)
    model = models.build(arch, dataset)
    rf = evidence.receptive_field(model, layer_name)
    grid = probe.receptive_field_grid(model, layer_name)
    assert (rf.centre0, rf.step) == grid
    sub = _sub(model, layer_name)
    shape = models.INPUT_SHAPES[dataset]
    hw = shape[:2]
    map_hw = sub.outputs[0].shape[1:3]
    rng = np.random.default_rng(5)
    x = rng.random(shape).astype(np.float32)
    for row, col in [(0, 0), (map_hw[0] // 2, map_hw[1] // 2), (map_hw[0] - 1, map_hw[1] - 1)]:
        top, left, bottom, right = rf.box(row, col, hw)
        assert 0 <= top < bottom <= hw[0] and 0 <= left < right <= hw[1]
        variants = [x]
        outside = x.copy()
        noise = rng.random(shape).astype(np.float32)
        mask = np.ones(hw, bool)
        mask[top:bottom, left:right] = False
        outside[mask] = noise[mask]
        variants.append(outside)
        edges = []                                          # unclipped edges of the box
        first_r = round(rf.centre(row, col)[0] - (rf.size[0] - 1) / 2)
        first_c = round(rf.centre(row, col)[1] - (rf.size[1] - 1) / 2)
        if first_r >= 0:
            edges.append((slice(top, top + 1), slice(left, right)))
        if first_r + rf.size[0] <= hw[0]:
            edges.append((slice(bottom - 1, bottom), slice(left, right)))
        if first_c >= 0:
            edges.append((slice(top, bottom), slice(left, left + 1)))
        if first_c + rf.size[1] <= hw[1]:
            edges.append((slice(top, bottom), slice(right - 1, right)))
        for e in edges:
            v = x.copy()
            v[e] = noise[e] + 1.0
            variants.append(v)
        out = np.asarray(sub(np.stack(variants), training=False))[:, row, col]
        np.testing.assert_allclose(out[1], out[0], rtol=1e-5, atol=1e-5)
        for k in range(len(edges)):
            assert not np.allclose(out[2 + k], out[0], rtol=1e-5, atol=1e-5), f"edge {k} changes nothing"
