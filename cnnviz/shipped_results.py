"""Results that are the same for every visitor of a shipped network, computed once at build time
and shipped beside the models (pretrained/precomputed/<name>.npz, made by
scripts/make_precomputed.py), the way OpenAI Microscope precomputes its pages:

- the most exciting picture (cnnviz.attributions.maximise) of the first channels of every layer
  with maps, with the ascent settings the network explorer uses;
- the top test images of every channel of those layers (cnnviz.evidence.top_images_for_channel),
  valid only for the test set they were found in (its digest is stored);
- the "why" maps of the shipped sample pictures (SHIPPED_METHODS), with the explorer's default
  settings.

A file is used only while its network's weights are the ones it was made from (the digest of the
.keras file is stored); a retrained network simply falls back to computing. Loaded lazily, once
per process, on the first question about that network. tests/test_shipped_results.py checks that
the shipped numbers equal a fresh computation.

WHY_METHODS is the one definition of each "why" map from (network, picture, settings): the page,
its cache (cnnviz/ui/result_cache.py) and the build script all compute through it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import pathlib
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from cnnviz import resources

FORMAT = 1
FOLDER = "precomputed"


def _saliency(network, x, settings):
    from cnnviz import attributions
    cls, copies, noise = settings
    return attributions.saliency(network, x, cls, smoothgrad_samples=copies, noise=noise, seed=0)


def _grad_cam(network, x, settings):
    from cnnviz import attributions
    cls, layer = settings
    return attributions.grad_cam(network, x, cls, layer)


def _layer_gradients(network, x, settings):
    from cnnviz import probe
    cls, layer = settings
    return probe.layer_gradients(network, x, cls, layer)


def _integrated_gradients(network, x, settings):
    from cnnviz import attributions
    cls, baseline, steps = settings
    return attributions.integrated_gradients(network, x, cls, baseline=baseline, steps=steps,
                                             return_delta=True)


def _occlusion(network, x, settings):
    from cnnviz import attributions
    cls, patch, stride = settings
    return attributions.occlusion(network, x, cls, patch=patch, stride=stride, fill=0.5)


#: method -> compute(network, x, settings). Settings tuples: saliency (class, noisy copies, noise);
#: grad_cam and layer_gradients (class, layer); integrated_gradients (class, baseline, steps),
#: which returns (map, completeness gap); occlusion (class, square, step) in pixels.
WHY_METHODS: dict[str, Callable] = {
    "saliency": _saliency, "grad_cam": _grad_cam, "layer_gradients": _layer_gradients,
    "integrated_gradients": _integrated_gradients, "occlusion": _occlusion,
}


#: The maps shipped for the samples. Not layer_gradients: one backward pass (milliseconds), and as
#: big as a layer's output (CIFAR-10's conv1: 32 x 32 x 32 numbers a sample, most of a file).
SHIPPED_METHODS = ("saliency", "grad_cam", "integrated_gradients", "occlusion")


def array_digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.data)
    return h.hexdigest()


def why_key(method: str, x: np.ndarray, settings: tuple) -> str:
    """The name a why map is stored under: the method, the exact input's digest, the settings."""
    return "why_" + hashlib.blake2b(repr((method, array_digest(np.asarray(x, np.float32)),
                                          tuple(settings))).encode(), digest_size=12).hexdigest()


def file_digest(path: pathlib.Path) -> str:
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def path_for(name: str) -> pathlib.Path:
    return resources.pretrained_dir() / FOLDER / f"{name}.npz"


@dataclass
class Shipped:
    """One network's shipped results (read-only arrays)."""
    name: str
    grids: dict[str, np.ndarray] = field(default_factory=dict)       # layer -> N x H x W x C uint8
    grid_steps: dict[str, int] = field(default_factory=dict)         # layer -> ascent steps
    top: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    test_digest: str | None = None                                   # the test set `top` came from
    why: dict[str, object] = field(default_factory=dict)             # why_key -> map (or (map, gap))


@functools.cache
def load(name: str) -> Shipped | None:
    """The shipped results of network `name`, or None: no file, another format, or weights that
    are not the ones the file was made from."""
    path = path_for(name)
    model = resources.pretrained_dir() / f"{name}.keras"
    if not path.is_file() or not model.is_file():
        return None
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("format") != FORMAT or meta.get("model_digest") != file_digest(model):
            return None
        arrays = {k: z[k] for k in z.files if k != "meta"}
    for a in arrays.values():
        a.flags.writeable = False
    out = Shipped(name, test_digest=meta.get("test_digest"))
    for layer, steps in meta.get("grids", {}).items():
        out.grids[layer], out.grid_steps[layer] = arrays[f"grid_{layer}"], int(steps)
    for layer in meta.get("top", []):
        out.top[layer] = tuple(arrays[f"top_{layer}_{part}"] for part in ("index", "score", "pos"))
    for key, parts in meta.get("why", {}).items():
        out.why[key] = (arrays[key], float(arrays[key + "_gap"])) if parts == 2 else arrays[key]
    return out


def grid(name: str, layer: str, channels: list[int], steps: int) -> np.ndarray | None:
    """The shipped most exciting pictures (float32 in [0, 1], 8-bit steps) of these channels, or
    None when they were not shipped with these ascent steps."""
    found = load(name)
    if found is None or layer not in found.grids or found.grid_steps[layer] != steps:
        return None
    pictures = found.grids[layer]
    if not channels or max(channels) >= len(pictures) or min(channels) < 0:
        return None
    return pictures[channels].astype(np.float32) / 255.0


_test_digests: dict[int, tuple[object, str]] = {}
_digest_lock = threading.Lock()


def _test_digest(x_test: np.ndarray) -> str:
    """array_digest of a test set, once per array object (hashing 30 MB takes ~50 ms)."""
    with _digest_lock:
        kept = _test_digests.get(id(x_test))
        if kept is not None and kept[0] is x_test:
            return kept[1]
    digest = array_digest(x_test)
    with _digest_lock:
        _test_digests[id(x_test)] = (x_test, digest)
    return digest


def top_images(name: str, layer: str, channel: int, x_test: np.ndarray, limit: int):
    """(test indices, scores, map positions) of the channel's top test images, or None when not
    shipped for this test set (a visitor's data folder may hold another one)."""
    found = load(name)
    if found is None or layer not in found.top or found.test_digest != _test_digest(x_test):
        return None
    index, score, pos = found.top[layer]
    if not 0 <= channel < index.shape[0] or limit > index.shape[1]:
        return None
    return index[channel, :limit], score[channel, :limit], pos[channel, :limit]


def why(name: str, method: str, x: np.ndarray, settings: tuple):
    """The shipped why map for this exact input and settings, or None."""
    found = load(name)
    if found is None or not found.why:
        return None
    return found.why.get(why_key(method, x, settings))
