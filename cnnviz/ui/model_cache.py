"""Models and their probes, loaded once per process and shared by every session.

Nothing here is changed after loading: sessions only call the model and the probe.
Importing this module imports TensorFlow (through cnnviz.probe).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from cnnviz import attributions, data, models, probe, resources


def _leave_keras_alone_after_each_run() -> None:
    """Replace Streamlit's after-run cleanup with the same cleanup minus its Keras step.

    After every script run Streamlit's runner calls `_clean_problem_modules()`
    (streamlit/runtime/scriptrunner/script_runner.py), which calls keras.backend.clear_session()
    for apps that build a new Keras model on every run, and closes matplotlib's figures. Ours are
    built once per process and cached; with TensorFlow, clear_session costs a full garbage
    collection and empties TensorFlow's kernel cache, so the next run's first model call took
    50-300 ms instead of 3 ms (measured here). Streamlit has no setting for this, so the runner
    module's function is swapped for one that only closes matplotlib's figures. Keras itself is
    not touched: clear_session from anywhere else (training, notebooks, tests) works as ever.
    """
    from streamlit.runtime.scriptrunner import script_runner

    def clean_after_run_but_keras() -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")

    script_runner._clean_problem_modules = clean_after_run_but_keras


_leave_keras_alone_after_each_run()


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


@st.cache_resource(show_spinner="Loading the network (once per server)…", max_entries=8)
def load(name: str) -> Loaded:
    model = models.load_pretrained(name)
    card = dict(models.PRETRAINED[name])
    p = probe.get_probe(model)
    _warm(p)
    return Loaded(name, model, p, card)


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
