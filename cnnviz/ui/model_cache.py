"""Models and their probes, loaded once per process and shared by every session.

Nothing here is changed after loading: sessions only call the model and the probe.
Importing this module imports TensorFlow (through cnnviz.probe).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from cnnviz import attributions, data, models, probe, resources
from cnnviz.compat import keras_internals, streamlit_internals


# Streamlit's runner would call keras.backend.clear_session() after every run; the models here
# are built once per process (see streamlit_internals).
streamlit_internals.keep_keras_session_after_runs()
keras_internals.check()   # at start-up: what model_files accepts is what this Keras writes


@dataclass(frozen=True)
class Loaded:
    name: str
    model: Any            # keras.Model
    probe: probe.Probe
    card: dict            # the model card (dataset, class_names, test_accuracy, ...)


ORDER = data.DATASETS  # the lesson's order: digits, clothes, photos


def available() -> list[str]:
    """The models a visitor can pick: the shipped pretrained ones, in the lesson's order.

    Raises resources.MissingDataError when none is installed (cnnviz ships three).
    """
    names = sorted(models.PRETRAINED, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    if not names:
        raise resources.MissingDataError(
            f"No pretrained model in {models.PRETRAINED_DIR} (each needs name.keras and name.json). "
            "Restore pretrained/ from the repository and reinstall cnnviz if it is installed, or "
            "train one: python -m cnnviz train --dataset mnist --out pretrained/mnist.keras")
    return names


def _warm(p: probe.Probe) -> None:
    """Trace every graph function once so a visitor never waits for it."""
    x = np.zeros(p.input_shape, np.float32)
    p.run(x)
    p.gradients(x, 0)
    attributions.saliency(p, x, 0, smoothgrad_samples=2)


# id(probe) -> (a weak reference to it, the shipped network's name), for shipped_name
_SHIPPED: dict[int, tuple[weakref.ref, str]] = {}


@st.cache_resource(show_spinner="Loading the network (once per server)…", max_entries=8)
def load(name: str) -> Loaded:
    model = models.load_pretrained(name)
    card = dict(models.PRETRAINED[name])
    p = probe.get_probe(model)
    _warm(p)
    _SHIPPED[id(p)] = (weakref.ref(p), name)
    return Loaded(name, model, p, card)


def shipped_name(network: probe.Probe) -> str | None:
    """The name of the shipped network whose probe this is (load() made it), or None: a visitor's
    own or trained network, whose name says nothing about its weights."""
    ref, name = _SHIPPED.get(id(network), (None, None))
    return name if ref is not None and ref() is network else None


def load_own(model, name: str) -> Loaded:
    """Wrap a user's own model (cnnviz.model_files.load_keras_file, local mode only) like load() does.

    For one session: kept in that session's st.session_state, never in the process-wide cache,
    so it is freed when the session lets it go.
    The card says what is known: no dataset, no class names (classes are numbered).
    """
    p = probe.get_probe(model)
    _warm(p)
    n_classes = int(model.outputs[0].shape[-1])
    card = {"name": name, "dataset": None, "architecture": model.name, "own": True,
            "class_names": [f"class {i}" for i in range(n_classes)], "test_accuracy": None,
            "parameters": int(model.count_params())}
    return Loaded(name, model, p, card)


def load_trained(model_file: str, card: dict) -> Loaded:
    """A network trained on /train in this session, for this session only (like load_own).

    The file was written by this server's own worker from builder specs; it is still read with
    safe_mode. Nothing is added to the process-wide cache or to pretrained/.
    """
    import keras

    from cnnviz import model_files
    model = model_files.for_explorer(keras.models.load_model(model_file, compile=False, safe_mode=True))
    p = probe.get_probe(model)
    _warm(p)
    return Loaded(card.get("name", "trained"), model, p, {**card, "trained_here": True})
