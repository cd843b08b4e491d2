"""cnnviz.attributions: each "why" method against its definition, computed independently
with Keras/TensorFlow (gradient tapes, model calls on hand-made batches)."""
from __future__ import annotations

import gc
import importlib

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from conftest import tape_grad  # noqa: E402

from cnnviz import attributions, model_input, models, probe, samples# noqa: E402

# The submodules (the package's names saliency, occlusion, ... are the functions).
ig_mod = importlib.import_module("cnnviz.attributions.integrated_gradients")
occ_mod = importlib.import_module("cnnviz.attributions.occlusion")
max_mod = importlib.import_module("cnnviz.attributions.maximise")
geometry = importlib.import_module("cnnviz.attributions._geometry")

TOL = dict(rtol=1e-5, atol=1e-5)
MNIST_SAMPLES = ["mnist-3", "mnist-8", "mnist-5", "mnist-2", "mnist-0", "mnist-7"]
CIFAR_SAMPLES = ["cifar-cat", "cifar-dog", "cifar-ship", "cifar-frog", "cifar-bird", "cifar-airplane",
                 "cifar-horse", "cifar-automobile"]


@pytest.fixture(scope="module", params=["mnist", "cifar10"])
def pretrained(request):
    """A shipped model and its sample pictures, prepared as the app prepares them."""
    model = models.load_pretrained(request.param)
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    names = MNIST_SAMPLES if request.param == "mnist" else CIFAR_SAMPLES
    xs = np.stack([model_input.fit_input(samples.load_sample(n).pixels, *shape)[0] for n in names])
    return model, xs


def _logit_model(model):
    return keras.Model(model.inputs, model.get_layer("logits").output)


def test_public_names():
    for name in ("saliency", "grad_cam", "grad_cam_coarse", "default_cam_layer", "integrated_gradients",
                 "occlusion", "maximise", "maximise_grid", "contributions", "logits"):
        assert callable(getattr(attributions, name)), name
    for mod in ("saliency", "gradcam", "contributions", "integrated_gradients", "occlusion", "maximise"):
        doc = importlib.import_module(f"cnnviz.attributions.{mod}").__doc__
        assert "20" in doc and "Reference" in doc, mod    # each cites its paper(s)


# --------------------------------------------------------------------------- saliency, SmoothGrad

@pytest.mark.slow
def test_saliency_is_abs_input_gradient(net):
    model, p, x = net
    cls = 4
    xt = tf.constant(x[None])
    with tf.GradientTape() as tape:
        tape.watch(xt)
        score = _logit_model(model)([xt], training=False)[0, cls]
    ref = np.abs(tape.gradient(score, xt).numpy()[0]).max(axis=-1)
    sal = attributions.saliency(p, x, cls)
    assert sal.shape == x.shape[:2]
    assert (sal >= 0).all()
    np.testing.assert_allclose(sal, ref, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_smoothgrad_reproducible_by_seed_and_equal_to_the_definition(net):
    model, p, x = net
    n, noise, seed = 13, 0.2, 5   # 13: more than one chunk, the last one padded
    a = attributions.saliency(p, x, 2, smoothgrad_samples=n, noise=noise, seed=seed)
    fresh = probe.Probe(model, jit_compile=False)   # nothing remembered: computed again
    b = attributions.saliency(fresh, x, 2, smoothgrad_samples=n, noise=noise, seed=seed)
    c = attributions.saliency(p, x, 2, smoothgrad_samples=n, noise=noise, seed=seed + 1)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert attributions.saliency(p, x, 2, smoothgrad_samples=n, noise=noise, seed=seed) is a  # remembered
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
        attributions.saliency(p, x, 0, smoothgrad_samples=-1)
    with pytest.raises(ValueError, match="smoothgrad_samples"):   # bounded work per request
        attributions.saliency(p, x, 0, smoothgrad_samples=attributions.MAX_SMOOTHGRAD_SAMPLES + 1)
    with pytest.raises(ValueError, match="noise"):
        attributions.saliency(p, x, 0, smoothgrad_samples=3, noise=2.0)
    with pytest.raises(ValueError, match="class_index"):
        attributions.saliency(p, x, 10)


# --------------------------------------------------------------------------- Grad-CAM

@pytest.mark.slow
def test_grad_cam_matches_keras_io_recipe(net):
    """keras-io's recipe at a 'same'-padded layer (where placing the cells on their receptive
    fields is exactly tf.image.resize)."""
    model, p, x = net
    layer = "relu4"
    assert p.spec(attributions.default_cam_layer(p)).kind in ("activation", "conv", "batchnorm")
    assert p.spec(layer).kind in ("activation", "conv", "batchnorm")
    a, g = tape_grad(model.get_layer(layer), model, x, 1)
    heat = np.maximum(a @ g.mean(axis=(0, 1)), 0)
    np.testing.assert_allclose(attributions.grad_cam_coarse(p, x, 1, layer), heat, rtol=1e-4, atol=1e-5)
    big = tf.image.resize(heat[None, :, :, None], x.shape[:2], method="bilinear").numpy()[0, :, :, 0]
    ref = big / big.max() if big.max() > 0 else big
    cam = attributions.grad_cam(p, x, 1, layer)
    assert cam.shape == x.shape[:2] and cam.min() >= 0 and cam.max() <= 1
    np.testing.assert_allclose(cam, ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="H x W x C"):
        attributions.grad_cam(p, x, 1, "dense1")


@pytest.mark.parametrize("src,dst", [((5, 5), (28, 28)), ((8, 8), (32, 32)), ((7, 3), (10, 20)),
                                     ((4, 6), (2, 3)), ((1, 1), (5, 5))])
def test_resize_bilinear_matches_tf_image_resize(src, dst):
    a = np.random.default_rng(0).normal(size=src).astype(np.float32)
    ref = tf.image.resize(a[None, :, :, None], dst, method="bilinear").numpy()[0, :, :, 0]
    np.testing.assert_allclose(attributions.resize_bilinear(a, dst), ref, **TOL)


def test_grad_cam_is_placed_on_the_receptive_fields():
    """After the 'valid' conv5 the 5 x 5 map sits on input pixels 5.5, 9.5, ..., 21.5, not
    stretched over 0..27; for 'same'-padded layers the placement equals tf.image.resize."""
    model = models.build("digits_cnn", "mnist")
    p = probe.get_probe(model)
    grid = attributions.receptive_field_grid
    assert grid(p, "relu5") == ((5.5, 5.5), (4.0, 4.0))
    assert grid(p, "pool1") == ((0.5, 0.5), (2.0, 2.0))
    assert grid(p, "dense1") is None
    a = np.random.default_rng(1).random((14, 14)).astype(np.float32)
    (r0, c0), (sr, sc) = grid(p, "relu4")
    placed = geometry._bilinear(a, (np.arange(28) - r0) / sr, (np.arange(28) - c0) / sc)
    ref = tf.image.resize(a[None, :, :, None], (28, 28), method="bilinear").numpy()[0, :, :, 0]
    np.testing.assert_allclose(placed, ref, **TOL)


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
        cam = attributions.grad_cam(p, x, int(y_test[i]))
        ink = _dilate(x[..., 0] > 0.3, 2)
        on.append(cam[ink].mean())
        off.append(cam[~ink].mean())
    on, off = np.array(on), np.array(off)
    assert on.mean() >= 1.5 * off.mean(), (on.mean(), off.mean())
    assert (on > off).mean() >= 0.8, f"ink won in only {(on > off).sum()} of {len(on)} digits"


# --------------------------------------------------------------------------- contributions

@pytest.mark.slow
def test_contributions_split_the_logit_exactly(net):
    model, p, x = net
    acts = p.run(x)
    con = attributions.contributions(p, x, 6, activations=acts)
    assert con.exact and con.layer_name == "relu_dense1"
    logit = float(acts[p.index["logits"]].output[6])
    assert con.logit == pytest.approx(logit, abs=1e-6)
    assert float(con.contributions.sum()) + con.bias == pytest.approx(logit, abs=1e-4)
    assert (np.diff(con.contributions) <= 0).all()
    w = model.get_layer("logits").kernel.numpy()[:, 6]
    a = acts[p.index["relu_dense1"]].output
    np.testing.assert_allclose(con.contributions, (a * w)[con.units], **TOL)
    # dropout2 passes relu_dense1 through unchanged at inference: the same exact split.
    same = attributions.contributions(p, x, 6, "dropout2", activations=acts)
    assert same.exact and same.layer_name == "dropout2"
    assert same.bias == con.bias and same.logit == con.logit
    np.testing.assert_array_equal(same.units, con.units)
    np.testing.assert_array_equal(same.contributions, con.contributions)


@pytest.mark.slow
def test_contributions_elsewhere_are_gradient_times_activation(net):
    model, p, x = net
    con = attributions.contributions(p, x, 2, "flatten")
    assert not con.exact and con.bias is None
    a, g = tape_grad(model.get_layer("flatten"), model, x, 2)
    np.testing.assert_allclose(np.sort(con.contributions)[::-1], np.sort(a * g)[::-1],
                               rtol=1e-4, atol=1e-6)


def test_contributions_of_a_dense_softmax_output_split_its_logit():
    """The builder's output layer is Dense(n, softmax): the exact split adds up to the
    pre-softmax score, and that is the logit reported (not the probability)."""
    model = _small_head_model("dense_softmax")
    x = np.random.default_rng(0).random((8, 8, 1)).astype(np.float32)
    con = attributions.contributions(model, x, 1)
    assert con.exact and con.layer_name == "hidden"
    h = keras.Model(model.inputs, model.get_layer("hidden").output)([x[None]]).numpy()[0]
    out = model.get_layer("out")
    ref = float(h @ out.kernel.numpy()[:, 1] + out.bias.numpy()[1])
    assert con.logit == pytest.approx(ref, abs=1e-5)
    assert float(con.contributions.sum()) + con.bias == pytest.approx(ref, abs=1e-4)


# --------------------------------------------------------------------------- integrated gradients

def _linear_model(kind: str, shape=(6, 5, 3), n=4, seed=0):
    """Linear class scores z = flatten(x) @ W + b, ending the three ways the explorer sees:
    a "logits" Dense + Softmax (the cnnviz architectures), a Dense + Softmax layer of another
    name (an uploaded model), or one Dense(n, softmax) (the builder's output)."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input(shape, name="image")
    flat = keras.layers.Flatten(name="flatten")(inp)
    if kind == "logits":
        out = keras.layers.Softmax(name="softmax")(keras.layers.Dense(n, name="logits")(flat))
    elif kind == "softmax_layer":
        out = keras.layers.Softmax(name="probabilities")(keras.layers.Dense(n, name="scores")(flat))
    else:
        out = keras.layers.Dense(n, activation="softmax", name="out")(flat)
    model = keras.Model(inp, out)
    dense = model.layers[2]
    rng = np.random.default_rng(seed)
    dense.kernel.assign(rng.normal(0, 1, dense.kernel.shape).astype(np.float32))
    dense.bias.assign(rng.normal(0, 1, dense.bias.shape).astype(np.float32))
    return model, dense.kernel.numpy(), dense.bias.numpy()


def _small_head_model(kind: str):
    keras.utils.set_random_seed(4)
    inp = keras.Input((8, 8, 1), name="image")
    h = keras.layers.Dense(6, activation="relu", name="hidden")(keras.layers.Flatten(name="flatten")(inp))
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax", name="out")(h))


@pytest.mark.parametrize("kind", ["logits", "softmax_layer", "dense_softmax"])
def test_logits_are_the_pre_softmax_scores(kind):
    model, w, b = _linear_model(kind)
    x = np.random.default_rng(1).random((3, 6, 5, 3)).astype(np.float32)
    ref = x.reshape(3, -1) @ w + b
    np.testing.assert_allclose(attributions.logits(model, x), ref, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(attributions.logits(model, x[0]), ref[0], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(keras.ops.softmax(ref).numpy(), model(x, training=False).numpy(), atol=1e-6)


@pytest.mark.parametrize("kind", ["logits", "softmax_layer", "dense_softmax"])
@pytest.mark.parametrize("baseline", [None, "blur", "array"])
@pytest.mark.parametrize("steps,adaptive", [(2, False), (64, True)])
def test_integrated_gradients_of_a_linear_model_are_exact(kind, baseline, steps, adaptive):
    """z_c = sum_i x_i w_ic + b_c: IG_i = (x_i - x'_i) w_ic exactly, whatever the quadrature."""
    model, w, _ = _linear_model(kind)
    rng = np.random.default_rng(2)
    x = rng.random((6, 5, 3)).astype(np.float32)
    base = rng.random(x.shape).astype(np.float32) if baseline == "array" else baseline
    b = attributions.make_baseline(x, base)
    if baseline is None:
        np.testing.assert_array_equal(b, 0)
    attr, gap = attributions.integrated_gradients(model, x, 2, baseline=base, steps=steps,
                                                  adaptive=adaptive, return_delta=True)
    ref = ((x - b) * w[:, 2].reshape(x.shape)).sum(axis=-1)
    assert attr.shape == (6, 5) and attr.dtype == np.float32
    np.testing.assert_allclose(attr, ref, rtol=1e-5, atol=1e-5)
    assert abs(gap) < 1e-4


def test_integrated_gradients_equal_the_trapezoid_by_hand(net):
    """The uniform rule against its definition: the trapezoid of GradientTape gradients of
    the logit at steps points on the straight path, summed over the channels."""
    model, p, x = net
    steps, cls = 9, 3
    base = attributions.make_baseline(x, "blur")
    alphas = np.linspace(0, 1, steps).astype(np.float32)
    path = tf.constant(base[None] + alphas[:, None, None, None] * (x - base)[None])
    with tf.GradientTape() as tape:
        tape.watch(path)
        score = tf.reduce_sum(_logit_model(model)([path], training=False)[:, cls])
    g = tape.gradient(score, path).numpy().astype(np.float64)
    w = np.full(steps, 1 / (steps - 1))
    w[[0, -1]] /= 2
    ref = ((x - base) * np.tensordot(w, g, axes=1)).sum(axis=-1)
    attr = attributions.integrated_gradients(p, x, cls, baseline="blur", steps=steps, adaptive=False)
    np.testing.assert_allclose(attr, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_integrated_gradients_are_complete_on_the_shipped_models(pretrained):
    """Completeness (Sundararajan et al. 2017, prop. 1): the attributions add up to
    logit(x) - logit(baseline) within 1%, for the black and the blurred baseline, on real
    sample pictures; the logits come from the model's own "logits" layer here. A ReLU network
    makes the integrand jump wherever a unit switches, so the error falls only like 1/steps:
    256 adaptive points keep it under 1% (64, the default, under a few %)."""
    model, xs = pretrained
    logit_model = _logit_model(model)
    for x in xs[:3]:
        z = logit_model([x[None]], training=False).numpy()[0]
        cls = int(np.argmax(z))
        for baseline in (None, "blur"):
            b = attributions.make_baseline(x, baseline)
            delta = float(z[cls] - logit_model([b[None]], training=False).numpy()[0, cls])
            attr, gap = attributions.integrated_gradients(model, x, cls, baseline=baseline, steps=256,
                                                          return_delta=True)
            assert abs(float(attr.sum()) - delta) <= 0.01 * abs(delta), (baseline, attr.sum(), delta)
            assert gap == pytest.approx(float(attr.sum()) - delta, abs=1e-3 * abs(delta))


@pytest.mark.slow
def test_more_steps_close_the_completeness_gap(pretrained):
    model, xs = pretrained
    x = xs[0]
    cls = int(np.argmax(attributions.logits(model, x)))
    gaps = [abs(attributions.integrated_gradients(model, x, cls, steps=n, return_delta=True)[1])
            for n in (8, 256)]
    assert gaps[1] < gaps[0]
    attr = attributions.integrated_gradients(model, x, cls)
    assert attr.shape == x.shape[:2] and not attr.flags.writeable      # remembered, shared


def test_blurred_baseline_is_a_mirrored_gaussian_blur():
    """gaussian_blur equals Keras's own gaussian_blur of the mirror-padded picture; the
    baseline's sigma is the documented 1/8 of the shorter side."""
    x = np.random.default_rng(0).random((28, 32, 3)).astype(np.float32)
    sigma = ig_mod.blur_sigma(x.shape)
    assert sigma == 3.5
    k = len(geometry.gaussian_kernel(sigma))
    r = k // 2
    padded = np.pad(x, ((r, r), (r, r), (0, 0)), mode="reflect")
    ref = keras.ops.convert_to_numpy(keras.ops.image.gaussian_blur(padded, (k, k), (sigma, sigma)))
    np.testing.assert_allclose(attributions.make_baseline(x, "blur"), ref[r:-r, r:-r], **TOL)
    flat = np.full((28, 28, 1), 0.3, np.float32)
    np.testing.assert_allclose(attributions.make_baseline(flat, "blur"), flat, atol=1e-6)


def test_integrated_gradients_refuse_bad_settings(net, monkeypatch):
    model, p, x = net
    with pytest.raises(ValueError, match="steps"):
        attributions.integrated_gradients(p, x, 0, steps=1)
    with pytest.raises(ValueError, match="steps"):
        attributions.integrated_gradients(p, x, 0, steps=ig_mod.MAX_STEPS + 1)
    with pytest.raises(ValueError, match="baseline"):
        attributions.integrated_gradients(p, x, 0, baseline="grey")
    with pytest.raises(ValueError, match="shape"):
        attributions.integrated_gradients(p, x, 0, baseline=np.zeros((3, 3, 1)))
    with pytest.raises(ValueError, match="NaN"):
        attributions.integrated_gradients(p, x, 0, baseline=np.full(x.shape, np.nan))
    with pytest.raises(ValueError, match="class_index"):
        attributions.integrated_gradients(p, x, 10)
    monkeypatch.setattr(ig_mod, "MAX_PATH_VALUES", 10 * x.size)   # bounded memory
    with pytest.raises(ValueError, match="at most 10 steps"):
        attributions.integrated_gradients(p, x, 0, steps=11)


# --------------------------------------------------------------------------- occlusion

@pytest.mark.parametrize("side,patch,stride", [(28, 4, 2), (28, 5, 3), (32, 4, 2), (32, 7, 7),
                                               (28, 28, 1), (10, 1, 1), (9, 3, 2)])
def test_windows_cover_every_pixel_up_to_the_border(side, patch, stride):
    corners = occ_mod.windows((side, side), patch, stride)
    covered = np.zeros((side, side), int)
    for r, c in corners:
        assert 0 <= r <= side - patch and 0 <= c <= side - patch
        covered[r:r + patch, c:c + patch] += 1
    assert covered.min() >= 1
    starts = sorted({r for r, _ in corners})
    assert starts[0] == 0 and starts[-1] == side - patch
    assert all(b - a <= stride for a, b in zip(starts, starts[1:]))
    assert starts[:-1] == list(range(0, starts[-2] + 1, stride)) if len(starts) > 1 else True


@pytest.mark.slow
def test_occlusion_equals_the_model_on_hand_occluded_pictures(pretrained):
    """For chosen pixels: the mean over the windows covering them of p(x) - p(occluded),
    the occluded pictures built here and run through model(x, training=False)."""
    model, xs = pretrained
    x = xs[1]
    h, w = x.shape[:2]
    cls = int(np.argmax(model(x[None], training=False).numpy()[0]))
    p0 = float(model(x[None], training=False).numpy()[0, cls])
    for patch, stride, fill in [(4, 2, 0.0), (5, 3, 0.5)]:
        drop = attributions.occlusion(model, x, cls, patch=patch, stride=stride, fill=fill)
        assert drop.shape == (h, w) and drop.dtype == np.float32
        rows = list(range(0, h - patch + 1, stride))
        rows += [h - patch] if rows[-1] != h - patch else []
        for (i, j) in [(0, 0), (h - 1, w - 1), (h // 2, 7), (5, w - 2)]:
            batch = []
            for r in rows:
                for c in rows:
                    if r <= i < r + patch and c <= j < c + patch:
                        occ = x.copy()
                        occ[r:r + patch, c:c + patch, :] = fill
                        batch.append(occ)
            probs = model(np.stack(batch), training=False).numpy()[:, cls]
            assert drop[i, j] == pytest.approx(float(np.mean(p0 - probs)), abs=1e-5), (patch, i, j)


def test_occlusion_refuses_bad_settings(net, monkeypatch):
    model, p, x = net
    side = x.shape[0]
    for kwargs, words in [(dict(patch=0), "patch"), (dict(stride=0), "stride"),
                          (dict(patch=side + 1), "patch"), (dict(patch=2, stride=3), "stride"),
                          (dict(fill=np.nan), "fill")]:
        with pytest.raises(ValueError, match=words) as err:
            attributions.occlusion(p, x, 0, **kwargs)
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="windows"):
        occ_mod.windows((200, 200), 2, 1)
    monkeypatch.setattr(occ_mod, "MAX_WINDOWS", 100)
    with pytest.raises(ValueError, match="more than the 100"):
        attributions.occlusion(p, x, 0, patch=4, stride=2)


# --------------------------------------------------------------------------- maximise

def _start(shape, seed=0):
    """The ascent's starting picture: grey with seeded noise (maximise.DEFAULTS["noise"])."""
    rng = np.random.default_rng(seed)
    return (0.5 + max_mod.DEFAULTS["noise"] * rng.standard_normal(shape)).clip(0, 1).astype(np.float32)


def _channel_means(model, layer, x):
    return keras.Model(model.inputs, model.get_layer(layer).output)([x], training=False).numpy().mean(axis=(1, 2))


@pytest.mark.slow
def test_maximise_excites_its_channel(pretrained):
    """Every channel of relu2 (checked by a separate Keras model of the layer): the picture
    raises the channel's mean above the starting noise and above 16 uniformly random pictures;
    for almost all channels above every sample picture too."""
    model, xs = pretrained
    shape = xs.shape[1:]
    grid = attributions.maximise_grid(model, "relu2")
    assert grid.shape == (32, *shape) and grid.dtype == np.float32
    assert grid.min() >= 0 and grid.max() <= 1
    got = _channel_means(model, "relu2", grid)[np.arange(32), np.arange(32)]
    start = _channel_means(model, "relu2", _start(shape)[None])[0]
    rand = _channel_means(model, "relu2", np.random.default_rng(5).random((16, *shape)).astype(np.float32))
    real = _channel_means(model, "relu2", xs)
    assert (got > start).all() and (got > rand.max(axis=0)).all()
    assert (got > real.max(axis=0)).mean() >= 0.9
    for ch in (0, 7):
        assert max_mod.objective(model, "relu2", ch, grid[ch]) == pytest.approx(got[ch], rel=1e-4)


@pytest.mark.slow
def test_maximise_a_class_raises_its_logit(pretrained):
    """layer "softmax" (or "logits"): the class's logit, above every sample picture's."""
    model, xs = pretrained
    logit_model = _logit_model(model)
    real = logit_model([xs], training=False).numpy()
    for cls in (1, 6):
        img = attributions.maximise(model, "softmax", cls)
        z = logit_model([img[None]], training=False).numpy()[0]
        assert z[cls] > real[:, cls].max() and int(np.argmax(z)) == cls
        np.testing.assert_array_equal(img, attributions.maximise(model, "logits", cls))


@pytest.mark.slow
def test_maximise_is_deterministic_cached_and_bounded(net):
    model, p, x = net
    max_mod.clear_cache()
    a = attributions.maximise(model, "relu3", 2, steps=40, seed=3)
    assert attributions.maximise(model, "relu3", 2, steps=40, seed=3) is a       # remembered
    assert not a.flags.writeable and a.shape == x.shape and 0 <= a.min() and a.max() <= 1
    max_mod.clear_cache()
    b = attributions.maximise(model, "relu3", 2, steps=40, seed=3)               # computed again
    assert b is not a
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, attributions.maximise(model, "relu3", 2, steps=40, seed=4))
    grid = attributions.maximise_grid(model, "relu3", [2, 5], steps=40, seed=3)
    assert grid[0] is not a and np.array_equal(grid[0], a)                        # the cached one
    assert grid.shape == (2, *x.shape)
    with pytest.raises(ValueError, match="channel"):
        attributions.maximise(model, "relu3", 10_000)
    with pytest.raises(ValueError, match="input"):
        attributions.maximise(model, "image", 0)
    with pytest.raises(ValueError, match="steps"):
        attributions.maximise(model, "relu3", 0, steps=0)
    with pytest.raises(KeyError, match="No layer"):
        attributions.maximise(model, "nope", 0)
    with pytest.raises(TypeError, match="unknown"):
        attributions.maximise(model, "relu3", 0, bogus=1)


@pytest.mark.slow
def test_caches_do_not_keep_a_model_alive():
    """The pictures and compiled graphs are kept per model in weakly keyed caches whose
    values do not refer to the model: once nothing else holds the model (the Probe cache is
    emptied here by hand: its Probe holds the model), it goes, and its entries with it."""
    import weakref

    scores = importlib.import_module("cnnviz.attributions._scores")
    model = _small_head_model("dense_softmax")
    x = np.random.default_rng(0).random((8, 8, 1)).astype(np.float32)
    attributions.maximise(model, "hidden", 1, steps=5)
    attributions.occlusion(model, x, 0, patch=4, stride=2)
    assert model in max_mod._CACHE and model in scores._SCORERS
    ref = weakref.ref(model)
    with probe._PROBES_LOCK:
        del probe._PROBES[id(model)]
    del model
    gc.collect()
    assert ref() is None
    assert all(r() is not None for r in max_mod._CACHE.keyrefs())


@pytest.mark.slow
def test_maximise_dense_softmax_output_uses_its_logit():
    model = _small_head_model("dense_softmax")
    img = attributions.maximise(model, "out", 2, steps=60)
    h = keras.Model(model.inputs, model.get_layer("hidden").output)([img[None]]).numpy()[0]
    out = model.get_layer("out")
    z = h @ out.kernel.numpy() + out.bias.numpy()
    assert max_mod.objective(model, "out", 2, img) == pytest.approx(float(z[2]), rel=1e-5, abs=1e-5)
    assert max_mod.objective(model, "out", 2, img) > max_mod.objective(model, "out", 2, _start((8, 8, 1)))
