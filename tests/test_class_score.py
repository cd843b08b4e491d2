"""One class score for every method: each "why" method explains the class's logit (the input of
the softmax), on every kind of model a person can bring, checked against hand-written
tf.GradientTape references that find the logit on their own (not through cnnviz.class_score)."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from cnnviz import architectures, attributions, builder, class_score, probe  # noqa: E402
maximise_module = importlib.import_module("cnnviz.attributions.maximise")

TOL = dict(rtol=1e-4, atol=1e-5)
CLASS = 2


def _randomise(model, seed):
    """Random weights with some spread, so every class has a different logit and gradient."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        if "moving_variance" in v.path:
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype(np.float32))
        elif v.trainable or "moving_mean" in v.path:
            v.assign(rng.normal(0, 0.3, v.shape).astype(np.float32))


def builder_network():
    """A /train network: builder.build's Sequential ending in Dense(n, softmax)."""
    model = builder.build(architectures.PRESETS["tiny"], (28, 28, 1), 10, seed=1)
    _randomise(model, 1)
    return model, "output", "head"


def sequential_dense_softmax():
    """A person's own Sequential model of another input size, dropout before the Dense-softmax."""
    keras.utils.set_random_seed(2)
    model = keras.Sequential([
        keras.Input((20, 24, 3)),
        keras.layers.Conv2D(5, 3, activation="relu", name="conv_a"),
        keras.layers.MaxPooling2D(2, name="pool_a"),
        keras.layers.Conv2D(6, 3, padding="same", name="conv_b"),
        keras.layers.ReLU(name="relu_b"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(16, activation="relu", name="hidden"),
        keras.layers.Dropout(0.4, name="drop"),
        keras.layers.Dense(4, activation="softmax", name="probs"),
    ], name="own_sequential")
    _randomise(model, 2)
    return model, "probs", "head"


def functional_softmax_layer():
    """A functional model whose scores go through a separate Softmax layer."""
    keras.utils.set_random_seed(3)
    inp = keras.Input((16, 16, 1), name="pixels")
    h = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inp)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Activation("relu", name="act")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    scores = keras.layers.Dense(3, name="scores")(h)
    model = keras.Model(inp, keras.layers.Softmax(name="probabilities")(scores), name="own_functional")
    _randomise(model, 3)
    return model, "scores", "layer"


MODELS = {"builder": builder_network, "sequential_dense_softmax": sequential_dense_softmax,
          "functional_softmax_layer": functional_softmax_layer}


@pytest.fixture(scope="module", params=list(MODELS))
def case(request):
    model, logit_layer, how = MODELS[request.param]()
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    x = np.random.default_rng(5).random(shape).astype(np.float32)
    return model, logit_layer, how, x


def _reference(model, logit_layer: str, how: str):
    """f(x batch) -> (logits, {layer name: output}) written out by hand from the model's layers:
    how == "head": the logits are logit_layer's input @ kernel + bias (a Dense with softmax);
    how == "layer": logit_layer's output."""
    names = [layer.name for layer in model.layers]
    layer = model.get_layer(logit_layer)
    taps = [model.get_layer(n).output for n in names]
    graph = keras.Model(model.inputs, [layer.input if how == "head" else layer.output, *taps])

    def f(xb):
        source, *outs = graph([xb], training=False)
        z = source @ layer.kernel + layer.bias if how == "head" else source
        return z, dict(zip(names, outs))

    return f


def _tape(model, logit_layer, how, xb, cls, wrt: str | None = None):
    """(d logit[cls] / d input (or / d layer wrt's output), logits), by a plain GradientTape."""
    f = _reference(model, logit_layer, how)
    xt = tf.constant(xb)
    if wrt is None:
        with tf.GradientTape() as tape:
            tape.watch(xt)
            z, _ = f(xt)
            total = tf.reduce_sum(z[:, cls])
        return tape.gradient(total, xt).numpy(), z.numpy()
    # the gradient at an inner layer: cut the graph there and feed the layer's output back in
    names = [layer.name for layer in model.layers]
    rest = names[names.index(wrt) + 1:]
    _, outs = f(xt)
    a = tf.constant(outs[wrt])
    with tf.GradientTape() as tape:
        tape.watch(a)
        h = a
        for n in rest:
            lyr = model.get_layer(n)
            if n == logit_layer and how == "head":
                h = h @ lyr.kernel + lyr.bias
                break
            h = lyr(h, training=False)
            if n == logit_layer:
                break
        total = tf.reduce_sum(h[:, cls])
    return tape.gradient(total, a).numpy(), np.asarray(outs[wrt])


def test_the_logit_is_found_the_same_way_for_every_model(case):
    model, logit_layer, how, x = case
    score = class_score.find(model)
    assert (score.head is not None) == (how == "head")
    assert score.layer == logit_layer
    z_ref, _ = _reference(model, logit_layer, how)(x[None])
    np.testing.assert_allclose(attributions.logits(model, x), z_ref.numpy()[0], **TOL)
    probs = model(x[None], training=False).numpy()[0]
    np.testing.assert_allclose(keras.ops.softmax(z_ref).numpy()[0], probs, atol=1e-6)
    assert "softmax" in score.describe("“cat”") and "logit of “cat”" in score.describe("“cat”")


def test_saliency_is_the_logit_gradient(case):
    model, logit_layer, how, x = case
    g, _ = _tape(model, logit_layer, how, x[None], CLASS)
    np.testing.assert_allclose(attributions.saliency(model, x, CLASS), np.abs(g[0]).max(axis=-1), **TOL)


def test_smoothgrad_is_the_mean_logit_gradient_of_the_noisy_copies(case):
    model, logit_layer, how, x = case
    n, noise, seed = 7, 0.2, 11
    span = float(x.max() - x.min())
    rng = np.random.default_rng(seed)
    noisy = x[None] + rng.normal(0.0, noise * span, size=(n, *x.shape)).astype(np.float32)
    g, _ = _tape(model, logit_layer, how, noisy, CLASS)
    ref = np.abs(g).max(axis=-1).mean(axis=0)
    got = attributions.saliency(model, x, CLASS, smoothgrad_samples=n, noise=noise, seed=seed)
    np.testing.assert_allclose(got, ref, **TOL)


def test_layer_gradients_are_of_the_logit(case):
    model, logit_layer, how, x = case
    p = probe.get_probe(model)
    inner = [s.name for s in p.specs if s.kind != "input" and s.index < p.score_index]
    assert inner
    for name in inner:
        g, _ = _tape(model, logit_layer, how, x[None], CLASS, wrt=name)
        np.testing.assert_allclose(probe.layer_gradients(model, x, CLASS, name), g[0], err_msg=name, **TOL)


def test_grad_cam_weights_the_maps_by_the_logit_gradient(case):
    model, logit_layer, how, x = case
    layer = attributions.default_cam_layer(model)
    g, a = _tape(model, logit_layer, how, x[None], CLASS, wrt=layer)
    ref = np.maximum(a[0] @ g[0].mean(axis=(0, 1)), 0.0)
    np.testing.assert_allclose(attributions.grad_cam_coarse(model, x, CLASS, layer), ref, **TOL)


@pytest.mark.slow
def test_contributions_split_the_logit(case):
    model, logit_layer, how, x = case
    z, _ = _reference(model, logit_layer, how)(x[None])
    con = attributions.contributions(model, x, CLASS)
    assert con.exact
    assert con.logit == pytest.approx(float(z[0, CLASS]), abs=1e-5)
    assert float(con.contributions.sum()) + con.bias == pytest.approx(con.logit, abs=1e-4)
    # elsewhere: gradient x activation of the logit
    p = probe.get_probe(model)
    conv = next(s.name for s in p.specs if s.kind == "conv")
    g, a = _tape(model, logit_layer, how, x[None], CLASS, wrt=conv)
    est = attributions.contributions(model, x, CLASS, conv)
    assert not est.exact
    np.testing.assert_allclose(np.sort(est.contributions), np.sort((a[0] * g[0]).reshape(-1)), **TOL)


def test_integrated_gradients_add_up_to_the_logit_change(case):
    model, logit_layer, how, x = case
    z, _ = _reference(model, logit_layer, how)(np.stack([x, np.zeros_like(x)]))
    attr = attributions.integrated_gradients(model, x, CLASS, steps=256)
    change = float(z[0, CLASS] - z[1, CLASS])
    assert float(attr.sum()) == pytest.approx(change, rel=0.02, abs=1e-3)


@pytest.mark.slow
def test_maximise_of_the_output_climbs_the_logit(case):
    model, logit_layer, how, x = case
    out = model.layers[-1].name
    img = attributions.maximise(model, out, CLASS, steps=20)
    z, _ = _reference(model, logit_layer, how)(img[None])
    assert maximise_module.objective(model, out, CLASS, img) == pytest.approx(float(z[0, CLASS]), rel=1e-4, abs=1e-5)


def test_no_gradient_after_the_logits(case):
    model, logit_layer, how, x = case
    p = probe.get_probe(model)
    with pytest.raises(ValueError, match="after the logits"):
        probe.layer_gradients(model, x, CLASS, model.layers[-1].name)
    assert p.specs[p.score_index].name == (p.class_score.source)


def test_a_sequential_model_needs_its_input_shape():
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match="no input shape yet"):
        probe.Probe(model)


def test_a_big_network_gets_small_chunks_with_the_same_numbers():
    """The scorer's batches hold at most MAX_CHUNK_VALUES layer values: a big network is sent
    through a few images at a time, and the logit gradients do not depend on the chunking."""
    scores = importlib.import_module("cnnviz.attributions._scores")
    model, logit_layer, how = sequential_dense_softmax()
    p = probe.Probe(model)
    scorer = scores.Scorer(p)
    per_image = sum(int(np.prod(s.output_shape)) for s in p.specs)
    assert scorer.chunk == min(scorer.CHUNK, scorer.MAX_CHUNK_VALUES // per_image)
    xb = np.random.default_rng(9).random((5, *p.input_shape)).astype(np.float32)
    whole, _ = scorer.logit_gradient(xb, CLASS)
    scorer.chunk = 2
    np.testing.assert_allclose(scorer.logit_gradient(xb, CLASS)[0], whole, **TOL)
    g, _ = _tape(model, logit_layer, how, xb, CLASS)
    np.testing.assert_allclose(whole, g, **TOL)
