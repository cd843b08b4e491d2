"""Feature visualisation: a picture that excites one channel (or one class) as much as possible.

    from cnnviz import attributions, models
    model = models.load_pretrained("mnist")
    img = attributions.maximise(model, "relu3", channel=5)        # 28 x 28 x 1 in [0, 1]
    grid = attributions.maximise_grid(model, "relu1")             # every channel of relu1
    best = attributions.maximise(model, "logits", channel=7)      # what the net calls a "7"

Gradient ascent on the input, starting from grey with a little seeded noise, with the
regularisers that keep the picture from turning into high-frequency noise (Yosinski et al.
2015; Olah et al. 2017): each step the picture is rolled by a few random pixels (jitter) before
the gradient is taken and rolled back after; the step is the gradient divided by its mean
absolute value; the picture decays a little towards grey (an L2 prior) and is blurred slightly
every few steps (a smoothness prior); values are kept in [0, 1]. All steps run in one compiled
tf.function call per request.

References:
    J. Yosinski, J. Clune, A. Nguyen, T. Fuchs, H. Lipson, "Understanding Neural Networks Through
    Deep Visualization", ICML Deep Learning workshop 2015 (arXiv:1506.06579).
    C. Olah, A. Mordvintsev, L. Schubert, "Feature Visualization", Distill 2017
    (doi:10.23915/distill.00007).
"""
from __future__ import annotations

import collections
import threading
import weakref
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from cnnviz import class_score, probe
from cnnviz.attributions._geometry import gaussian_kernel

#: Most ascent steps one picture may take (bounded work per request).
MAX_STEPS = 1000
#: Most channels one maximise_grid call may draw.
MAX_GRID_CHANNELS = 256
#: Pictures optimised together in one compiled call by maximise_grid.
GRID_BATCH = 16
#: Pictures kept per model in the cache (least recently used dropped first).
CACHE_SIZE = 256
#: For an activation layer (ReLU ...) the ascent climbs its output plus LEAK x its input, so a
#: unit that is switched off for the starting picture (zero gradient) still gets a direction.
LEAK = 0.01

DEFAULTS = dict(steps=128, learning_rate=0.1, jitter=2, decay=0.01, blur_sigma=0.5, blur_every=4,
                noise=0.05)
"""The ascent's settings: steps; learning_rate, the step in pixel units (the gradient is divided
by its mean |value|); jitter, the largest roll in pixels; decay, the fraction by which the
picture moves towards grey (0.5) each step; blur_sigma and blur_every, a Gaussian blur of that
sigma every that many steps (0: never); noise, the standard deviation of the starting noise
around grey."""


class _Ascent:
    """One model layer's compiled gradient ascent (a batch of pictures, one unit each)."""

    def __init__(self, p: probe.Probe, layer_name: str):
        spec = p.spec(layer_name)
        if spec.kind == "input":
            raise ValueError(f"{layer_name} is the input; pick a layer after it.")
        layer = spec.layer
        self._logits = None
        target = layer.output
        self.description = f"mean of a channel of {layer_name}" if len(spec.output_shape) == 3 \
            else f"a unit of {layer_name}"
        score = p.class_score
        if spec.index == len(p.specs) - 1 and class_score.ends_in_softmax(layer):
            # probabilities can rise by lowering the others: climb the class's logit instead
            self._logits = score.logits
            target = p.specs[p.score_index].layer.output
            self.description = f"a class's logit ({score.where})"
        self.units = int(layer.output.shape[-1]) if self._logits else int(target.shape[-1])
        self.spatial = len(target.shape) == 4
        outputs = [target]
        if spec.kind == "activation" and target is layer.output and spec.input_name is not None \
                and tuple(layer.input.shape) == tuple(target.shape):
            outputs.append(layer.input)      # the pre-activation: see LEAK
        self._leaky = len(outputs) == 2
        self._sub = keras.Model(p.model.inputs, outputs, name=f"{p.model.name}_to_{layer_name}")
        shape = p.input_shape
        self.input_shape = shape
        self._run = tf.function(self._run_impl, input_signature=[
            tf.TensorSpec((None, *shape), tf.float32),        # starting pictures
            tf.TensorSpec((None,), tf.int32),                 # one unit per picture
            tf.TensorSpec((None, 2), tf.int32),               # the jitter of each step
            tf.TensorSpec((None,), tf.float32),               # the blur kernel (1-D)
            tf.TensorSpec((), tf.float32),                    # learning rate
            tf.TensorSpec((), tf.float32),                    # decay
            tf.TensorSpec((), tf.int32),                      # blur every
        ])
        self._objective_fn = tf.function(self._objective, input_signature=[
            tf.TensorSpec((None, *shape), tf.float32), tf.TensorSpec((None,), tf.int32)])

    def _unit(self, out, units):
        if self.spatial:
            out = tf.reduce_mean(out, axis=[1, 2])
        return tf.gather(out, units, axis=1, batch_dims=1)

    def _objectives(self, x, units):
        """Per picture: (the mean of its channel's map or its unit's value, what the ascent
        climbs: the same plus LEAK x the pre-activation's for an activation layer)."""
        outs = self._sub([x], training=False)
        if not isinstance(outs, (list, tuple)):     # a one-output model returns the tensor
            outs = [outs]
        out = outs[0]
        if self._logits is not None:
            out = self._logits(out)
        value = self._unit(out, units)
        climb = value + LEAK * self._unit(outs[1], units) if self._leaky else value
        return value, climb

    def _objective(self, x, units):
        return self._objectives(x, units)[0]

    @staticmethod
    def _blur(x, k):
        r = (tf.shape(k)[0] - 1) // 2
        c = tf.shape(x)[-1]
        pad = tf.pad(x, [[0, 0], [r, r], [r, r], [0, 0]], mode="REFLECT")
        kr = tf.tile(tf.reshape(k, [-1, 1, 1, 1]), [1, 1, c, 1])
        kc = tf.tile(tf.reshape(k, [1, -1, 1, 1]), [1, 1, c, 1])
        y = tf.nn.depthwise_conv2d(pad, kr, [1, 1, 1, 1], "VALID")
        y = tf.nn.depthwise_conv2d(y, kc, [1, 1, 1, 1], "VALID")
        return tf.ensure_shape(y, x.shape)        # the kernel's length is not static

    def _run_impl(self, x0, units, shifts, blur_k, lr, decay, blur_every):
        x = x0
        n = tf.shape(shifts)[0]
        for i in tf.range(n):
            s = shifts[i]
            xs = tf.roll(x, shift=s, axis=[1, 2])
            with tf.GradientTape() as tape:
                tape.watch(xs)
                obj = tf.reduce_sum(self._objectives(xs, units)[1])   # the pictures are independent
            g = tape.gradient(obj, xs)
            g = g / (tf.reduce_mean(tf.abs(g), axis=[1, 2, 3], keepdims=True) + 1e-12)
            x = tf.roll(xs + lr * g, shift=-s, axis=[1, 2])
            x = 0.5 + (1.0 - decay) * (x - 0.5)
            if blur_every > 0 and (i + 1) % tf.maximum(blur_every, 1) == 0:
                x = self._blur(x, blur_k)
            x = tf.clip_by_value(x, 0.0, 1.0)
        return x

    def run(self, units: Sequence[int], seed: int, steps: int, learning_rate: float, jitter: int,
            decay: float, blur_sigma: float, blur_every: int, noise: float) -> np.ndarray:
        rng = np.random.default_rng(seed)
        start = (0.5 + noise * rng.standard_normal(self.input_shape)).clip(0, 1).astype(np.float32)
        shifts = rng.integers(-jitter, jitter + 1, size=(steps, 2)).astype(np.int32)
        k = gaussian_kernel(blur_sigma) if blur_sigma > 0 and blur_every > 0 else np.ones(1, np.float32)
        x0 = np.repeat(start[None], len(units), axis=0)
        out = self._run(tf.constant(x0), tf.constant(np.asarray(units, np.int32)), tf.constant(shifts),
                        tf.constant(k), tf.constant(learning_rate, tf.float32),
                        tf.constant(decay, tf.float32),
                        tf.constant(blur_every if blur_sigma > 0 else 0, tf.int32))
        return out.numpy()

    def objective(self, xb: np.ndarray, units: Sequence[int]) -> np.ndarray:
        return self._objective_fn(tf.constant(np.asarray(xb, np.float32)),
                                  tf.constant(np.asarray(units, np.int32))).numpy()


class _ModelCache:
    def __init__(self):
        self.ascents: dict[str, _Ascent] = {}
        self.results: collections.OrderedDict = collections.OrderedDict()


_CACHE: "weakref.WeakKeyDictionary[keras.Model, _ModelCache]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _ascent(p: probe.Probe, layer_name: str) -> tuple[_Ascent, _ModelCache]:
    with _LOCK:
        mc = _CACHE.get(p.model)
        if mc is None:
            mc = _CACHE[p.model] = _ModelCache()
        a = mc.ascents.get(layer_name)
    if a is None:
        a = _Ascent(p, layer_name)           # outside the lock: building traces nothing yet
        with _LOCK:
            a = mc.ascents.setdefault(layer_name, a)
    return a, mc


def clear_cache() -> None:
    """Forget every remembered picture (the compiled ascents stay)."""
    with _LOCK:
        for mc in _CACHE.values():
            mc.results.clear()


def _settings(steps, kw) -> dict:
    unknown = set(kw) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(DEFAULTS)}.")
    s = {**DEFAULTS, **kw, "steps": int(DEFAULTS["steps"] if steps is None else steps)}
    if not 1 <= s["steps"] <= MAX_STEPS:
        raise ValueError(f"steps must be 1..{MAX_STEPS}, got {s['steps']}.")
    s["jitter"], s["blur_every"] = int(s["jitter"]), int(s["blur_every"])
    for name in ("learning_rate", "decay", "blur_sigma", "noise"):
        s[name] = float(s[name])
    if s["jitter"] < 0 or s["blur_every"] < 0 or not 0 <= s["decay"] < 1 or s["blur_sigma"] < 0 \
            or s["noise"] < 0 or not s["learning_rate"] > 0:
        raise ValueError("maximise settings out of range: jitter, blur_every, blur_sigma, noise >= 0, "
                         "0 <= decay < 1, learning_rate > 0.")
    return s


def _check_units(a: _Ascent, layer_name: str, units) -> list[int]:
    out = []
    for u in units:
        u = int(u)
        if not 0 <= u < a.units:
            raise ValueError(f"channel must be 0..{a.units - 1} for {layer_name}, got {u}.")
        out.append(u)
    return out


def maximise_grid(model, layer_name: str, channels: Sequence[int] | None = None,
                  steps: int | None = None, seed: int = 0, **settings) -> np.ndarray:
    """maximise for several channels of one layer: N x H x W x C, in the order of `channels`
    (None: every channel, at most MAX_GRID_CHANNELS). The pictures not in the cache are
    optimised GRID_BATCH at a time in one compiled call each; a picture equals maximise's for the
    same channel and seed up to float rounding (batched convolutions may round differently)."""
    return np.stack(_pictures(model, layer_name, channels, steps, seed, settings))


def _pictures(model, layer_name, channels, steps, seed, settings) -> list[np.ndarray]:
    """The cached (or newly computed and cached) read-only pictures, one per channel."""
    p = probe.get_probe(model)
    a, mc = _ascent(p, layer_name)
    units = _check_units(a, layer_name, range(a.units) if channels is None else channels)
    if not units:
        raise ValueError("channels is empty.")
    if len(units) > MAX_GRID_CHANNELS:
        raise ValueError(f"at most {MAX_GRID_CHANNELS} channels per grid, got {len(units)}.")
    s = _settings(steps, settings)
    key_rest = (int(seed), *(s[k] for k in DEFAULTS))
    found: dict[int, np.ndarray] = {}
    with _LOCK:
        for u in units:
            hit = mc.results.get((layer_name, u, *key_rest))
            if hit is not None:
                mc.results.move_to_end((layer_name, u, *key_rest))
                found[u] = hit
    todo = [u for u in dict.fromkeys(units) if u not in found]
    for i in range(0, len(todo), GRID_BATCH):
        part = todo[i:i + GRID_BATCH]
        pics = a.run(part, int(seed), **s)
        with _LOCK:
            for u, pic in zip(part, pics):
                pic = np.ascontiguousarray(pic, dtype=np.float32)
                pic.flags.writeable = False
                found[u] = pic
                mc.results[(layer_name, u, *key_rest)] = pic
                while len(mc.results) > CACHE_SIZE:
                    mc.results.popitem(last=False)
    return [found[u] for u in units]


def maximise(model, layer_name: str, channel: int, steps: int | None = None, seed: int = 0,
             **settings) -> np.ndarray:
    """The input (H x W x C float32 in [0, 1]) that the ascent finds for one unit.

    model: a keras.Model or its probe.Probe. layer_name: any layer after the input. For a layer
    with maps (H x W x C) the objective is the mean of channel `channel`'s map; for a vector
    layer (dense, logits) it is unit `channel`; for the output softmax (a Softmax layer, or a
    Dense with a softmax activation) it is the class's logit, since a probability can also be
    raised by lowering the other classes. steps: ascent steps (default DEFAULTS["steps"], at
    most MAX_STEPS); seed: the starting noise and the jitter (same seed, same picture);
    settings: see DEFAULTS.

    Remembered per model (weakly: a model that is gone takes its pictures with it), layer,
    channel, steps, seed and settings, the last CACHE_SIZE pictures per model; the array is
    shared, so read-only.
    """
    return _pictures(model, layer_name, [channel], steps, seed, settings)[0]


def objective(model, layer_name: str, channel: int, x) -> float | np.ndarray:
    """What maximise raises, for one image H x W x C (-> float) or a batch N x H x W x C
    (-> N values): the mean of the channel's map, or the unit's value (the logit for the
    output softmax)."""
    p = probe.get_probe(model)
    a, _ = _ascent(p, layer_name)
    u = _check_units(a, layer_name, [channel])[0]
    arr = np.asarray(x, dtype=np.float32)
    if arr.shape == p.input_shape or arr.ndim == len(p.input_shape) - 1:
        return float(a.objective(p.check_input(arr), [u])[0])
    if arr.ndim != len(p.input_shape) + 1 or arr.shape[1:] != p.input_shape:
        raise ValueError(f"expected one image {p.input_shape} or a batch of them, got {arr.shape}.")
    return a.objective(arr, [u] * len(arr))
