"""The "why" maps: shipped with the network, kept per process, or computed side by side.

A class looks at the same samples, so one visitor's SmoothGrad, integrated-gradients, occlusion
or Grad-CAM map is the next visitor's; and a rerun of the "why" view that changes one setting
recomputes only the map that setting changes. In order, a map comes from:

1. the shipped results of a shipped network (cnnviz.shipped_results: the samples' maps with the
   default settings, computed at build time);
2. this process's cache (per shipped network name, or per network object for a visitor's own or
   trained network, whose name says nothing about its weights); a map another session is
   computing right now is waited for, not computed twice;
3. cnnviz.shipped_results.WHY_METHODS, the one definition of each map. prepare() computes the
   missing maps of one view in threads side by side (TensorFlow's ops release the GIL), the
   batched ones (SmoothGrad, integrated gradients, occlusion) one at a time, so that their
   memory does not add up: a new picture's one-pass maps cost no time beside the batched ones.

`counts` says how often a picture's map was shipped or kept, and how many maps were computed
(tests and benchmarks read it).
"""
from __future__ import annotations

import collections
import concurrent.futures as futures
import contextlib
import threading
import time
import weakref

import numpy as np
import streamlit as st

from cnnviz import shipped_results
from cnnviz.ui import model_cache

MAX_ENTRIES = 512   # a few MB: one entry is a map the size of the picture or of one layer's output
WORKERS = 3         # maps computed at once; more only queue for the same two cores
PROGRESS_AFTER_SECONDS = 0.5

LABELS = {"saliency": "saliency", "grad_cam": "Grad-CAM", "integrated_gradients": "integrated gradients",
          "occlusion": "occlusion", "layer_gradients": "the gradient inside"}

counts: collections.Counter = collections.Counter()   # "shipped", "kept", "computed"
_kept: "collections.OrderedDict[tuple, object]" = collections.OrderedDict()
_running: dict[tuple, futures.Future] = {}
_lock = threading.Lock()
_pool = futures.ThreadPoolExecutor(WORKERS, thread_name_prefix="cnnviz-why")
# Maps that run the network on a batch of pictures (noisy copies, interpolation steps, occluded
# copies) each hold up to a work budget's memory: one at a time, so a link's maps together cost
# no more than its largest (tests/ui/test_link_costs.py); one-pass maps run beside it.
_batched = threading.Semaphore(1)
_owners: dict[int, weakref.ref] = {}   # id(network) -> the network, for networks that are not shipped


def _owner(network) -> tuple:
    name = model_cache.shipped_name(network)
    if name is not None:
        return ("shipped", name)
    with _lock:
        ref = _owners.get(id(network))
        if ref is None or ref() is not network:      # a new network under a reused id
            for key in [k for k in _kept if k[0] == ("own", id(network))]:
                del _kept[key]
            _owners[id(network)] = weakref.ref(network)
    return ("own", id(network))


def _key(network, method: str, x: np.ndarray, settings: tuple) -> tuple:
    return (_owner(network), method, shipped_results.array_digest(np.asarray(x, np.float32)),
            tuple(settings))


def _ready(network, method: str, x: np.ndarray, settings: tuple, key: tuple, count: bool = True):
    """The shipped or kept map, or None. `count`: note in `counts` where it came from."""
    if key[0][0] == "shipped":
        found = shipped_results.why(key[0][1], method, x, settings)
        if found is not None:
            counts["shipped"] += count
            return found
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            counts["kept"] += count
            return _kept[key]
    return None


def _start(network, method: str, x: np.ndarray, settings: tuple, key: tuple) -> futures.Future:
    """A future for the map: one already running for this key, or a new one."""
    with _lock:
        running = _running.get(key)
        if running is not None:
            return running
        x = np.array(x, np.float32)          # the caller's array may change after this returns
        future = _pool.submit(_compute, network, method, x, settings, key)
        _running[key] = future
        return future


def is_batched(method: str, settings: tuple) -> bool:
    """True for a map computed from a batch of pictures: SmoothGrad (saliency with noisy copies),
    integrated gradients and occlusion."""
    return method in ("integrated_gradients", "occlusion") or (method == "saliency" and settings[1] > 1)


def _compute(network, method, x, settings, key):
    try:
        with _batched if is_batched(method, settings) else contextlib.nullcontext():
            result = shipped_results.WHY_METHODS[method](network, x, settings)
        with _lock:
            counts["computed"] += 1
            _kept[key] = result
            while len(_kept) > MAX_ENTRIES:
                _kept.popitem(last=False)
        return result
    finally:
        with _lock:
            _running.pop(key, None)


def prepare(network, x: np.ndarray, requests: list[tuple[str, tuple]]) -> None:
    """Compute the requested (method, settings) maps that are neither shipped nor kept, side by
    side; a line says what is being computed while it takes longer than half a second."""
    waiting = []
    for method, settings in requests:
        key = _key(network, method, x, settings)
        if _ready(network, method, x, settings, key, count=False) is None:
            waiting.append((method, _start(network, method, x, settings, key)))
    if waiting:
        _wait(waiting)


def _wait(waiting: list[tuple[str, futures.Future]]) -> None:
    started = time.monotonic()
    line = None
    pending = {f for _, f in waiting}
    while pending:
        _, pending = futures.wait(pending, timeout=0.1)
        if pending and line is None and time.monotonic() - started > PROGRESS_AFTER_SECONDS:
            line = st.empty()
        if line is not None and pending:
            left = [LABELS.get(m, m) for m, f in waiting if f in pending]
            line.progress((len(waiting) - len(left)) / len(waiting),
                          text=f"Computing {', '.join(left)} for this picture: "
                               f"{len(waiting) - len(left)} of {len(waiting)} maps done…")
    if line is not None:
        line.empty()
    for _, f in waiting:
        f.result()                            # an error in a map is the caller's error


def shared(network, method: str, x: np.ndarray, settings: tuple):
    """The map for this network, method, picture and settings: shipped, kept or computed now."""
    key = _key(network, method, x, settings)
    found = _ready(network, method, x, settings, key)
    if found is not None:
        return found
    future = _start(network, method, x, settings, key)
    _wait([(method, future)])
    return future.result()


def clear() -> None:
    """Forget every kept map (tests)."""
    with _lock:
        _kept.clear()
        counts.clear()
