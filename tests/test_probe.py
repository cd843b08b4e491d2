"""cnnviz.probe against Keras/TensorFlow computing the same things independently."""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from cnnviz import models, probe  # noqa: E402

TOL = dict(rtol=1e-5, atol=1e-5)


def _randomise_batchnorm(model, seed: int) -> None:
    """Give BN layers non-trivial statistics so that they change the numbers."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
            layer.beta.assign(rng.normal(0, 0.2, n).astype("float32"))
            layer.moving_mean.assign(rng.normal(0, 0.3, n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.2, 2.0, n).astype("float32"))


@pytest.fixture(scope="module", params=[("digits_cnn", "mnist"), ("small_vgg", "cifar10")],
                ids=["digits_cnn", "small_vgg"])
def net(request):
    arch, dataset = request.param
    keras.utils.set_random_seed(1)
    model = models.build(arch, dataset)
    _randomise_batchnorm(model, 2)
    p = probe.Probe(model)
    x = np.random.default_rng(3).random(models.INPUT_SHAPES[dataset]).astype(np.float32)
    return model, p, x


def _logit_model(model):
    return keras.Model(model.inputs, model.get_layer("logits").output)


def _tape_grad(sub_model, model, x, cls):
    """d logit[cls] / d sub_model's output, by a plain GradientTape on two Keras models."""
    both = keras.Model(model.inputs, [sub_model.output, model.get_layer("logits").output])
    xt = tf.constant(x[None])
    with tf.GradientTape() as tape:
        tape.watch(xt)
        a, logits = both([xt], training=False)
        score = logits[0, cls]
    return a.numpy()[0], tape.gradient(score, a).numpy()[0]


# --------------------------------------------------------------------------- run

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


def test_grayscale_without_channel_axis_is_accepted():
    model = models.build("digits_cnn", "mnist")
    p = probe.get_probe(model)
    assert probe.get_probe(model) is p
    x = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    np.testing.assert_array_equal(p.run(x)[-1].output, p.run(x[..., None])[-1].output)


# --------------------------------------------------------------------------- gradients

def test_saliency_is_abs_input_gradient(net):
    model, p, x = net
    cls = 4
    xt = tf.constant(x[None])
    with tf.GradientTape() as tape:
        tape.watch(xt)
        score = _logit_model(model)([xt], training=False)[0, cls]
    ref = np.abs(tape.gradient(score, xt).numpy()[0]).max(axis=-1)
    sal = probe.saliency(p, x, cls)
    assert sal.shape == x.shape[:2]
    assert (sal >= 0).all()
    np.testing.assert_allclose(sal, ref, rtol=1e-4, atol=1e-6)


def test_smoothgrad_reproducible_by_seed_and_equal_to_the_definition(net):
    model, p, x = net
    n, noise, seed = 13, 0.2, 5   # 13: more than one chunk, the last one padded
    a = probe.saliency(p, x, 2, smoothgrad_samples=n, noise=noise, seed=seed)
    fresh = probe.Probe(model, jit_compile=False)   # nothing remembered: computed again
    b = probe.saliency(fresh, x, 2, smoothgrad_samples=n, noise=noise, seed=seed)
    c = probe.saliency(p, x, 2, smoothgrad_samples=n, noise=noise, seed=seed + 1)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert probe.saliency(p, x, 2, smoothgrad_samples=n, noise=noise, seed=seed) is a  # remembered
    assert not np.allclose(a, c)
    assert a.shape == x.shape[:2] and (a >= 0).all()
    rng = np.random.default_rng(seed)
    span = float(x.max() - x.min())
    noisy = x[None] + rng.normal(0, noise * span, size=(n, *x.shape)).astype(np.float32)
    xt = tf.constant(noisy)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        score = tf.reduce_sum(_logit_model(model)([xt], training=False)[:, 2])
    ref = np.abs(tape.gradient(score, xt).numpy()).max(axis=-1).mean(axis=0)
    np.testing.assert_allclose(a, ref, rtol=1e-4, atol=1e-6)


def test_saliency_rejects_bad_settings(net):
    model, p, x = net
    with pytest.raises(ValueError, match="smoothgrad_samples"):
        probe.saliency(p, x, 0, smoothgrad_samples=-1)
    with pytest.raises(ValueError, match="smoothgrad_samples"):   # bounded work per request
        probe.saliency(p, x, 0, smoothgrad_samples=probe.MAX_SMOOTHGRAD_SAMPLES + 1)
    with pytest.raises(ValueError, match="noise"):
        probe.saliency(p, x, 0, smoothgrad_samples=3, noise=2.0)


@pytest.mark.parametrize("layer", ["conv1", "relu2", "pool2", "flatten", "dense1", "dropout2"])
def test_layer_gradients_match_tape(net, layer):
    model, p, x = net
    _, ref = _tape_grad(model.get_layer(layer), model, x, 7)
    g = probe.layer_gradients(p, x, 7, layer)
    assert g.shape == ref.shape
    np.testing.assert_allclose(g, ref, rtol=1e-4, atol=1e-6)


def test_no_gradient_after_the_score(net):
    model, p, x = net
    with pytest.raises(ValueError, match="after"):
        probe.layer_gradients(p, x, 0, "softmax")
    logits_grad = probe.layer_gradients(p, x, 3, "logits")
    np.testing.assert_allclose(logits_grad, np.eye(10, dtype=np.float32)[3], atol=1e-7)


def test_grad_cam_matches_keras_io_recipe(net):
    """keras-io's recipe at a 'same'-padded layer (where placing the cells on their receptive
    fields is exactly tf.image.resize)."""
    model, p, x = net
    layer = "relu4"
    assert p.spec(probe.default_cam_layer(p)).kind in ("activation", "conv", "batchnorm")
    assert p.spec(layer).kind in ("activation", "conv", "batchnorm")
    a, g = _tape_grad(model.get_layer(layer), model, x, 1)
    heat = np.maximum(a @ g.mean(axis=(0, 1)), 0)
    big = tf.image.resize(heat[None, :, :, None], x.shape[:2], method="bilinear").numpy()[0, :, :, 0]
    ref = big / big.max() if big.max() > 0 else big
    cam = probe.grad_cam(p, x, 1, layer)
    assert cam.shape == x.shape[:2] and cam.min() >= 0 and cam.max() <= 1
    np.testing.assert_allclose(cam, ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="H x W x C"):
        probe.grad_cam(p, x, 1, "dense1")


@pytest.mark.parametrize("src,dst", [((5, 5), (28, 28)), ((8, 8), (32, 32)), ((7, 3), (10, 20)),
                                     ((4, 6), (2, 3)), ((1, 1), (5, 5))])
def test_resize_bilinear_matches_tf_image_resize(src, dst):
    a = np.random.default_rng(0).normal(size=src).astype(np.float32)
    ref = tf.image.resize(a[None, :, :, None], dst, method="bilinear").numpy()[0, :, :, 0]
    np.testing.assert_allclose(probe.resize_bilinear(a, dst), ref, **TOL)


# --------------------------------------------------------------------------- contributions, dropout

def test_contributions_split_the_logit_exactly(net):
    model, p, x = net
    acts = p.run(x)
    con = probe.contributions(p, x, 6, activations=acts)
    assert con.exact and con.layer_name == "relu_dense1"
    logit = float(acts[p.index["logits"]].output[6])
    assert con.logit == pytest.approx(logit, abs=1e-6)
    assert float(con.contributions.sum()) + con.bias == pytest.approx(logit, abs=1e-4)
    assert (np.diff(con.contributions) <= 0).all()
    w = model.get_layer("logits").kernel.numpy()[:, 6]
    a = acts[p.index["relu_dense1"]].output
    np.testing.assert_allclose(con.contributions, (a * w)[con.units], **TOL)
    # dropout2 passes relu_dense1 through unchanged at inference: the same exact split.
    same = probe.contributions(p, x, 6, "dropout2", activations=acts)
    assert same.exact and same.layer_name == "dropout2"
    assert same.bias == con.bias and same.logit == con.logit
    np.testing.assert_array_equal(same.units, con.units)
    np.testing.assert_array_equal(same.contributions, con.contributions)


def test_contributions_elsewhere_are_gradient_times_activation(net):
    model, p, x = net
    con = probe.contributions(p, x, 2, "flatten")
    assert not con.exact and con.bias is None
    a, g = _tape_grad(model.get_layer("flatten"), model, x, 2)
    np.testing.assert_allclose(np.sort(con.contributions)[::-1], np.sort(a * g)[::-1],
                               rtol=1e-4, atol=1e-6)


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


# --------------------------------------------------------------------------- trained model

def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out |= np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    return out


@pytest.mark.slow
def test_grad_cam_of_trained_mnist_lights_up_the_ink(data_dir):
    """Per pixel, Grad-CAM of the true class puts more mass on the ink (dilated by 2 px) than
    off it: on average over 50 random test digits by a factor >= 1.5, and for >= 80% of them
    one by one (the default layer's maps are 5 x 5: some digits are judged by the empty space
    around the strokes, e.g. the sides of a "1")."""
    from cnnviz import data
    model = models.load_pretrained("mnist")
    p = probe.get_probe(model)
    _, (x_test, y_test), _ = data.load_dataset("mnist", data_dir)
    idx = np.random.default_rng(0).choice(len(x_test), 50, replace=False)
    on, off = [], []
    for i in idx:
        x = (x_test[i].astype(np.float32) / 255.0)[..., None]
        cam = probe.grad_cam(p, x, int(y_test[i]))
        ink = _dilate(x[..., 0] > 0.3, 2)
        on.append(cam[ink].mean())
        off.append(cam[~ink].mean())
    on, off = np.array(on), np.array(off)
    assert on.mean() >= 1.5 * off.mean(), (on.mean(), off.mean())
    assert (on > off).mean() >= 0.8, f"ink won in only {(on > off).sum()} of {len(on)} digits"


def test_grad_cam_is_placed_on_the_receptive_fields():
    """After the 'valid' conv5 the 5 x 5 map sits on input pixels 5.5, 9.5, ..., 21.5, not
    stretched over 0..27; for 'same'-padded layers the placement equals tf.image.resize."""
    model = models.build("digits_cnn", "mnist")
    p = probe.get_probe(model)
    assert probe.receptive_field_grid(p, "relu5") == ((5.5, 5.5), (4.0, 4.0))
    assert probe.receptive_field_grid(p, "pool1") == ((0.5, 0.5), (2.0, 2.0))
    assert probe.receptive_field_grid(p, "dense1") is None
    a = np.random.default_rng(1).random((14, 14)).astype(np.float32)
    (r0, c0), (sr, sc) = probe.receptive_field_grid(p, "relu4")
    placed = probe._bilinear(a, (np.arange(28) - r0) / sr, (np.arange(28) - c0) / sc)
    ref = tf.image.resize(a[None, :, :, None], (28, 28), method="bilinear").numpy()[0, :, :, 0]
    np.testing.assert_allclose(placed, ref, **TOL)
