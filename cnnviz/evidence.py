"""The test set as evidence: what a model gets right and wrong, and which images excite a channel.

    from cnnviz import data, evidence, models
    model = models.load_pretrained("mnist")
    _, (x_test, y_test), names = data.load_dataset("mnist")
    r = evidence.test_results(model, x_test, y_test, names)
    r.accuracy, r.per_class_accuracy, r.confusion       # the numbers of model_cards.evaluate
    evidence.cell_examples(r, true_class=4, predicted_class=9)   # 4s taken for 9s, surest first
    evidence.confident_mistakes(r)                                # the surest wrong answers
    evidence.examples_per_class(r, 7, right=False)                # 7s it got wrong
    evidence.top_images_for_channel(model, "relu3", 5, x_test)    # what channel 5 of relu3 likes

Every number comes from Keras running the model: ``test_results`` predicts exactly as
``model_cards.evaluate`` does (``predict`` in batches of 500 on ``model_cards.to_model_input``),
so its accuracy, per-class accuracy and confusion matrix are evaluate's.
``top_images_for_channel`` scores an image by a channel's largest value in the layer's output map
(the "top images" of the deep-visualization toolbox and OpenAI Microscope) and shows the input
patch under that position: its receptive field, from the kernel sizes, strides, dilations and
padding of the layers on the way (``probe.receptive_field_grid`` places the centres).

Computed once per model and cached; no model is ever mutated. Results live in a module-level
cache keyed on the model object (a ``weakref.WeakKeyDictionary``: a model that is gone takes its
entries with it) and, per model, on the identity of the test arrays (``id``; an entry keeps the
arrays alive, so the id cannot be reused while it exists) and the layer. Per model at most
``MAX_RESULTS`` test results and ``MAX_LAYERS`` layers' channel statistics are kept (least
recently used go first). A layer's statistics are every channel's maximum and its position for
every image (N x C values, computed batch by batch, never all maps at once), so asking for
another channel of the same layer runs nothing. Arrays passed in must not be changed in place
afterwards (the cache would not notice); the arrays handed out are read-only. The model is run
through a private twin (``keras.Model(model.inputs, model.outputs)``, the same layers and weights)
so that not even Keras's compiled predict function is attached to the caller's model.
"""
from __future__ import annotations

import collections
import functools
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Sequence

import keras
import numpy as np

from cnnviz import model_cards, probe

#: Test results (one per test set) kept per model.
MAX_RESULTS = 4
#: Layers' channel statistics (one per layer and test set) kept per model.
MAX_LAYERS = 8


# --- A small cache: per model (weakly), per key, computed once even when asked twice at once ---------

class _Slot:
    __slots__ = ("anchors", "lock", "value")

    def __init__(self, anchors):
        self.anchors = anchors          # the arrays whose id() is in the key: kept alive
        self.lock = threading.Lock()
        self.value = None


class _ModelCache:
    def __init__(self, cap: int):
        self.cap = cap
        self._by_model: "weakref.WeakKeyDictionary[Any, collections.OrderedDict]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, model, key, anchors: tuple, compute: Callable[[], Any]):
        with self._lock:
            slots = self._by_model.get(model)
            if slots is None:
                slots = self._by_model[model] = collections.OrderedDict()
            slot = slots.get(key)
            if slot is None:
                slot = slots[key] = _Slot(anchors)
                while len(slots) > self.cap:
                    slots.popitem(last=False)
            else:
                slots.move_to_end(key)
        with slot.lock:                 # a second caller waits for the first one's result
            if slot.value is None:
                slot.value = compute()
            return slot.value

    def clear(self) -> None:
        with self._lock:
            self._by_model.clear()


_RESULTS = _ModelCache(MAX_RESULTS)
_LAYER_STATS = _ModelCache(MAX_LAYERS)


def clear_cache() -> None:
    """Forget every cached result (tests, or to free memory)."""
    _RESULTS.clear()
    _LAYER_STATS.clear()


def _array_key(*arrays: np.ndarray) -> tuple:
    return tuple((id(a), a.shape, str(a.dtype)) for a in arrays)


def _twin(model: keras.Model) -> keras.Model:
    """The same layers and weights in a new Functional model: predicting with it attaches nothing
    to `model` (a subclassed model without inputs is used as it is)."""
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        return model
    if not inputs or not outputs:
        return model
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"{model.name} has {len(inputs)} inputs and {len(outputs)} outputs; "
                         "the test-set evidence needs one of each.")
    return keras.Model(inputs[0], outputs[0], name=f"{model.name}_evidence")


def _batches(n: int, size: int):
    for start in range(0, n, size):
        yield start, min(start + size, n)


def _check_batch_size(batch_size: int) -> int:
    b = int(batch_size)
    if b < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    return b


# --- What the model gets right and wrong --------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class TestResults:
    """A model's answers on a test set. Arrays are read-only (shared by every caller).

    probabilities: N x K float32, the model's output. predictions: (N,) argmax of it.
    labels: (N,) the true classes. class_names: K names.
    """
    __test__ = False                    # not a pytest test class despite its name

    probabilities: np.ndarray
    predictions: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]

    @property
    def n(self) -> int:
        return int(len(self.labels))

    @functools.cached_property
    def correct(self) -> np.ndarray:
        """(N,) bool: predicted class == true class."""
        return _frozen(self.predictions == self.labels)

    @functools.cached_property
    def confidence(self) -> np.ndarray:
        """(N,) float32: the probability the model gave its own answer (the predicted class)."""
        return _frozen(self.probabilities[np.arange(self.n), self.predictions])

    @functools.cached_property
    def confusion(self) -> np.ndarray:
        """K x K int: rows are the true class, columns the predicted one (as model_cards.evaluate)."""
        k = len(self.class_names)
        m = np.zeros((k, k), dtype=int)
        np.add.at(m, (self.labels, self.predictions), 1)
        return _frozen(m)

    @property
    def accuracy(self) -> float:
        """Fraction of right answers (unrounded; evaluate's test_accuracy rounds it to 4 places)."""
        return float(self.correct.mean()) if self.n else 0.0

    @functools.cached_property
    def per_class_accuracy(self) -> np.ndarray:
        """(K,) float64: right answers / images of each true class (0 for a class with none)."""
        m = self.confusion
        return _frozen(np.diag(m) / np.maximum(m.sum(axis=1), 1))

    @property
    def loss(self) -> float:
        """Mean cross-entropy, computed as model_cards.evaluate does (probabilities clipped at 1e-7)."""
        p = self.probabilities[np.arange(self.n), self.labels]
        return float(-np.mean(np.log(np.clip(p, 1e-7, 1.0))))


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _predict(model: keras.Model, x_uint8: np.ndarray, batch_size: int) -> np.ndarray:
    """The model's output for every image: Keras predict in batches of batch_size, converted a few
    batches at a time (floats for 10,000 CIFAR images would be 123 MB at once). The batches are
    the ones one predict over the whole set would make, so the numbers are the same."""
    twin = _twin(model)
    chunk = batch_size * 4
    outs = [np.asarray(twin.predict(model_cards.to_model_input(x_uint8[a:b]), batch_size=batch_size,
                                    verbose=0))
            for a, b in _batches(len(x_uint8), chunk)]
    return np.concatenate(outs).astype(np.float32, copy=False)


def test_results(model: keras.Model, x_test_uint8: np.ndarray, y_test: np.ndarray,
                 class_names: Sequence[str], batch_size: int = 500) -> TestResults:
    """The model's answers on a test set (uint8 images as data.load_dataset gives them), cached.

    Same numbers as model_cards.evaluate (Keras predict, batches of 500, to_model_input).
    """
    x = np.asarray(x_test_uint8)
    y = np.asarray(y_test)
    names = tuple(str(c) for c in class_names)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels.")
    if y.size and (y.min() < 0 or y.max() >= len(names)):
        raise ValueError(f"Labels must be 0..{len(names) - 1}; found {int(y.min())}..{int(y.max())}.")
    b = _check_batch_size(batch_size)

    def compute() -> TestResults:
        probs = _predict(model, x, b)
        if probs.ndim != 2 or probs.shape[1] != len(names):
            raise ValueError(f"The model gives {probs.shape[1] if probs.ndim == 2 else probs.shape[1:]} "
                             f"outputs per image; "
                             f"{len(names)} class names were given.")
        labels = y.astype(np.int64)
        return TestResults(_frozen(probs), _frozen(probs.argmax(axis=1)), _frozen(labels), names)

    return _RESULTS.get(model, ("results", *_array_key(x, y), names, b), (x, y), compute)


test_results.__test__ = False           # not a pytest test function despite its name


def _check_class(results: TestResults, c: int, what: str) -> int:
    k = len(results.class_names)
    c = int(c)
    if not 0 <= c < k:
        raise ValueError(f"{what} must be 0..{k - 1}, got {c}.")
    return c


def _most_confident(results: TestResults, mask: np.ndarray, limit: int | None) -> np.ndarray:
    """Indices where mask holds, the model's surest answers first (ties: lower index first)."""
    idx = np.flatnonzero(mask)
    order = np.argsort(-results.confidence[idx], kind="stable")
    idx = idx[order]
    return idx if limit is None else idx[:max(int(limit), 0)]


def cell_examples(results: TestResults, true_class: int, predicted_class: int,
                  limit: int | None = 24) -> np.ndarray:
    """Test indices in one confusion-matrix cell (true class, predicted class), surest first.

    Sure = the probability given to the predicted class. limit None: the whole cell.
    """
    t = _check_class(results, true_class, "true_class")
    p = _check_class(results, predicted_class, "predicted_class")
    return _most_confident(results, (results.labels == t) & (results.predictions == p), limit)


def confident_mistakes(results: TestResults, limit: int | None = 24) -> np.ndarray:
    """Test indices of wrong answers, the highest probability given to the wrong class first."""
    return _most_confident(results, ~results.correct, limit)


def examples_per_class(results: TestResults, cls: int, right: bool,
                       limit: int | None = 12) -> np.ndarray:
    """Test indices of images of true class cls answered right (or wrong), surest answer first."""
    c = _check_class(results, cls, "cls")
    return _most_confident(results, (results.labels == c) & (results.correct == bool(right)), limit)


# --- The images that excite a channel most ------------------------------------------------------------

class ReceptiveField(NamedTuple):
    """Where a layer's positions look at the input. Position (i, j) is centred on input pixel
    (centre0[0] + i * step[0], centre0[1] + j * step[1]) and sees a size[0] x size[1] window
    around it (before clipping to the image)."""
    centre0: tuple[float, float]
    step: tuple[float, float]
    size: tuple[int, int]

    def centre(self, row: int, col: int) -> tuple[float, float]:
        return (self.centre0[0] + row * self.step[0], self.centre0[1] + col * self.step[1])

    def box(self, row: int, col: int, image_hw: tuple[int, int]) -> tuple[int, int, int, int]:
        """(top, left, bottom, right), bottom and right exclusive (x[top:bottom, left:right]),
        clipped to the image."""
        out = []
        for ax, pos in enumerate((row, col)):
            first = int(round(self.centre(row, col)[ax] - (self.size[ax] - 1) / 2))
            out.append((max(first, 0), min(first + self.size[ax], int(image_hw[ax]))))
        (top, bottom), (left, right) = out
        return top, left, bottom, right


def receptive_field(model: keras.Model, layer_name: str) -> ReceptiveField | None:
    """The receptive field of a spatial layer's positions; None when a layer between the input
    and it is not a conv, pooling, batch-norm, activation or dropout layer with a 2-D map.

    Centres and steps are probe.receptive_field_grid's; the size grows by
    dilation x (kernel - 1) x (the step so far) at every conv and pooling layer.
    """
    grid = probe.receptive_field_grid(model, layer_name)
    if grid is None:
        return None
    p = probe.get_probe(model)
    size, jump = [1, 1], [1, 1]
    for spec in p.path(layer_name)[1:]:         # after the input layer
        info = spec.info
        if spec.kind == "conv":
            k, strides, dilation = info["kernel_size"], info["strides"], info.get("dilation") or (1, 1)
        elif spec.kind == "pool":
            k, strides, dilation = info["pool_size"], info["strides"] or info["pool_size"], (1, 1)
        else:                                    # batchnorm, activation, dropout: pointwise
            continue
        for ax in range(2):
            size[ax] += dilation[ax] * (k[ax] - 1) * jump[ax]
            jump[ax] *= strides[ax]
    (r0, c0), (sr, sc) = grid
    return ReceptiveField((float(r0), float(c0)), (float(sr), float(sc)), (size[0], size[1]))


class TopImage(NamedTuple):
    """One of the images a channel responds to most.

    index: the test index. score: the channel's largest value on that image. position: (row,
    col) of that value in the layer's map, None for a layer without a map (a dense unit).
    box: (top, left, bottom, right) of the input patch the position sees (bottom and right
    exclusive, clipped to the image); the whole image for a dense unit; None when the geometry
    is unknown.
    """
    index: int
    score: float
    position: tuple[int, int] | None
    box: tuple[int, int, int, int] | None


@dataclass(frozen=True, eq=False)
class LayerStats:
    """Every channel's largest value and where it is, for every image (read-only arrays).

    max: N x C float32. argmax: N x C int32, the flat position (row * width + col) of the first
    largest value in the map; map_hw: (height, width) of the map, None for a dense layer.
    """
    layer_name: str
    max: np.ndarray
    argmax: np.ndarray
    map_hw: tuple[int, int] | None


def _run_layer(sub: keras.Model, x_uint8: np.ndarray, batch_size: int) -> tuple:
    """Run the sub-model over the images in batches; keep per image and channel only the max and
    the first position of the max."""
    n = len(x_uint8)
    out_shape = tuple(int(d) for d in sub.outputs[0].shape[1:])
    c = out_shape[-1]
    mx = np.empty((n, c), np.float32)
    arg = np.zeros((n, c), np.int32)
    for a, b in _batches(n, batch_size):
        maps = np.asarray(sub.predict_on_batch(model_cards.to_model_input(x_uint8[a:b])), np.float32)
        if maps.ndim == 2:
            mx[a:b] = maps
            continue
        flat = maps.reshape(b - a, -1, c).transpose(0, 2, 1)     # (B, C, positions)
        arg[a:b] = flat.argmax(axis=2)
        mx[a:b] = np.take_along_axis(flat, arg[a:b, :, None].astype(np.intp), axis=2)[..., 0]
    return mx, arg, (out_shape[:2] if len(out_shape) == 3 else None)


def layer_stats(model: keras.Model, layer_name: str, x_test_uint8: np.ndarray,
                batch_size: int = 500) -> LayerStats:
    """Every channel's max and argmax over the layer's map for every image: one pass, cached."""
    x = np.asarray(x_test_uint8)
    b = _check_batch_size(batch_size)
    layer = model.get_layer(layer_name)          # ValueError names a layer that is not there
    rank = len(layer.output.shape)
    if rank not in (2, 4):
        raise ValueError(f"{layer_name} gives {tuple(layer.output.shape[1:])} per image; top images "
                         "need a map (H x W x C) or a vector of units.")

    def compute() -> LayerStats:
        sub = keras.Model(model.inputs[0], layer.output, name=f"{model.name}_{layer_name}_evidence")
        mx, arg, hw = _run_layer(sub, x, b)
        return LayerStats(layer_name, _frozen(mx), _frozen(arg), hw)

    return _LAYER_STATS.get(model, ("layer", layer_name, *_array_key(x), b), (x,), compute)


def top_images_for_channel(model: keras.Model, layer_name: str, channel: int,
                           x_test_uint8: np.ndarray, limit: int = 9,
                           batch_size: int = 500) -> list[TopImage]:
    """The test images on which one channel of a layer reaches its highest values, highest first.

    Score: the channel's maximum over the layer's output map (for a dense layer, the unit's
    value); position: where (the first such position in row-major order); box: the input patch
    under it. The layer's statistics are computed for all channels at once and cached, so
    another channel of the same layer costs no model run. Ties: lower test index first.
    """
    stats = layer_stats(model, layer_name, x_test_uint8, batch_size)
    n_channels = stats.max.shape[1]
    ch = int(channel)
    if not 0 <= ch < n_channels:
        raise ValueError(f"{layer_name} has channels 0..{n_channels - 1}; got {channel}.")
    scores = stats.max[:, ch]
    order = np.argsort(-scores, kind="stable")[:max(int(limit), 0)]
    positions = None if stats.map_hw is None else \
        np.stack(np.divmod(stats.argmax[order, ch], stats.map_hw[1]), axis=1)
    return top_images_at(model, layer_name, order, scores[order], positions)


def top_images_at(model: keras.Model, layer_name: str, indices, scores, positions) -> list[TopImage]:
    """TopImages for these test indices, scores and map positions (row, col; None for a dense
    layer), each with the input patch under its position: what top_images_for_channel returns,
    from its numbers (cnnviz.shipped_results ships them)."""
    image_hw = tuple(int(d) for d in model.inputs[0].shape[1:3])
    rf = receptive_field(model, layer_name) if positions is not None else None
    out = []
    for k, i in enumerate(indices):
        if positions is None:
            pos, box = None, (0, 0, image_hw[0], image_hw[1])
        else:
            pos = (int(positions[k][0]), int(positions[k][1]))
            box = rf.box(*pos, image_hw) if rf is not None else None
        out.append(TopImage(int(i), float(scores[k]), pos, box))
    return out
