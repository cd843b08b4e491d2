"""Look inside a Keras model: every layer's output, saliency, Grad-CAM, gradients.

    from cnnviz import models, probe
    model = models.load_pretrained("mnist")
    acts = probe.Probe(model).run(x)            # x: one image, H x W x C float32 in [0, 1]
    [(a.name, a.kind, a.output.shape) for a in acts]
    probe.saliency(model, x, class_index=3, smoothgrad_samples=20)
    probe.grad_cam(model, x, class_index=3)

All numbers come from the model itself: one compiled graph call returns every
layer's output, and gradients come from ``tf.GradientTape``. The class score
that gradients are taken of is the pre-softmax logit (the "logits" layer when
the model has one, else the model's output).
"""
from __future__ import annotations

import collections
import hashlib
import threading
import types
import weakref
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from cnnviz import images, kernels

KINDS = ("input", "conv", "batchnorm", "activation", "pool", "flatten", "dense", "dropout",
         "softmax", "other")

# Layers that pass their input through unchanged when the model predicts (training=False).
_IDENTITY_AT_INFERENCE = ("dropout",)


@dataclass(frozen=True)
class LayerActivation:
    """One layer's output for one image (no batch axis), with what the UI needs to explain it.

    kind: one of KINDS. input_name: the layer whose output this layer reads (None for the input).
    info: read-only facts about the layer: for "conv" kernel (kh, kw, c_in, c_out), bias
    (or None), strides, padding, dilation; for "batchnorm" gamma, beta, mean, variance,
    epsilon; for "pool" mode ("max" or "avg", as in pooling.MODES), pool_size, strides,
    padding; for "dropout" rate; for "dense" kernel (n_in, n_out), bias, activation; for
    "activation" function (and its options).
    """
    index: int
    name: str
    kind: str
    output: np.ndarray
    input_name: str | None
    params: int
    layer: Any = field(repr=False, compare=False)
    info: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.output.shape)

    @property
    def is_spatial(self) -> bool:
        """True for an H x W x C map (something a mosaic can show)."""
        return self.output.ndim == 3


@dataclass(frozen=True)
class LayerSpec:
    """What is fixed about a layer (everything in LayerActivation except the output)."""
    index: int
    name: str
    kind: str
    input_name: str | None
    output_shape: tuple[int, ...]
    params: int
    layer: Any = field(repr=False, compare=False)
    info: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Contributions:
    """How the units of one layer push the score of one class, largest first.

    exact=True: the layer feeds the score layer directly (dropout does nothing when
    predicting), so contribution = activation x weight and
    contributions.sum() + bias == logit. exact=False: gradient x activation, a
    first-order estimate (bias and logit are then None).
    """
    layer_name: str
    class_index: int
    units: np.ndarray
    activations: np.ndarray
    weights: np.ndarray | None
    contributions: np.ndarray
    bias: float | None
    logit: float | None
    exact: bool


def layer_kind(layer) -> str:
    """Map a Keras layer to one of KINDS."""
    if isinstance(layer, keras.layers.InputLayer):
        return "input"
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    name = type(layer).__name__
    if "Conv" in name:
        return "conv"
    if "Normalization" in name:
        return "batchnorm"
    if "Pooling" in name:
        return "pool"
    if "Dropout" in name:
        return "dropout"
    if isinstance(layer, (keras.layers.Flatten, keras.layers.Reshape)):
        return "flatten"
    if isinstance(layer, keras.layers.Dense):
        return "dense"
    if isinstance(layer, keras.layers.Activation):
        fn = getattr(layer.activation, "__name__", "")
        return "softmax" if fn == "softmax" else "activation"
    if isinstance(layer, (keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.ELU,
                          keras.layers.PReLU)):
        return "activation"
    return "other"


def _weights(v) -> np.ndarray:
    """A layer's variable (kernel, bias, ...) as a float32 NumPy array."""
    return np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float32)


def _activation_name(fn) -> str:
    return getattr(fn, "__name__", str(fn))


def _layer_info(layer, kind: str) -> dict[str, Any]:
    cfg = layer.get_config()
    info: dict[str, Any] = {"class": type(layer).__name__}
    if kind == "conv":
        info.update(kernel=_weights(layer.kernel), bias=_weights(layer.bias) if layer.use_bias else None,
                    filters=cfg.get("filters"), kernel_size=tuple(cfg.get("kernel_size", ())),
                    strides=tuple(cfg.get("strides", ())), padding=cfg.get("padding"),
                    dilation=tuple(cfg.get("dilation_rate", ())),
                    activation=_activation_name(layer.activation))
    elif kind == "batchnorm" and isinstance(layer, keras.layers.BatchNormalization):
        n = int(layer.moving_mean.shape[0])
        info.update(gamma=_weights(layer.gamma) if layer.scale else np.ones(n, np.float32),
                    beta=_weights(layer.beta) if layer.center else np.zeros(n, np.float32),
                    mean=_weights(layer.moving_mean), variance=_weights(layer.moving_variance),
                    epsilon=float(layer.epsilon))
    elif kind == "pool":
        info.update(mode="max" if "Max" in type(layer).__name__ else "avg",   # pooling.MODES names
                    pool_size=tuple(cfg.get("pool_size") or ()), strides=tuple(cfg.get("strides") or ()),
                    padding=cfg.get("padding"))
    elif kind == "dropout":
        info.update(rate=float(cfg.get("rate", 0.0)))
    elif kind == "dense":
        info.update(kernel=_weights(layer.kernel), bias=_weights(layer.bias) if layer.use_bias else None,
                    units=int(cfg["units"]), activation=_activation_name(layer.activation))
    elif kind == "activation":
        if isinstance(layer, keras.layers.ReLU):
            info.update(function="relu", max_value=cfg.get("max_value"),
                        negative_slope=float(cfg.get("negative_slope") or 0.0),
                        threshold=float(cfg.get("threshold") or 0.0))
        elif isinstance(layer, keras.layers.Activation):
            info.update(function=_activation_name(layer.activation))
        else:
            info.update(function=type(layer).__name__.lower())
    elif kind == "softmax":
        info.update(axis=cfg.get("axis", -1))
    return info


def _read_only(info: dict) -> types.MappingProxyType:
    """The facts of a layer, shared by every session: arrays frozen, the mapping read-only."""
    for v in info.values():
        if isinstance(v, np.ndarray):
            v.flags.writeable = False
    return types.MappingProxyType(info)


def _producer(layer) -> str | None:
    try:
        history = layer.input._keras_history
    except (AttributeError, ValueError):
        return None
    return history.operation.name if history else None


class Probe:
    """Every layer's output for one image in one compiled graph call; gradients likewise.

    Build once per model (it makes a multi-output keras.Model and tf.functions with a
    fixed input signature) and reuse; it never changes the model.
    """

    #: How many results (backward passes, SmoothGrad maps) Probe.remember keeps.
    MEMO = 12
    #: Images per gradient call for SmoothGrad (a fixed shape: XLA compiles once per shape).
    CHUNK = 10

    def __init__(self, model: keras.Model, jit_compile: bool = True, jit_gradients: bool = False):
        if len(model.inputs) != 1:
            raise ValueError(f"Probe needs a model with one input; {model.name} has {len(model.inputs)}.")
        self.model = model
        self.input_shape: tuple[int, ...] = tuple(int(d) for d in model.inputs[0].shape[1:])
        layers = list(model.layers)
        if not layers or not isinstance(layers[0], keras.layers.InputLayer):
            raise ValueError("Probe needs a functional model whose first layer is its Input.")
        specs = []
        for i, layer in enumerate(layers):
            kind = layer_kind(layer)
            specs.append(LayerSpec(
                index=i, name=layer.name, kind=kind, input_name=_producer(layer),
                output_shape=tuple(int(d) for d in layer.output.shape[1:]),
                params=int(layer.count_params()), layer=layer,
                info=_read_only(_layer_info(layer, kind))))
        self.specs: tuple[LayerSpec, ...] = tuple(specs)
        self.index = {s.name: s.index for s in specs}
        self._multi = keras.Model(model.inputs, [layer.output for layer in layers[1:]],
                                  name=f"{model.name}_probe")
        self.score_layer: str = "logits" if "logits" in self.index else layers[-1].name
        self._score_pos = self.index[self.score_layer] - 1  # position among the graph's outputs
        # The forward pass is XLA-compiled (about 1 s once per model): faster than a plain
        # graph, and its compiled code survives keras.backend.clear_session(), which empties
        # TensorFlow's kernel cache (cnnviz.ui.model_cache explains why that matters). The
        # gradient graphs are plain tf.functions unless jit_gradients: XLA-compiling them
        # takes 5-10 s per model and shape, too long for a first visit.
        batch_spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
        one_spec = tf.TensorSpec((1, *self.input_shape), tf.float32)
        class_spec = tf.TensorSpec((), tf.int32)
        self.jit_compile = bool(jit_compile)
        self._forward = tf.function(self._forward_impl, input_signature=[one_spec],
                                    jit_compile=self.jit_compile)
        self._input_grad = tf.function(self._input_grad_impl, input_signature=[batch_spec, class_spec],
                                       jit_compile=bool(jit_gradients))
        self._all_grads = tf.function(self._all_grads_impl, input_signature=[one_spec, class_spec],
                                      jit_compile=bool(jit_gradients))
        self._memo: collections.OrderedDict = collections.OrderedDict()
        self._memo_lock = threading.Lock()

    # --- graph functions -------------------------------------------------------------------
    def _forward_impl(self, x):
        return self._multi([x], training=False)

    def _input_grad_impl(self, x, c):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outs = self._multi([x], training=False)
            score = tf.reduce_sum(outs[self._score_pos][:, c])  # samples are independent
        return tape.gradient(score, x)

    def _all_grads_impl(self, x, c):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outs = self._multi([x], training=False)
            score = outs[self._score_pos][0, c]
        grads = tape.gradient(score, [x, *outs], unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return outs, grads

    # --- helpers ---------------------------------------------------------------------------
    def check_input(self, x) -> np.ndarray:
        """One image -> float32 (1, H, W, C); a grayscale H x W is accepted for C == 1."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == len(self.input_shape) - 1 and self.input_shape[-1] == 1:
            x = x[..., None]
        if x.shape != self.input_shape:
            raise ValueError(f"{self.model.name} takes one image of shape {self.input_shape}, "
                             f"got {x.shape}.")
        if not np.all(np.isfinite(x)):
            raise ValueError("The image holds NaN or infinite values.")
        return x[None]

    def check_class(self, class_index) -> int:
        """class_index as an int; ValueError unless it is one of the model's classes."""
        n = self.specs[self.index[self.score_layer]].output_shape[-1]
        c = int(class_index)
        if not 0 <= c < n:
            raise ValueError(f"class_index must be 0..{n - 1}, got {class_index}.")
        return c

    def spec(self, name: str) -> LayerSpec:
        if name not in self.index:
            raise KeyError(f"No layer {name!r} in {self.model.name}; layers: {', '.join(self.index)}.")
        return self.specs[self.index[name]]

    # --- public ----------------------------------------------------------------------------
    def run(self, x) -> list[LayerActivation]:
        """Every layer's output for one image x (H x W x C, no batch axis), in model order."""
        xb = self.check_input(x)
        outs = self._forward(tf.constant(xb))
        arrays = [xb[0]] + [o.numpy()[0] for o in outs]
        return [LayerActivation(index=s.index, name=s.name, kind=s.kind, output=a,
                                input_name=s.input_name, params=s.params, layer=s.layer, info=s.info)
                for s, a in zip(self.specs, arrays)]

    def probabilities(self, x) -> np.ndarray:
        """The model's output for one image (what model(x, training=False) returns)."""
        return self._forward(tf.constant(self.check_input(x)))[-1].numpy()[0]

    def input_gradient(self, x_batch: np.ndarray, class_index: int) -> np.ndarray:
        """d logit[class] / d input for a batch of images (N, H, W, C).

        One image goes through as it is; more go in chunks of CHUNK (the last padded), so a
        compiled graph sees only two shapes and memory stays bounded.
        """
        c = tf.constant(self.check_class(class_index), tf.int32)
        xb = np.asarray(x_batch, dtype=np.float32)
        if xb.ndim != len(self.input_shape) + 1 or xb.shape[1:] != self.input_shape:
            raise ValueError(f"expected a batch of shape N × {images.shape_text(self.input_shape)}, got {xb.shape}.")
        if len(xb) == 1:
            return self._input_grad(tf.constant(xb), c).numpy()
        out = []
        for i in range(0, len(xb), self.CHUNK):
            part = xb[i:i + self.CHUNK]
            n = len(part)
            if n < self.CHUNK:
                part = np.concatenate([part, np.zeros((self.CHUNK - n, *self.input_shape), np.float32)])
            out.append(self._input_grad(tf.constant(part), c).numpy()[:n])
        return np.concatenate(out)

    def remember(self, key, compute):
        """compute(), remembered under key among the last MEMO results (thread-safe). Arrays
        in the result are made read-only: they may be shared between callers."""
        with self._memo_lock:
            hit = self._memo.get(key)
            if hit is not None:
                self._memo.move_to_end(key)
                return hit
        result = compute()
        for a in (result if isinstance(result, (list, tuple)) else [result]):
            for arr in (a if isinstance(a, list) else [a]):
                if isinstance(arr, np.ndarray):
                    arr.flags.writeable = False
        with self._memo_lock:
            self._memo[key] = result
            while len(self._memo) > self.MEMO:
                self._memo.popitem(last=False)
        return result

    @staticmethod
    def digest(xb: np.ndarray) -> bytes:
        return hashlib.blake2b(np.ascontiguousarray(xb).tobytes(), digest_size=16).digest()

    def forward_backward(self, x, class_index: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(every layer's output, d logit[class] / d every layer's output), both in model order
        without the batch axis, from one graph call. The input layer's gradient is the
        saliency gradient. Layers after the score layer get zero gradients.

        Remembered (see remember) by the image's bytes and the class, so Grad-CAM, saliency
        and layer gradients of one picture share one backward pass. Arrays are read-only.
        """
        xb = self.check_input(x)
        c = self.check_class(class_index)

        def compute():
            outs, grads = self._all_grads(tf.constant(xb), tf.constant(c, tf.int32))
            return ([xb[0].copy()] + [o.numpy()[0] for o in outs], [g.numpy()[0] for g in grads])

        return self.remember(("fb", self.digest(xb), c), compute)

    def gradients(self, x, class_index: int) -> dict[str, np.ndarray]:
        """d logit[class] / d (every layer's output), one backward pass; name -> array (no batch).

        Layers after the score layer (the softmax) get zeros: the logit does not depend on them.
        """
        _, grads = self.forward_backward(x, class_index)
        return {s.name: g for s, g in zip(self.specs, grads)}


_PROBES: "weakref.WeakKeyDictionary[keras.Model, Probe]" = weakref.WeakKeyDictionary()
_PROBES_LOCK = threading.Lock()


def get_probe(model: keras.Model | Probe) -> Probe:
    """The Probe of a model (built on first use, then reused); a Probe is returned as is."""
    if isinstance(model, Probe):
        return model
    with _PROBES_LOCK:
        p = _PROBES.get(model)
        if p is None:
            p = _PROBES[model] = Probe(model)
        return p


MAX_SMOOTHGRAD_SAMPLES = 50
"""Most noisy copies one SmoothGrad map may average (the page offers 5-50): at most
MAX_SMOOTHGRAD_SAMPLES / Probe.CHUNK compiled gradient calls per request."""


def saliency(model, x, class_index: int, smoothgrad_samples: int = 0, noise: float = 0.15,
             seed: int = 0) -> np.ndarray:
    """|d logit[class] / d input| as an H x W map (largest over colour channels).

    smoothgrad_samples > 0: SmoothGrad, the mean of that map over noisy copies of x
    (Gaussian noise, standard deviation noise x (max - min) of x, drawn from seed).
    Results are remembered (Probe.remember): the same call again costs nothing.
    """
    p = get_probe(model)
    xb = p.check_input(x)
    n = int(smoothgrad_samples)
    if n < 0 or n > MAX_SMOOTHGRAD_SAMPLES:
        raise ValueError(f"smoothgrad_samples must be 0..{MAX_SMOOTHGRAD_SAMPLES}, got {smoothgrad_samples}.")
    if not (0.0 <= float(noise) <= 1.0):
        raise ValueError(f"noise must be 0..1 (a fraction of the pixel range), got {noise}.")
    if n == 0:
        _, grads = p.forward_backward(xb[0], class_index)
        return np.abs(grads[0]).max(axis=-1)
    c = p.check_class(class_index)

    def compute():
        span = float(xb.max() - xb.min()) or 1.0
        rng = np.random.default_rng(seed)
        noisy = xb + rng.normal(0.0, noise * span, size=(n, *xb.shape[1:])).astype(np.float32)
        return np.abs(p.input_gradient(noisy, c)).max(axis=-1).mean(axis=0)

    return p.remember(("smoothgrad", p.digest(xb), c, n, float(noise), int(seed)), compute)


def layer_gradients(model, x, class_index: int, layer_name: str) -> np.ndarray:
    """d logit[class] / d (layer's output), same shape as the layer's output (no batch axis)."""
    p = get_probe(model)
    spec = p.spec(layer_name)
    if spec.index > p.index[p.score_layer]:
        raise ValueError(f"{layer_name} comes after {p.score_layer}; the class score does not depend on it.")
    return p.gradients(x, class_index)[layer_name]


def default_cam_layer(model) -> str:
    """The last layer with a spatial map that is not a pooling: the last conv block's output."""
    p = get_probe(model)
    for s in reversed(p.specs):
        if len(s.output_shape) == 3 and s.kind in ("conv", "batchnorm", "activation"):
            return s.name
    raise ValueError(f"{p.model.name} has no convolutional layer for Grad-CAM.")


def grad_cam_coarse(model, x, class_index: int, layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM at the layer's own resolution, not normalised: ReLU(sum_k w_k A_k),
    w_k = mean over positions of d logit[class] / d A_k."""
    p = get_probe(model)
    name = layer_name or default_cam_layer(p)
    spec = p.spec(name)
    if len(spec.output_shape) != 3:
        raise ValueError(f"Grad-CAM needs a layer with an H x W x C output; {name} has {spec.output_shape}.")
    if spec.index > p.index[p.score_layer]:
        raise ValueError(f"{name} comes after {p.score_layer}.")
    acts, grads = p.forward_backward(x, class_index)
    a, g = acts[spec.index], grads[spec.index]
    weights = g.mean(axis=(0, 1))
    return np.maximum(a @ weights, 0.0).astype(np.float32)


def _interp_axis(src: np.ndarray, n_in: int):
    src = np.clip(src, 0, n_in - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, (src - lo).astype(np.float32)


def _bilinear(a: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Sample a 2-D map at fractional (row, col) positions (clamped at the edges)."""
    a = np.asarray(a, dtype=np.float32)
    r0, r1, fr = _interp_axis(rows, a.shape[0])
    c0, c1, fc = _interp_axis(cols, a.shape[1])
    top = a[r0][:, c0] * (1 - fc) + a[r0][:, c1] * fc
    bottom = a[r1][:, c0] * (1 - fc) + a[r1][:, c1] * fc
    return (top * (1 - fr[:, None]) + bottom * fr[:, None]).astype(np.float32)


def resize_bilinear(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a 2-D map, as tf.image.resize(method="bilinear") does (half-pixel
    centres, no antialiasing); NumPy, so it needs no TensorFlow kernel."""
    a = np.asarray(a, dtype=np.float32)
    h, w = int(size[0]), int(size[1])
    rows = (np.arange(h, dtype=np.float64) + 0.5) * (a.shape[0] / h) - 0.5
    cols = (np.arange(w, dtype=np.float64) + 0.5) * (a.shape[1] / w) - 0.5
    return _bilinear(a, rows, cols)


def receptive_field_grid(model, layer_name: str) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where the positions of a layer's maps sit on the input: ((row0, col0), (step_r, step_c)).

    Position (i, j) of the layer's output is centred on input pixel
    (row0 + i * step_r, col0 + j * step_c) (receptive-field arithmetic through every conv and
    pooling layer: each adds (k_eff - 1) / 2 - padding_before steps and multiplies the step by
    its stride). None when a layer on the way is not one whose geometry is known.
    """
    p = get_probe(model)
    chain = []
    name = layer_name
    while name is not None:
        chain.append(p.spec(name))
        name = chain[-1].input_name
    start, jump = [0.0, 0.0], [1.0, 1.0]
    for spec in reversed(chain[:-1]):            # chain[-1] is the input layer
        if len(spec.output_shape) != 3:
            return None
        info = spec.info
        if spec.kind == "conv" and len(info.get("kernel_size", ())) == 2:
            size, strides = info["kernel_size"], info["strides"]
            dilation = info.get("dilation") or (1, 1)
        elif spec.kind == "pool" and len(info.get("pool_size", ())) == 2:
            size, strides, dilation = info["pool_size"], info["strides"] or info["pool_size"], (1, 1)
        elif spec.kind in ("batchnorm", "activation", "dropout"):
            continue
        else:
            return None
        n_in = p.spec(spec.input_name).output_shape[:2]
        for ax in range(2):
            k_eff = dilation[ax] * (size[ax] - 1) + 1
            same = info.get("padding") == "same"
            pad = kernels.pad_amounts(n_in[ax], k_eff, strides[ax], "same")[0] if same else 0
            start[ax] += ((k_eff - 1) / 2 - pad) * jump[ax]
            jump[ax] *= strides[ax]
    return (start[0], start[1]), (jump[0], jump[1])


def grad_cam(model, x, class_index: int, layer_name: str | None = None) -> np.ndarray:
    """Grad-CAM heat map in [0, 1] at the input's H x W.

    The coarse map is enlarged bilinearly with each of its cells placed on the centre of its
    receptive field (receptive_field_grid): for "same"-padded layers this is exactly
    tf.image.resize; after a "valid" convolution the map covers only the middle of the
    picture, and stretching it over the whole picture (as resize would) would misplace it.
    """
    p = get_probe(model)
    name = layer_name or default_cam_layer(p)
    cam = grad_cam_coarse(p, x, class_index, name)
    h, w = p.input_shape[:2]
    grid = receptive_field_grid(p, name)
    if grid is None:
        big = resize_bilinear(cam, (h, w))
    else:
        (r0, c0), (sr, sc) = grid
        big = _bilinear(cam, (np.arange(h) - r0) / sr, (np.arange(w) - c0) / sc)
    big = np.maximum(big, 0.0)
    top = float(big.max())
    return (big / top if top > 0 else big).astype(np.float32)


def _feeds_score_directly(p: Probe, name: str) -> bool:
    """True when `name`'s output reaches the score layer unchanged at inference."""
    s = p.spec(p.score_layer)
    src = s.input_name
    while src is not None:
        if src == name:
            return True
        spec = p.spec(src)
        if spec.kind not in _IDENTITY_AT_INFERENCE:
            return False
        src = spec.input_name
    return False


def contributions(model, x, class_index: int, layer_name: str | None = None,
                  activations: Sequence[LayerActivation] | None = None) -> Contributions:
    """Each unit's push on the class's logit, sorted from most positive.

    layer_name None: the layer that feeds the logits layer (e.g. relu_dense1), where the
    split is exact (activation x weight, plus the bias, sums to the logit). Other layers:
    gradient x activation, an estimate. `activations` (Probe.run's result) avoids a rerun.
    """
    p = get_probe(model)
    c = p.check_class(class_index)
    score = p.spec(p.score_layer)
    if layer_name is None:
        layer_name = score.input_name
        while layer_name is not None and p.spec(layer_name).kind in _IDENTITY_AT_INFERENCE:
            layer_name = p.spec(layer_name).input_name
    if layer_name is None:
        raise ValueError("The score layer has no input layer to split.")
    spec = p.spec(layer_name)
    acts = activations if activations is not None else p.run(x)
    a = np.asarray(acts[spec.index].output, dtype=np.float32).reshape(-1)
    logits_out = np.asarray(acts[score.index].output, dtype=np.float32)
    if score.kind == "dense" and _feeds_score_directly(p, layer_name):
        w = score.info["kernel"][:, c]
        contrib = a * w
        bias = float(score.info["bias"][c]) if score.info["bias"] is not None else 0.0
        order = np.argsort(-contrib, kind="stable")
        return Contributions(layer_name, c, order, a[order], w[order], contrib[order], bias,
                             float(logits_out[c]), True)
    g = layer_gradients(p, x, c, layer_name).reshape(-1)
    contrib = a * g
    order = np.argsort(-contrib, kind="stable")
    return Contributions(layer_name, c, order, a[order], None, contrib[order], None, None, False)


def dropout_sample(values: np.ndarray, rate: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """What a Keras Dropout(rate) layer does in training, on `values`.

    Returns (scale, output): scale is 0 where a unit is dropped and 1/(1 - rate) where it
    is kept (Keras's own Dropout applied to ones), output = values x scale.
    """
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"Dropout rate must be in [0, 1), got {rate}.")
    v = np.asarray(values, dtype=np.float32)
    layer = keras.layers.Dropout(rate, seed=int(seed))
    scale = keras.ops.convert_to_numpy(layer(np.ones_like(v)[None], training=True))[0]
    return scale.astype(np.float32), (v * scale).astype(np.float32)
