"""Datasets: MNIST, Fashion-MNIST and CIFAR-10 as uint8 arrays.

Sources, in order: an explicit path (a .npz file or a directory holding
``<name>.npz``), the directory in the ``CNNVIZ_DATA`` environment variable, and
finally Keras's own downloader (needs the internet).
"""
from __future__ import annotations

import os
import pathlib
import zipfile
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """What the app knows about one dataset: the one table every page and the core read."""
    key: str                        # "mnist": file names, model names, model cards
    title: str                      # "MNIST": its own name (samples.json's "dataset" field)
    kind: str                       # "Digits": what its pictures are, for people
    sample_prefix: str              # "Clothing: ": before a sample's title in the sample list
    image_shape: tuple[int, ...]    # one image, as stored (no channel axis for grey)
    class_names: tuple[str, ...]


#: key -> Dataset, in the lesson's order: digits, clothes, photos.
TABLE: dict[str, Dataset] = {d.key: d for d in (
    Dataset("mnist", "MNIST", "Digits", "", (28, 28), tuple(str(d) for d in range(10))),
    Dataset("fashion_mnist", "Fashion-MNIST", "Clothes", "Clothing: ", (28, 28),
            ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
    Dataset("cifar10", "CIFAR-10", "Photos", "Photo: ", (32, 32, 3),
            ("airplane", "automobile", "bird", "cat", "deer",
             "dog", "frog", "horse", "ship", "truck")),
)}
CLASS_NAMES = {k: list(d.class_names) for k, d in TABLE.items()}
IMAGE_SHAPES = {k: d.image_shape for k, d in TABLE.items()}
DATASETS = tuple(TABLE)


def by_title(title: str) -> Dataset | None:
    """The dataset a title names ("Fashion-MNIST" -> fashion_mnist's entry); None if none does."""
    return next((d for d in TABLE.values() if d.title == title), None)
KEYS = ("x_train", "y_train", "x_test", "y_test")


class DataError(ValueError):
    """The dataset could not be found or is not what it should be."""


def _how_to_provide(name: str) -> str:
    return (f"Provide {name} as an .npz with keys {', '.join(KEYS)}: pass --data PATH "
            f"(a file, or a directory holding {name}.npz), set CNNVIZ_DATA to such a directory, "
            f"or connect to the internet so Keras can download it.")


def _find_npz(name: str, path: str | os.PathLike | None) -> pathlib.Path | None:
    candidates = []
    if path is not None:
        p = pathlib.Path(path)
        if p.is_dir():
            candidates.append(p / f"{name}.npz")
        else:
            candidates.append(p)
    elif os.environ.get("CNNVIZ_DATA"):
        candidates.append(pathlib.Path(os.environ["CNNVIZ_DATA"]) / f"{name}.npz")
    for c in candidates:
        if c.is_file():
            return c
        raise DataError(f"No {name} data at {c}. " + _how_to_provide(name))
    return None


def _read_npz(name: str, file: pathlib.Path):
    try:
        with np.load(file, allow_pickle=False) as z:
            missing = [k for k in KEYS if k not in z.files]
            if missing:
                raise DataError(f"{file} lacks the keys {', '.join(missing)} "
                                f"(found: {', '.join(z.files) or 'none'}). " + _how_to_provide(name))
            return tuple(z[k] for k in KEYS)
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{file} is not a readable .npz file ({e}). " + _how_to_provide(name)) from e


def _download(name: str):
    import keras
    try:
        (xtr, ytr), (xte, yte) = getattr(keras.datasets, name).load_data()
    except Exception as e:  # network errors come in many types
        raise DataError(f"Could not download {name} with Keras ({type(e).__name__}: {e}). "
                        + _how_to_provide(name)) from e
    return xtr, ytr, xte, yte


def validate(name: str, x_train, y_train, x_test, y_test):
    """Check shapes, dtypes and label ranges; return the arrays with flat labels."""
    shape = IMAGE_SHAPES[name]
    out = []
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.dtype != np.uint8:
            raise DataError(f"x_{split} must be uint8 pixels 0-255, got {x.dtype}.")
        if x.ndim != len(shape) + 1 or x.shape[1:] != shape:
            raise DataError(f"x_{split} must have shape (N, {', '.join(map(str, shape))}), got {x.shape}.")
        y = np.asarray(y).reshape(-1)
        if y.shape[0] != x.shape[0]:
            raise DataError(f"y_{split} has {y.shape[0]} labels for {x.shape[0]} images.")
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"y_{split} must hold integer labels, got {y.dtype}.")
        if y.size and (y.min() < 0 or y.max() >= len(CLASS_NAMES[name])):
            raise DataError(f"y_{split} labels must lie in 0..{len(CLASS_NAMES[name]) - 1}, "
                            f"found {y.min()}..{y.max()}.")
        out += [x, y.astype(np.int64)]
    return out


def load_dataset(name: str, path: str | os.PathLike | None = None):
    """Return ((x_train, y_train), (x_test, y_test)), class_names for a dataset name."""
    if name not in CLASS_NAMES:
        raise DataError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")
    file = _find_npz(name, path)
    arrays = _read_npz(name, file) if file else _download(name)
    xtr, ytr, xte, yte = validate(name, *arrays)
    return (xtr, ytr), (xte, yte), list(CLASS_NAMES[name])
