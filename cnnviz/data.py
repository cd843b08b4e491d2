"""Datasets: MNIST, Fashion-MNIST and CIFAR-10 as uint8 arrays.

load_dataset's sources, in order: an explicit path (a .npz file or a directory holding
``<name>.npz``), the directory in the ``CNNVIZ_DATA`` environment variable, and
finally Keras's own downloader (needs the internet).

An .npz holds x_train, y_train, x_test, y_test, or (CIFAR-10) the JPEG layout: train_jpeg +
train_offsets, test_jpeg + test_offsets, y_train, y_test, image i of a split being
``jpeg[offsets[i]:offsets[i + 1]]``. A directory without ``<name>.npz`` may hold ``<name>_jpeg.npz``.

load_for_training never downloads: an explicit path or ``CNNVIZ_DATA``, then Keras's local cache if
the dataset is already there, then the starter subset shipped with cnnviz (pretrained/starter/,
made by scripts/make_starter_data.py), and it says in one line which one it used and why.
describe_for_training says the same line from the files' headers and labels alone, and
load_test_images reads only the test split: a web server never needs to hold the training images.
"""
from __future__ import annotations

import functools
import gzip
import io
import os
import pathlib
import pickle
import zipfile
from dataclasses import dataclass

import numpy as np

from cnnviz import resources


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
    if path is not None:
        folder = pathlib.Path(path) if pathlib.Path(path).is_dir() else None
        file = folder / f"{name}.npz" if folder else pathlib.Path(path)
    elif os.environ.get("CNNVIZ_DATA"):
        folder = pathlib.Path(os.environ["CNNVIZ_DATA"])
        file = folder / f"{name}.npz"
    else:
        return None
    if file.is_file():
        return file
    if folder is not None and (folder / f"{name}_jpeg.npz").is_file():
        return folder / f"{name}_jpeg.npz"
    raise DataError(f"No {name} data at {file}. " + _how_to_provide(name))


JPEG_KEYS = ("train_jpeg", "train_offsets", "test_jpeg", "test_offsets", "y_train", "y_test")


def _decode_jpegs(blob: np.ndarray, offsets: np.ndarray, where: str) -> np.ndarray:
    """Images blob[offsets[i]:offsets[i + 1]] (JPEG bytes) -> uint8 array (N, height, width, 3)."""
    from PIL import Image
    blob, offsets = np.asarray(blob).reshape(-1), np.asarray(offsets).reshape(-1)
    if (blob.dtype != np.uint8 or not np.issubdtype(offsets.dtype, np.integer) or offsets.size < 1
            or offsets[0] != 0 or offsets[-1] != blob.size or np.any(np.diff(offsets) <= 0)):
        raise DataError(f"{where}: the offsets must rise from 0 to the length of the uint8 JPEG bytes.")
    data = blob.tobytes()
    images = []
    for i, (a, b) in enumerate(zip(offsets[:-1].tolist(), offsets[1:].tolist())):
        try:
            with Image.open(io.BytesIO(data[a:b])) as im:
                images.append(np.asarray(im.convert("RGB")))
        except (OSError, ValueError, SyntaxError) as e:
            raise DataError(f"{where}: image {i} is not a readable JPEG ({e}).") from e
    if len({x.shape for x in images}) > 1:
        raise DataError(f"{where}: the images differ in size.")
    return np.stack(images) if images else np.zeros((0, 0, 0, 3), np.uint8)


SPLITS = ("train", "test")


def _npy_header(z, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of the array `key` in an open .npz, from its header alone."""
    with z.zip.open(f"{key}.npy") as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(f)
    return shape, dtype


def _read_npz_splits(name: str, file: pathlib.Path, images: tuple[str, ...], how: str | None = None) -> dict:
    """{split: (x or None, y)} from an .npz: every split's labels, checked; the images of the
    splits in `images` (the others are checked from their headers, or their offsets for JPEGs)."""
    how = _how_to_provide(name) if how is None else how
    try:
        with np.load(file, allow_pickle=False) as z:
            jpeg = "x_train" not in z.files and all(k in z.files for k in JPEG_KEYS)
            missing = [] if jpeg else [k for k in KEYS if k not in z.files]
            if missing:
                raise DataError(f"{file} lacks the keys {', '.join(missing)} "
                                f"(found: {', '.join(z.files) or 'none'}). " + how)
            out = {}
            for split in SPLITS:
                y = z[f"y_{split}"]
                if jpeg and split in images:
                    x = _decode_jpegs(z[f"{split}_jpeg"], z[f"{split}_offsets"], f"{file} ({split}_jpeg)")
                    y = _check_split(name, split, x.shape, x.dtype, y)
                elif jpeg:   # a JPEG's size is only known once decoded: the count is checked
                    x, count = None, len(np.asarray(z[f"{split}_offsets"]).reshape(-1)) - 1
                    y = _check_split(name, split, (count, *IMAGE_SHAPES[name]), np.uint8, y)
                elif split in images:
                    x = z[f"x_{split}"]
                    y = _check_split(name, split, x.shape, x.dtype, y)
                else:
                    x = None
                    y = _check_split(name, split, *_npy_header(z, f"x_{split}"), y)
                out[split] = (x, y)
            return out
    except DataError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{file} is not a readable .npz file ({e}). " + how) from e


def _read_npz(name: str, file: pathlib.Path, how: str | None = None):
    """x_train, y_train, x_test, y_test from an .npz (either layout), checked."""
    parts = _read_npz_splits(name, file, SPLITS, how)
    return (*parts["train"], *parts["test"])


def _download(name: str):
    import keras
    try:
        (xtr, ytr), (xte, yte) = getattr(keras.datasets, name).load_data()
    except Exception as e:  # network errors come in many types
        raise DataError(f"Could not download {name} with Keras ({type(e).__name__}: {e}). "
                        + _how_to_provide(name)) from e
    return xtr, ytr, xte, yte


def _check_split(name: str, split: str, x_shape, x_dtype, y) -> np.ndarray:
    """validate's checks of one split from its images' shape and dtype (a file header is enough);
    returns the labels flat, as int64."""
    shape = IMAGE_SHAPES[name]
    if np.dtype(x_dtype) != np.uint8:
        raise DataError(f"x_{split} must be uint8 pixels 0-255, got {np.dtype(x_dtype)}.")
    if len(x_shape) != len(shape) + 1 or tuple(x_shape[1:]) != shape:
        raise DataError(f"x_{split} must have shape (N, {', '.join(map(str, shape))}), got {tuple(x_shape)}.")
    y = np.asarray(y).reshape(-1)
    if y.shape[0] != x_shape[0]:
        raise DataError(f"y_{split} has {y.shape[0]} labels for {x_shape[0]} images.")
    if not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"y_{split} must hold integer labels, got {y.dtype}.")
    if y.size and (y.min() < 0 or y.max() >= len(CLASS_NAMES[name])):
        raise DataError(f"y_{split} labels must lie in 0..{len(CLASS_NAMES[name]) - 1}, "
                        f"found {y.min()}..{y.max()}.")
    return y.astype(np.int64)


def validate(name: str, x_train, y_train, x_test, y_test):
    """Check shapes, dtypes and label ranges; return the arrays with flat labels."""
    return [x_train, _check_split(name, "train", x_train.shape, x_train.dtype, y_train),
            x_test, _check_split(name, "test", x_test.shape, x_test.dtype, y_test)]


def _check_name(name: str) -> None:
    if name not in CLASS_NAMES:
        raise DataError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")


def load_dataset(name: str, path: str | os.PathLike | None = None):
    """Return ((x_train, y_train), (x_test, y_test)), class_names for a dataset name."""
    _check_name(name)
    file = _find_npz(name, path)
    arrays = _read_npz(name, file) if file else _download(name)
    xtr, ytr, xte, yte = validate(name, *arrays)
    return (xtr, ytr), (xte, yte), list(CLASS_NAMES[name])


# --- The starter subsets shipped with cnnviz -------------------------------------------------------

def starter_dir() -> pathlib.Path:
    """The folder of the starter subsets: resources.pretrained_dir() / "starter".

    Raises resources.MissingDataError when cnnviz's data folder is missing altogether.
    """
    return resources.pretrained_dir() / "starter"


def __getattr__(attr: str):
    # STARTER_DIR is looked up when it is used, so importing this module never raises.
    if attr == "STARTER_DIR":
        return starter_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def _starter_file(name: str) -> pathlib.Path:
    """STARTER_DIR / <name>.npz (a test may set STARTER_DIR on this module)."""
    folder = globals().get("STARTER_DIR")
    return pathlib.Path(folder if folder is not None else starter_dir()) / f"{name}.npz"


def _restore_starter() -> str:
    return ("Restore pretrained/starter/ from the repository (or rebuild it with "
            "scripts/make_starter_data.py --data DIR) and reinstall cnnviz if it is installed.")


def load_starter(name: str):
    """Return ((x_train, y_train), (x_test, y_test)), class_names from the starter subset.

    The subset shipped with cnnviz in STARTER_DIR: a few thousand class-balanced images of each
    dataset (CIFAR-10's stored as JPEG bytes, decoded here). DataError if it is missing or broken.
    """
    _check_name(name)
    xtr, ytr, xte, yte = _read_npz(name, _starter_npz(name), how=_restore_starter())
    return (xtr, ytr), (xte, yte), list(CLASS_NAMES[name])


def _starter_npz(name: str) -> pathlib.Path:
    """The starter subset's file; DataError if it is not there."""
    try:
        file = _starter_file(name)
    except resources.MissingDataError as e:
        raise DataError(str(e)) from e
    if not file.is_file():
        raise DataError(f"The {name} starter subset is missing: {file} does not exist. " + _restore_starter())
    return file


# --- Keras's local cache (read directly: never downloads) -------------------------------------------

# In the order x_train, y_train, x_test, y_test.
_FASHION_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                  "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
_CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def _keras_datasets_dir() -> pathlib.Path | None:
    """$KERAS_HOME/datasets, or ~/.keras/datasets; None when neither can be worked out."""
    home = os.environ.get("KERAS_HOME")
    base = pathlib.Path(home).expanduser() if home else pathlib.Path(os.path.expanduser("~")) / ".keras"
    return base / "datasets" if base.is_absolute() else None


def _keras_cache(name: str, folder: pathlib.Path | None) -> pathlib.Path | None:
    """Where Keras keeps `name` in `folder` (its datasets folder), if every file of it is there."""
    if folder is None:
        return None
    if name == "mnist":
        return folder / "mnist.npz" if (folder / "mnist.npz").is_file() else None
    if name == "fashion_mnist":
        d = folder / "fashion-mnist"
        return d if all((d / f).is_file() for f in _FASHION_FILES) else None
    # cifar10: Keras 3 extracts into cifar-10-batches-py-target/, Keras 2 straight into datasets/.
    for d in (folder / "cifar-10-batches-py-target" / "cifar-10-batches-py", folder / "cifar-10-batches-py"):
        if all((d / f).is_file() for f in _CIFAR_FILES):
            return d
    return None


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles CIFAR-10's python batches: dicts, lists and NumPy arrays, nothing that runs code."""
    _ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"),
                ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _idx(file: pathlib.Path, magic: int) -> np.ndarray:
    """An IDX file (MNIST's format, gzipped): labels (magic 2049) or images (2051)."""
    with gzip.open(file, "rb") as f:
        raw = f.read()
    dims = magic - 2048
    if len(raw) < 4 + 4 * dims or int.from_bytes(raw[:4], "big") != magic:
        raise DataError(f"{file} is not an IDX file of {'labels' if dims == 1 else 'images'}.")
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def _cifar_batch(file: pathlib.Path):
    with open(file, "rb") as f:
        d = _ArrayUnpickler(f, encoding="bytes").load()
    d = {k.decode() if isinstance(k, bytes) else k: v for k, v in d.items()}
    x = np.asarray(d["data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return x, np.asarray(d["labels"])


def _idx_header(file: pathlib.Path) -> tuple[int, ...]:
    """The shape an IDX file of images declares, from its first bytes."""
    with gzip.open(file, "rb") as f:
        head = f.read(16)
    if len(head) < 16 or int.from_bytes(head[:4], "big") != 2051:
        raise DataError(f"{file} is not an IDX file of images.")
    return tuple(int.from_bytes(head[4 + 4 * i:8 + 4 * i], "big") for i in range(3))


def _read_keras_cache(name: str, where: pathlib.Path, images: tuple[str, ...] = SPLITS) -> dict:
    """{split: (x or None, y)} from Keras's cached copy, like _read_npz_splits. CIFAR-10's python
    batches hold labels and images together, so they are read whole either way."""
    try:
        if name == "mnist":
            return _read_npz_splits(name, where, images, how="")
        out = {}
        for split in SPLITS:
            if name == "fashion_mnist":
                x_file, y_file = _FASHION_FILES[2:] if split == "test" else _FASHION_FILES[:2]
                y = _idx(where / y_file, 2049)
                if split in images:
                    x = _idx(where / x_file, 2051)
                    out[split] = (x, _check_split(name, split, x.shape, x.dtype, y))
                else:
                    out[split] = (None, _check_split(name, split, _idx_header(where / x_file), np.uint8, y))
                continue
            batches = [_cifar_batch(where / f) for f in (_CIFAR_FILES[5:] if split == "test" else _CIFAR_FILES[:5])]
            x = np.concatenate([b[0] for b in batches])
            y = _check_split(name, split, x.shape, x.dtype, np.concatenate([b[1] for b in batches]))
            out[split] = (x if split in images else None, y)
        return out
    except DataError:
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, pickle.UnpicklingError) as e:
        raise DataError(f"{where} is not readable ({type(e).__name__}: {e}).") from e


# --- What the training page trains on, and what the explorer tests with -----------------------------

@dataclass(frozen=True, eq=False)
class DataSource:
    """Which copy of a dataset is used, in one line for people (no images read)."""
    full: bool                      # the whole dataset (False: the starter subset)
    description: str                # e.g. "MNIST: all 60,000 training and 10,000 test images (from
                                    # mnist.npz in CNNVIZ_DATA)"; never a server path (pages show it)
    class_names: list[str]


@dataclass(frozen=True, eq=False)
class TestImages(DataSource):
    """A dataset's test images (read-only: shared with an in-process cache)."""
    x_test: np.ndarray              # uint8 (N, 28, 28) or (N, 32, 32, 3)
    y_test: np.ndarray              # int64 (N,)


@dataclass(frozen=True, eq=False)
class TrainingData(TestImages):
    """The images a training run uses (read-only: shared with an in-process cache)."""
    x_train: np.ndarray
    y_train: np.ndarray


def _reason(e: DataError, name: str) -> str:
    """A DataError's message without the how-to-provide tail."""
    return str(e).replace(_how_to_provide(name), "").strip()


def _result(name: str, parts: dict, full: bool, description: str):
    """The DataSource, TestImages or TrainingData that `parts` (from a _read_* function) fill."""
    source = dict(full=full, description=description, class_names=list(CLASS_NAMES[name]))
    (xtr, ytr), (xte, yte) = parts["train"], parts["test"]
    for a in (xtr, ytr, xte, yte):
        if a is not None:
            a.flags.writeable = False
    if xtr is not None:
        return TrainingData(**source, x_test=xte, y_test=yte, x_train=xtr, y_train=ytr)
    if xte is not None:
        return TestImages(**source, x_test=xte, y_test=yte)
    return DataSource(**source)


def _without_paths(text: str, places: dict[str, str]) -> str:
    """`text` with each server path in `places` replaced by what it is for people ("mnist.npz",
    "CNNVIZ_DATA", "Keras's cache"): a web page names sources, never where they lie on the server."""
    for where in sorted(places, key=len, reverse=True):
        if os.sep in where:                 # a bare relative name ("data") is no server path
            text = text.replace(where, places[where])
    return text


def _places(name: str, path: str | None, env: str | None, keras_dir: str | None) -> dict[str, str]:
    places = {}
    if path is not None:
        places[path] = pathlib.Path(path).name
    if env is not None:
        places[env] = "CNNVIZ_DATA"
    if keras_dir is not None:
        places[keras_dir] = "Keras's cache"
    try:
        places[str(_starter_file(name).parent)] = "pretrained/starter"
    except resources.MissingDataError:
        pass
    return places


@functools.lru_cache(maxsize=9)
def _resolve(name: str, path: str | None, env: str | None, keras_dir: str | None, images: tuple[str, ...]):
    """The data for `name`, described without server paths (see _without_paths)."""
    places = _places(name, path, env, keras_dir)
    try:
        return _resolve_at(name, path, env, keras_dir, images, places)
    except DataError as e:
        raise DataError(_without_paths(str(e), places)) from e


def _resolve_at(name: str, path: str | None, env: str | None, keras_dir: str | None,
                images: tuple[str, ...], places: dict[str, str]):
    title = TABLE[name].title

    def counts(parts) -> str:
        return f"{len(parts['train'][1]):,} training and {len(parts['test'][1]):,} test images"

    def reason(e: DataError) -> str:
        return _without_paths(_reason(e, name), places)

    why = None                      # why the full set was not used, when one was configured
    try:
        file = _find_npz(name, path)
        if file is not None:
            parts = _read_npz_splits(name, file, images)
            where = "" if path is not None else " in CNNVIZ_DATA"
            return _result(name, parts, True, f"{title}: all {counts(parts)} (from {file.name}{where})")
    except DataError as e:
        where = f"at {pathlib.Path(path).name}" if path is not None else "in CNNVIZ_DATA"
        why = f"The full set {where} was not used: {reason(e)}"
    cached = _keras_cache(name, pathlib.Path(keras_dir) if keras_dir else None)
    if cached is not None:
        try:
            parts = _read_keras_cache(name, cached, images)
            return _result(name, parts, True, ". ".join(filter(None, (
                f"{title}: all {counts(parts)} (from Keras's cache)", why))))
        except DataError as e:
            why = " ".join(filter(None, (why, f"Keras's cached copy was not used: {reason(e)}")))
    try:
        parts = _read_npz_splits(name, _starter_npz(name), images, how=_restore_starter())
    except DataError as e:
        tried = why or (f"CNNVIZ_DATA is not set and Keras's cache has no {name}.")
        raise DataError(f"No {title} data to train on: {tried} The starter subset shipped with cnnviz "
                        f"is not usable either: {e} Or set CNNVIZ_DATA to a folder holding {name}.npz "
                        f"(keys {', '.join(KEYS)}).") from e
    return _result(name, parts, False, " ".join(filter(None, (
        f"{title} starter subset shipped with cnnviz: {counts(parts)}.",
        why, f"For the full set, set CNNVIZ_DATA to a folder holding {name}.npz."))))


def _find(name: str, path, images: tuple[str, ...]):
    _check_name(name)
    resolved = str(pathlib.Path(path).expanduser().resolve()) if path is not None else None
    keras_dir = _keras_datasets_dir()
    return _resolve(name, resolved, os.environ.get("CNNVIZ_DATA") or None,
                    str(keras_dir) if keras_dir else None, images)


def load_for_training(name: str, path: str | os.PathLike | None = None) -> TrainingData:
    """The data to train `name` on, without the internet: never downloads, never raises for a
    wrong configuration.

    In order: `path` (a .npz file or a folder holding ``<name>.npz``) or else the folder in
    ``CNNVIZ_DATA``; Keras's own cache ($KERAS_HOME or ~/.keras, datasets/) when the dataset is
    already there; the starter subset shipped with cnnviz. A configured source that is missing or
    broken falls through to the next, and the description says why. Raises DataError (one line)
    only for an unknown name or when even the starter subset is missing or broken. Results are
    kept in-process, keyed on the name, the resolved path and the environment.
    """
    return _find(name, path, SPLITS)


def load_test_images(name: str, path: str | os.PathLike | None = None) -> TestImages:
    """load_for_training's test images alone: the training images are never decoded or kept."""
    return _find(name, path, ("test",))


def describe_for_training(name: str, path: str | os.PathLike | None = None) -> DataSource:
    """Which data load_for_training would use, in one line, read from the files' headers and
    labels: no images decoded (a web page can say it without holding the dataset)."""
    return _find(name, path, ())


load_for_training.cache_clear = _resolve.cache_clear   # type: ignore[attr-defined]
