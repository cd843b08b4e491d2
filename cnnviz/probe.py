"""Look inside a Keras model: every layer's output and the gradients of a class score.

    from cnnviz import models, probe
    model = models.load_pretrained("mnist")
    acts = probe.Probe(model).run(x)            # x: one image, H x W x C float32 in [0, 1]
    [(a.name, a.kind, a.output.shape) for a in acts]
    probe.layer_gradients(model, x, class_index=3, layer_name="relu3")

All numbers come from the model itself: one compiled graph call returns every
layer's output, and gradients come from ``tf.GradientTape``. The class score
that gradients are taken of is the class's logit, the input of the softmax
(cnnviz.class_score says how it is found for each kind of model). A Sequential
model is accepted like a functional one.

The "why" methods built on the Probe (saliency, Grad-CAM, integrated gradients, occlusion,
contributions, feature visualisation) live in cnnviz.attributions; their old names here
(probe.saliency, probe.grad_cam, ...) still work, see _MOVED at the end.
"""
from __future__ import annotations

import collections
import hashlib
import threading
import types
import weakref
from dataclasses import dataclass, field
from typing import Any, Mapping

import keras
import numpy as np
import tensorflow as tf

from cnnviz import class_score, model_graph

KINDS = ("input", "conv", "batchnorm", "activation", "pool", "flatten", "dense", "dropout",
         "softmax", "other")


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
        return "softmax" if class_score.is_softmax(layer.activation) else "activation"
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


class Probe:
    """Every layer's output for one image in one compiled graph call; gradients likewise.

    Build once per model (it makes a multi-output keras.Model and tf.functions with a
    fixed input signature) and reuse; it never changes the model.
    """

    #: How many results (backward passes, SmoothGrad maps) Probe.remember keeps.
    MEMO = 12

    def __init__(self, model: keras.Model, jit_compile: bool = True, jit_gradients: bool = False):
        model = model_graph.as_functional(model)
        if len(model.inputs) != 1:
            raise ValueError(f"Probe needs a model with one input; {model.name} has {len(model.inputs)}.")
        self.model = model
        self.input_shape: tuple[int, ...] = tuple(int(d) for d in model.inputs[0].shape[1:])
        layers = list(model.layers)
        if not layers or not isinstance(layers[0], keras.layers.InputLayer):
            raise ValueError("Probe needs a model whose first layer is its Input.")
        producers = model_graph.producers(model)
        specs = []
        for i, layer in enumerate(layers):
            kind = layer_kind(layer)
            specs.append(LayerSpec(
                index=i, name=layer.name, kind=kind, input_name=producers[layer.name],
                output_shape=tuple(int(d) for d in layer.output.shape[1:]),
                params=int(layer.count_params()), layer=layer,
                info=_read_only(_layer_info(layer, kind))))
        self.specs: tuple[LayerSpec, ...] = tuple(specs)
        self.index = {s.name: s.index for s in specs}
        self._multi = keras.Model(model.inputs, [layer.output for layer in layers[1:]],
                                  name=f"{model.name}_probe")
        #: The class score every gradient here is of: the logit (see cnnviz.class_score).
        self.class_score = class_score.find(model)
        #: The layer the pages call the class scores (a Dense(..., softmax) itself, whose
        #: pre-activation is the logits, or the layer whose output is the logits).
        self.score_layer: str = self.class_score.layer
        #: The last layer the score is computed from: layers after it get zero gradients.
        self.score_index: int = self.index[self.class_score.source]
        # The forward pass is XLA-compiled (about 1 s once per model): faster than a plain
        # graph, and its compiled code survives keras.backend.clear_session(), which empties
        # TensorFlow's kernel cache (cnnviz.ui.model_cache explains why that matters). The
        # gradient graphs are plain tf.functions unless jit_gradients: XLA-compiling them
        # takes 5-10 s per model and shape, too long for a first visit.
        one_spec = tf.TensorSpec((1, *self.input_shape), tf.float32)
        class_spec = tf.TensorSpec((), tf.int32)
        self.jit_compile = bool(jit_compile)
        self._forward = tf.function(self._forward_impl, input_signature=[one_spec],
                                    jit_compile=self.jit_compile)
        self._all_grads = tf.function(self._all_grads_impl, input_signature=[one_spec, class_spec],
                                      jit_compile=bool(jit_gradients))
        self._memo: collections.OrderedDict = collections.OrderedDict()
        self._memo_lock = threading.Lock()

    # --- graph functions -------------------------------------------------------------------
    def _forward_impl(self, x):
        return self._multi([x], training=False)

    def _logits(self, x, outs):
        """The logits from the input and every layer's output (as _multi returns them)."""
        return self.class_score.logits(x if self.score_index == 0 else outs[self.score_index - 1])

    def _all_grads_impl(self, x, c):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outs = self._multi([x], training=False)
            score = self._logits(x, outs)[0, c]
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
        n = int(self.model.outputs[0].shape[-1])
        c = int(class_index)
        if not 0 <= c < n:
            raise ValueError(f"class_index must be 0..{n - 1}, got {class_index}.")
        return c

    def spec(self, name: str) -> LayerSpec:
        if name not in self.index:
            raise KeyError(f"No layer {name!r} in {self.model.name}; layers: {', '.join(self.index)}.")
        return self.specs[self.index[name]]

    def check_scored(self, name: str) -> LayerSpec:
        """The layer's spec; ValueError when the class score does not depend on its output."""
        spec = self.spec(name)
        if spec.index > self.score_index:
            raise ValueError(f"{name} comes after the logits ({self.class_score.where}); the class "
                             "score does not depend on it.")
        return spec

    def path(self, name: str) -> list[LayerSpec]:
        """The layers from the input to `name`, input first, following each layer's input."""
        chain = [self.spec(name)]
        while chain[-1].input_name is not None:
            chain.append(self.spec(chain[-1].input_name))
        return chain[::-1]

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
        saliency gradient. Layers after score_index get zero gradients.

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

        Layers after score_index (the softmax) get zeros: the logit does not depend on them.
        """
        _, grads = self.forward_backward(x, class_index)
        return {s.name: g for s, g in zip(self.specs, grads)}


#: Probes kept for get_probe, least recently used dropped first. A Probe holds its model, so a
#: weak-keyed cache would keep every model ever probed (a visitor's own or trained network too);
#: a bounded one keeps memory flat. The shipped networks' Probes also live in the app's cache.
MAX_PROBES = 8
_PROBES: "collections.OrderedDict[int, tuple[weakref.ref, Probe]]" = collections.OrderedDict()
_PROBES_LOCK = threading.Lock()


def get_probe(model: keras.Model | Probe) -> Probe:
    """The Probe of a model (built on first use, then reused); a Probe is returned as is."""
    if isinstance(model, Probe):
        return model
    with _PROBES_LOCK:
        entry = _PROBES.get(id(model))
        if entry is not None and entry[0]() is model:
            _PROBES.move_to_end(id(model))
            return entry[1]
        p = Probe(model)
        _PROBES[id(model)] = (weakref.ref(model), p)
        while len(_PROBES) > MAX_PROBES:
            _PROBES.popitem(last=False)
        return p


def layer_gradients(model, x, class_index: int, layer_name: str) -> np.ndarray:
    """d logit[class] / d (layer's output), same shape as the layer's output (no batch axis)."""
    p = get_probe(model)
    p.check_scored(layer_name)
    return p.gradients(x, class_index)[layer_name]


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


# Moved to cnnviz.attributions; still importable from here (probe.saliency, probe.grad_cam, ...)
# for the pages, layer views and benchmarks that use these names. Resolved on first use
# (PEP 562): the attribution modules import this module, so importing them here at the top
# would be circular.
_MOVED = {
    "saliency": "saliency", "MAX_SMOOTHGRAD_SAMPLES": "saliency",
    "grad_cam": "gradcam", "grad_cam_coarse": "gradcam", "default_cam_layer": "gradcam",
    "receptive_field_grid": "_geometry", "resize_bilinear": "_geometry",
    "contributions": "contributions", "Contributions": "contributions",
}


def __getattr__(name: str):
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"cnnviz.attributions.{module}"), name)


def __dir__():
    return sorted([*globals(), *_MOVED])
