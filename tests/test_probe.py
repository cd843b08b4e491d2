"""cnnviz.probe against Keras/TensorFlow computing the same things independently.

The "why" methods that moved to cnnviz.attributions are tested in test_attributions.py."""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from conftest import tape_grad  # noqa: E402

from cnnviz import models, probe  # noqa: E402

TOL = dict(rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- run

@pytest.mark.slow
def test_every_layer_output_matches_keras(net):
    model, p, x = net
    acts = p.run(x)
    assert [a.name for a in acts] == [layer.name for layer in model.layers]
    for a, layer in zip(acts, model.layers):
        ref = keras.Model(model.inputs, layer.output)([x[None]], training=False)
        np.testing.assert_allclose(a.output, keras.ops.convert_to_numpy(ref)[0], **TOL,
                                   err_msg=a.name)
        assert a.output.shape == tuple(layer.output.shape[1:])


def test_probabilities_equal_model_call(net):
    model, p, x = net
    ref = model(x[None], training=False).numpy()[0]
    np.testing.assert_allclose(p.run(x)[-1].output, ref, **TOL)
    np.testing.assert_allclose(p.probabilities(x), ref, **TOL)
    assert abs(float(p.probabilities(x).sum()) - 1.0) < 1e-5


def test_jit_and_plain_graphs_agree(net):
    model, p, x = net
    plain = probe.Probe(model, jit_compile=False)
    for a, b in zip(p.run(x), plain.run(x)):
        np.testing.assert_allclose(a.output, b.output, **TOL, err_msg=a.name)


def test_kinds_inputs_and_layer_facts(net):
    model, p, x = net
    acts = {a.name: a for a in p.run(x)}
    assert acts["image"].kind == "input" and acts["image"].input_name is None
    assert acts["conv1"].kind == "conv" and acts["conv1"].input_name == "image"
    assert acts["bn1"].kind == "batchnorm" and acts["relu1"].kind == "activation"
    assert acts["pool1"].kind == "pool" and acts["flatten"].kind == "flatten"
    assert acts["dropout1"].kind == "dropout" and acts["dense1"].kind == "dense"
    assert acts["softmax"].kind == "softmax" and acts["logits"].input_name == "dropout2"
    conv = model.get_layer("conv1")
    np.testing.assert_array_equal(acts["conv1"].info["kernel"], conv.kernel.numpy())
    assert acts["conv1"].info["padding"] == "same" and acts["conv1"].info["strides"] == (1, 1)
    assert acts["pool1"].info == {**acts["pool1"].info, "mode": "max", "pool_size": (2, 2)}
    assert acts["dropout1"].info["rate"] == pytest.approx(0.3)
    assert acts["dense1"].params == model.get_layer("dense1").count_params()
    with pytest.raises(TypeError):
        acts["conv1"].info["kernel"] = None  # read-only: shared by every session
    with pytest.raises(ValueError):
        acts["conv1"].info["kernel"][0, 0, 0, 0] = 1.0


def test_batchnorm_info_reproduces_the_layer(net):
    model, p, x = net
    acts = {a.name: a for a in p.run(x)}
    i = acts["bn1"].info
    y = i["gamma"] * (acts["conv1"].output - i["mean"]) / np.sqrt(i["variance"] + i["epsilon"]) + i["beta"]
    np.testing.assert_allclose(y, acts["bn1"].output, **TOL)


def test_bad_inputs_are_refused(net):
    model, p, x = net
    with pytest.raises(ValueError, match="shape"):
        p.run(x[:5])
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        p.run(bad)
    with pytest.raises(ValueError, match="class_index"):
        probe.saliency(p, x, 10)
    with pytest.raises(KeyError, match="No layer"):
        probe.layer_gradients(p, x, 0, "nope")


@pytest.mark.slow
def test_grayscale_without_channel_axis_is_accepted():
    model = models.build("digits_cnn", "mnist")
    p = probe.get_probe(model)
    assert probe.get_probe(model) is p
    x = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    np.testing.assert_array_equal(p.run(x)[-1].output, p.run(x[..., None])[-1].output)


# --------------------------------------------------------------------------- gradients

@pytest.mark.parametrize("layer", ["conv1", "relu2", "pool2", "flatten", "dense1", "dropout2"])
def test_layer_gradients_match_tape(net, layer):
    model, p, x = net
    _, ref = tape_grad(model.get_layer(layer), model, x, 7)
    g = probe.layer_gradients(p, x, 7, layer)
    assert g.shape == ref.shape
    np.testing.assert_allclose(g, ref, rtol=1e-4, atol=1e-6)


def test_no_gradient_after_the_score(net):
    model, p, x = net
    with pytest.raises(ValueError, match="after"):
        probe.layer_gradients(p, x, 0, "softmax")
    logits_grad = probe.layer_gradients(p, x, 3, "logits")
    np.testing.assert_allclose(logits_grad, np.eye(10, dtype=np.float32)[3], atol=1e-7)


# --------------------------------------------------------------------------- dropout, moved names

def test_dropout_sample_is_keras_dropout():
    v = np.linspace(0.5, 2, 400).astype(np.float32)
    scale, out = probe.dropout_sample(v, 0.3, seed=4)
    kept = scale != 0
    np.testing.assert_allclose(scale[kept], 1 / 0.7, rtol=1e-6)
    np.testing.assert_allclose(out, v * scale, **TOL)
    assert 0.2 < np.mean(scale == 0) < 0.4
    scale2, _ = probe.dropout_sample(v, 0.3, seed=4)
    np.testing.assert_array_equal(scale, scale2)
    with pytest.raises(ValueError, match="rate"):
        probe.dropout_sample(v, 1.0)


def test_moved_names_still_work_from_probe(net):
    """saliency, Grad-CAM and contributions moved to cnnviz.attributions; the pages, layer
    views and benchmarks still call them as probe.saliency, probe.grad_cam, ..."""
    from cnnviz import attributions
    from cnnviz.probe import grad_cam as from_import   # a from-import works too

    for name in ("saliency", "MAX_SMOOTHGRAD_SAMPLES", "grad_cam", "grad_cam_coarse", "default_cam_layer",
                 "receptive_field_grid", "resize_bilinear", "contributions", "Contributions"):
        assert getattr(probe, name) is getattr(attributions, name), name
        assert name in dir(probe)
    assert from_import is attributions.grad_cam
    with pytest.raises(AttributeError, match="no_such_name"):
        probe.no_such_name
    model, p, x = net
    np.testing.assert_array_equal(probe.saliency(p, x, 1), attributions.saliency(p, x, 1))
    assert probe.default_cam_layer(p) == attributions.default_cam_layer(p)


def test_probes_of_many_models_do_not_keep_them_all():
    import gc
    import weakref

    def tiny():
        inputs = keras.Input((6, 6, 1))
        x = keras.layers.Conv2D(2, 3)(inputs)
        x = keras.layers.Flatten()(x)
        return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))

    first = tiny()
    gone = weakref.ref(first)
    assert probe.get_probe(first) is probe.get_probe(first)
    for _ in range(probe.MAX_PROBES):
        probe.get_probe(tiny())
    assert len(probe._PROBES) <= probe.MAX_PROBES
    del first
    gc.collect()
    assert gone() is None   # the first model's Probe was dropped, and the model with it
