"""Is every expensive request bounded and cheap to repeat? Prints figures; asserts nothing.

1. The vanishing-gradient experiment (activations.gradient_norms) with the page's defaults
   (20 layers of 64 units, 4 activations) for new seeds: milliseconds per seed and RSS growth over
   32 new seeds, against the way it was done before, measured in the same run: a Keras model
   built per seed with a tf.function traced for it (the reference). Also the largest case the
   page allows, the largest the core accepts, and 4 visitors at once (threads).
2. SmoothGrad with the most samples the core accepts (probe.MAX_SMOOTHGRAD_SAMPLES) against a
   plain saliency map on the same model and image.
3. kernels.convolve at the largest setting the convolution page allows (7×7 kernel, dilation 4,
   stride 1, 'same', 512×512×3, depthwise) against a 3×3 kernel and keras DepthwiseConv2D.

    .venv/bin/python benchmarks/bench_bounded.py [--quick]
"""
from __future__ import annotations

import pathlib
import sys
import threading
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnnviz import activations, kernels  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_convolution import median_ms  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from keras_reference import keras_experiment  # noqa: E402  (imports TensorFlow)

QUICK = "--quick" in sys.argv
SEEDS = 8 if QUICK else 32
NAMES = ("sigmoid", "tanh", "relu", "softplus")   # the page's default comparison


def rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def keras_model_per_seed(activation, depth, width, seed):
    """What gradient_norms did before: a Keras model and a traced tf.function per seed, all kept
    in its cache (tests/keras_reference.py builds the model)."""
    import tensorflow as tf

    model, norms = keras_experiment(activation, depth, width, seed)
    compiled = tf.function(norms)
    return model, compiled, compiled().numpy()


def bench_vanishing() -> None:
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")   # the reference retraces per seed, by design
    print("1. Vanishing-gradient experiment (20 layers x 64 units, 4 activations per seed)")
    for seed in range(3):   # warm-up: TensorFlow, the traced functions, allocator pools
        for name in NAMES:
            activations.gradient_norms(name, 20, 64, seed=seed)
            keras_model_per_seed(name, 20, 64, seed)

    def new(i):
        for name in NAMES:
            activations.gradient_norms(name, 20, 64, seed=1000 + i)

    before = rss_mb()
    new_ms = median_ms(new, SEEDS)
    new_growth = rss_mb() - before

    kept = []   # the old cache kept the last 64 models it built

    def old(i):
        for name in NAMES:
            kept.append(keras_model_per_seed(name, 20, 64, 2000 + i))
            del kept[:-64]

    before = rss_mb()
    old_ms = median_ms(old, SEEDS)
    old_growth = rss_mb() - before
    kept.clear()
    print(f"   per new seed:  gradient_norms {new_ms:7.1f} ms   Keras model per seed (reference) "
          f"{old_ms:7.1f} ms   ratio {old_ms / new_ms:.1f}x")
    print(f"   RSS growth over {SEEDS} new seeds:  gradient_norms {new_growth:+.0f} MB   "
          f"reference {old_growth:+.0f} MB")
    page_max = median_ms(lambda i: [activations.gradient_norms(n, 30, 128, seed=3000 + i) for n in NAMES], 5)
    print(f"   largest the page allows (30 x 128, 4 activations): {page_max:.1f} ms")
    core_max = median_ms(lambda i: activations.gradient_norms("relu", 16, 1024, seed=i, batch=128), 3)
    print(f"   largest the core accepts (16 x 1024, batch 128 = MAX_WORK, 1 activation): {core_max:.0f} ms")

    def visitor(seed, out):
        t = time.perf_counter()
        for name in NAMES:
            activations.gradient_norms(name, 20, 64, seed=seed)
        out.append((time.perf_counter() - t) * 1000)

    alone = []
    visitor(5000, alone)
    together = []
    threads = [threading.Thread(target=visitor, args=(5001 + k, together)) for k in range(4)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = (time.perf_counter() - t) * 1000
    print(f"   4 visitors at once (new seeds): {wall:.0f} ms in all, slowest {max(together):.0f} ms "
          f"(one alone: {alone[0]:.0f} ms; 2 cores)")


def bench_smoothgrad() -> None:
    from cnnviz import models, probe

    name = next(iter(models.PRETRAINED), None)
    if name is None:
        model = models.build("digits_cnn", "mnist")
        name = "untrained digits_cnn"
    else:
        model = models.load_pretrained(name)
    p = probe.get_probe(model)
    x = np.random.default_rng(0).random(p.input_shape).astype(np.float32)
    n = probe.MAX_SMOOTHGRAD_SAMPLES
    probe.saliency(p, x, 0, smoothgrad_samples=n, seed=0)   # warm: traces the chunked call
    probe.saliency(p, x + 0.01, 0)
    # a new seed / a new image each time: nothing is remembered
    smooth = median_ms(lambda i: probe.saliency(p, x, 0, smoothgrad_samples=n, seed=1 + i), 9)
    plain = median_ms(lambda i: probe.saliency(p, x + 1e-3 * (i + 1), 0), 9)
    print(f"2. SmoothGrad on {name} {p.input_shape}: {n} samples (the maximum) {smooth:.1f} ms; "
          f"plain saliency (reference) {plain:.1f} ms; ratio {smooth / plain:.1f}x")


def bench_convolve() -> None:
    rng = np.random.default_rng(0)
    image = rng.random((512, 512, 3)).astype(np.float32)
    k7 = rng.uniform(-1, 1, (7, 7, 3)).astype(np.float32)
    k3 = rng.uniform(-1, 1, (3, 3)).astype(np.float32)
    worst = median_ms(lambda i: kernels.convolve(image, k7, 1, "same", 4, depthwise=True), 15)
    small = median_ms(lambda i: kernels.convolve(image, k3, 1, "same", 1, depthwise=True), 15)
    line = (f"3. convolve 512x512x3 depthwise, 7x7 dilation 4 'same' (the page's largest): {worst:.1f} ms; "
            f"3x3 (reference) {small:.1f} ms")
    try:
        import keras

        layer = keras.layers.DepthwiseConv2D(7, padding="same", dilation_rate=4, use_bias=False)
        layer.build((1, 512, 512, 3))
        layer.set_weights([k7[..., None]])
        x = image[None]
        layer(x)
        ker = median_ms(lambda i: np.asarray(layer(x)), 15)
        line += f"; keras DepthwiseConv2D (reference) {ker:.1f} ms"
    except ImportError:
        pass
    print(line)


if __name__ == "__main__":
    bench_convolve()
    bench_vanishing()
    bench_smoothgrad()
