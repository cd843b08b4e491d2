"""Model cards, test-set evaluation and atomic saving: the parts of training that need no TensorFlow.

They run under any Keras backend, so a model trained elsewhere (``scripts/train_on_accelerator.py``
on JAX or PyTorch) gets the same card, the same evaluation and the same files as
``python -m cnnviz train``.
"""
from __future__ import annotations

import datetime
import json
import os
import pathlib
import platform
import tempfile

import keras
import numpy as np

import cnnviz
from cnnviz import models


def to_model_input(x_uint8: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W[, C]) -> float32 in [0, 1] with a channel axis."""
    x = x_uint8.astype("float32") / 255.0
    return x[..., None] if x.ndim == 3 else x


def evaluate(model: keras.Model, x_test: np.ndarray, y_test: np.ndarray, class_names,
             with_probabilities: bool = False):
    """Accuracy, loss, per-class accuracy and confusion matrix on a test set (and the model's
    probabilities for each test image, with_probabilities=True)."""
    probs = np.asarray(model.predict(to_model_input(x_test), batch_size=500, verbose=0))
    pred = probs.argmax(axis=1)
    n = len(class_names)
    confusion = np.zeros((n, n), dtype=int)
    np.add.at(confusion, (y_test, pred), 1)
    eps = 1e-7
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y_test)), y_test], eps, 1.0))))
    per_class = {name: round(float(confusion[i, i] / max(confusion[i].sum(), 1)), 4)
                 for i, name in enumerate(class_names)}
    figures = {
        "test_samples": int(len(y_test)),
        "test_accuracy": round(float((pred == y_test).mean()), 4),
        "test_loss": round(loss, 4),
        "per_class_accuracy": per_class,
        "confusion_matrix": confusion.tolist(),
    }
    return (figures, probs) if with_probabilities else figures


def without_optimizer(model: keras.Model) -> keras.Model:
    """An uncompiled copy with the same layers and weights: the file is a third of the size."""
    copy = type(model).from_config(model.get_config())  # clone_model would copy the compile state
    copy.set_weights(model.get_weights())
    return copy


def save_atomically(path: pathlib.Path, write) -> None:
    """Call write(tmp) on a file beside path, then move it into place: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes files private
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}"


def card(*, name: str, dataset: str, class_names, arch: str, model: keras.Model, epochs: int,
         batch_size: int, seed: int, train_samples: int, validation_samples: int, augmentation: bool,
         history: dict, seconds: float, machine_text: str, command: str, evaluation: dict,
         **extra) -> dict:
    """The model card written beside every trained model (see pretrained/*.json)."""
    return {
        "name": name,
        "dataset": dataset,
        "class_names": list(class_names),
        "architecture": arch,
        "input_shape": [int(d) for d in models.INPUT_SHAPES.get(dataset, model.inputs[0].shape[1:])],
        "parameters": int(model.count_params()),
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "train_samples": int(train_samples),
        "validation_samples": int(validation_samples),
        "augmentation": augmentation,
        "history": {k: [round(float(v), 4) for v in vals] for k, vals in history.items()},
        "training_seconds": round(seconds, 1),
        "machine": machine_text,
        "command": command,
        "cnnviz_version": cnnviz.__version__,
        "keras_version": keras.__version__,
        **extra,
        "date": datetime.date.today().isoformat(),
        **evaluation,
    }


def write_model(model: keras.Model, out: pathlib.Path, model_card: dict) -> None:
    """The model without its optimizer state at out, its card beside it as out.json."""
    save_atomically(out, without_optimizer(model).save)
    save_atomically(out.with_suffix(".json"),
                    lambda p: pathlib.Path(p).write_text(json.dumps(model_card, indent=1) + "\n"))
