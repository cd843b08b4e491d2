"""Open a user's own ``.keras`` model safely: read it as data first, load it only if it passes.

A ``.keras`` file is a zip archive with three parts: ``config.json`` (the architecture),
``metadata.json`` and ``model.weights.h5`` (the numbers). Loading one with Keras builds Python
objects that the file names, and Keras's own ``safe_mode`` has been bypassed many times
(CVE-2025-1550, -8747, -9905, -9906, ...). So, as Netron does, this module first reads the file
as plain data, without running anything:

1. ``check_keras_file(data)`` (no TensorFlow, fast): the file size; the zip's directory (at most
   the three parts above, nothing encrypted, each part within its own size limit, with declared
   and actual unpacked sizes checked while reading: zip bombs stop early); ``config.json`` parsed
   with ``json`` only, and the whole configuration walked: every layer, nested models included,
   must be one of Keras's own plain layer types (ALLOWED_LAYERS) from ``keras.layers``; every
   other object in it (initializers, regularizers, constraints, dtype policies) comes from an
   allow-list; activations are built-in names such as ``"relu"``; no Lambda layer, no TFSMLayer,
   no custom (registered) object, no Python function; and the layers' sizes, worked out from
   their settings, must fit the parameter budget (Keras allocates them while rebuilding the
   model, before reading any weight). The weights file is opened with h5py (still no
   TensorFlow) and must hold plain numeric arrays only (no links to other files).
2. ``load_keras_file(data)`` (TensorFlow): only on a file that passed, and only in local mode
   (``CNNVIZ_MODE=local``; see cnnviz.settings). It writes a fresh archive made only of the
   checked parts (training settings left out) to a private temporary file, loads it with
   ``keras.saving.load_model(path, safe_mode=True, compile=False)``, deletes the file, and checks
   the model suits the network explorer (one picture input H x W x 1 or 3, one output of class
   scores, the parameter budget, a budget for the numbers all layers produce for one picture).
   It returns a functional model whose first layer is its input and whose output is
   probabilities.

Every refusal is a ModelFileError with a one-line message: why, and what is accepted.

    from cnnviz import model_files
    model = model_files.load_keras_file(open("my_cnn.keras", "rb").read(), "my_cnn.keras")
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from cnnviz import settings
from cnnviz.compat import keras_internals

# ----------------------------------------------------------------------------- limits

MB = 1024 * 1024
MAX_FILE_BYTES = 20 * MB
"""The largest .keras file accepted (also the upload widget's limit)."""
MAX_MEMBER_BYTES = {"config.json": 1 * MB, "metadata.json": 16 * 1024, "model.weights.h5": 64 * MB}
"""The largest unpacked size of each part of the archive."""
REQUIRED_MEMBERS = ("config.json", "model.weights.h5")
MAX_CENTRAL_DIRECTORY_BYTES = 16 * 1024
MAX_LAYERS = 400
MAX_CONFIG_DEPTH = 40
MAX_CONFIG_NODES = 200_000
MAX_H5_OBJECTS = 5_000
MAX_PARAMS = 5_000_000
MAX_ACTIVATION_VALUES = 32_000_000
"""Numbers all layers together may produce for one picture (128 MB as float32)."""
MIN_SIDE, MAX_SIDE = 8, 256
MAX_CLASSES = 1000
CHUNK = 64 * 1024

# ----------------------------------------------------------------------------- allow-lists

ALLOWED_LAYERS = frozenset("""
    InputLayer
    Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose Conv3DTranspose
    DepthwiseConv1D DepthwiseConv2D SeparableConv1D SeparableConv2D
    MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D AveragePooling3D
    GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D
    GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D
    BatchNormalization LayerNormalization GroupNormalization UnitNormalization
    Activation ReLU LeakyReLU PReLU ELU Softmax
    Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianDropout GaussianNoise AlphaDropout
    Flatten Reshape Permute Dense Identity
    Rescaling Resizing CenterCrop Normalization
    ZeroPadding1D ZeroPadding2D ZeroPadding3D Cropping1D Cropping2D Cropping3D
    UpSampling1D UpSampling2D UpSampling3D
    Add Subtract Multiply Average Maximum Minimum Concatenate
""".split())
"""Keras's own plain layers: they compute from their settings and weights, nothing else."""

MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})

# Other objects a plain layer's settings may hold: family (the keras.<family> module) -> classes.
ALLOWED_OBJECTS = {
    "initializers": frozenset({"Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform",
                               "Identity", "IdentityInitializer", "LecunNormal", "LecunUniform",
                               "Ones", "Orthogonal", "OrthogonalInitializer", "RandomNormal",
                               "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros"}),
    "regularizers": frozenset({"L1", "L2", "L1L2", "OrthogonalRegularizer"}),
    "constraints": frozenset({"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"}),
    "dtype_policies": frozenset({"DTypePolicy", "FloatDTypePolicy"}),
}

ACTIVATIONS = frozenset("""
    linear relu relu6 leaky_relu elu selu celu gelu silu swish mish softplus softsign sigmoid
    hard_sigmoid hard_silu hard_swish log_sigmoid sparse_sigmoid tanh hard_tanh tanh_shrink
    soft_shrink hard_shrink softmax log_softmax sparsemax exponential sparse_plus squareplus glu
""".split())
"""Keras's built-in activations, named in the config as plain strings."""

# Layers refused with a reason of their own (everything else not allowed gets a general one).
REFUSED_LAYERS = {
    "Lambda": "a Lambda layer, which runs arbitrary Python code stored in the file",
    "TFSMLayer": "a TFSMLayer, which loads a TensorFlow SavedModel from elsewhere on the disk",
    "TorchModuleWrapper": "a TorchModuleWrapper, which unpickles a PyTorch module (arbitrary code)",
    "JaxLayer": "a JaxLayer, which calls a Python function",
    "FlaxLayer": "a FlaxLayer, which calls a Python function",
}

SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}\Z")
"""Layer and model names: shown on the page, so letters, digits, _ . - only."""

ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

ACCEPT_FILE = (f"Accepted: a .keras file saved by Keras 3 with model.save('name.keras'), "
               f"at most {MAX_FILE_BYTES // MB} MB.")
ACCEPT_LAYERS = ("Accepted: models built only from Keras's own layers (Conv2D, MaxPooling2D, "
                 "BatchNormalization, ReLU, Dropout, Flatten, Dense, Add, Concatenate, ...) with "
                 "built-in activations such as 'relu' or 'softmax'.")
ACCEPT_SHAPE = (f"Accepted: one picture input of height × width × 1 (grey) or 3 (colour), "
                f"{MIN_SIDE} to {MAX_SIDE} pixels a side, and one output of 2 to {MAX_CLASSES} "
                f"class scores, with at most {MAX_PARAMS:,} parameters.")
PUBLIC_REASON = ("Opening your own model is switched off on this public demo, so no model file "
                 "you give it is ever run")
ACCEPT_PUBLIC = (f"Run cnnviz on your own computer with {settings.ENV}=local to explore your own "
                 f".keras model.")


class ModelFileError(ValueError):
    """A model file was refused. str(e) is one line: why, then what is accepted."""

    def __init__(self, reason: str, accepted: str = ACCEPT_FILE):
        self.reason = _one_line(reason)
        self.accepted = _one_line(accepted)
        super().__init__(f"{self.reason}. {self.accepted}.")


def _one_line(text: str) -> str:
    return " ".join(str(text).split()).rstrip(".")


def _quote(text: Any, limit: int = 40) -> str:
    """A name taken from the file, safe to show: odd characters become '?', long ones are cut."""
    s = re.sub(r"[^A-Za-z0-9_.\-/> ]", "?", str(text))
    return "'" + (s if len(s) <= limit else s[:limit] + "…") + "'"


def _plain(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message, safe to show in one line of markdown."""
    first = (str(exc).strip().splitlines() or [""])[0]
    text = re.sub(r"[^A-Za-z0-9 _.,:;=()\[\]'/+-]", " ", first)
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[:limit] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB // 10 else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"


# ----------------------------------------------------------------------------- 1. the archive

def _guess_kind(data: bytes) -> str:
    head = data[:256]
    for magic, kind in ((b"\x89PNG", "a PNG picture"), (b"\xff\xd8\xff", "a JPEG photo"),
                        (b"GIF8", "a GIF picture"), (b"%PDF", "a PDF document"),
                        (HDF5_MAGIC, "an HDF5 (.h5) file, the old Keras format, which can carry "
                                     "Python code; save the model again with model.save('name.keras')"),
                        (b"\x1f\x8b", "a gzip archive"), (b"\x80", "a Python pickle")):
        if head.startswith(magic):
            return kind
    if head.startswith(b"PK"):
        return "a zip archive of an unusual kind"
    try:
        head.decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "a file of an unknown kind"


def _central_directory(data: bytes) -> None:
    """Check the zip's end record before zipfile parses it: few entries, a small directory."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if pos < 0 or len(data) - pos < 22:
        raise ModelFileError("the file is damaged or not a complete zip archive (its end is missing)")
    (_, disk, cd_disk, n_disk, n_total, cd_size, cd_offset,
     _) = struct.unpack("<4sHHHHIIH", data[pos:pos + 22])
    if (disk, cd_disk) != (0, 0) or n_disk != n_total or 0xFFFF in (n_disk, n_total) \
            or 0xFFFFFFFF in (cd_size, cd_offset):
        raise ModelFileError("the zip archive is split over several files or uses the zip64 format, "
                             "which Keras never writes for a small model")
    if data[max(0, pos - 20):pos].startswith(b"PK\x06\x07"):
        raise ModelFileError("the zip archive uses the zip64 format, which Keras never writes for a "
                             "small model")
    if n_total > 8 or cd_size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise ModelFileError(f"the zip archive lists {n_total} parts; a .keras file has 3 "
                             f"(config.json, metadata.json, model.weights.h5)")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Read one part, stopping as soon as it unpacks to more than `limit` bytes."""
    name = info.filename
    if info.file_size > limit:
        raise ModelFileError(f"{name} would unpack to {_size(info.file_size)}, more than the "
                             f"{_size(limit)} allowed for it (a zip bomb or a far too large model)")
    out = bytearray()
    try:
        with zf.open(info) as f:
            while True:
                block = f.read(CHUNK)
                if not block:
                    break
                out += block
                if len(out) > min(limit, info.file_size):
                    raise ModelFileError(f"{name} unpacks to more than the archive declares "
                                         f"(a zip bomb or a damaged file)")
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError,
            NotImplementedError) as e:
        raise ModelFileError(f"{name} in the archive is damaged or a zip bomb: its contents do not "
                             f"match its declared size or checksum ({_plain(e, 60)})") from None
    if len(out) != info.file_size:
        raise ModelFileError(f"{name} unpacks to {len(out)} bytes but the archive declares "
                             f"{info.file_size} (a damaged file or a zip bomb)")
    return bytes(out)


def _read_archive(data: bytes) -> dict[str, bytes]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("check_keras_file takes the file's bytes")
    data = bytes(data)
    if len(data) > MAX_FILE_BYTES:
        raise ModelFileError(f"the file is {_size(len(data))}, more than the "
                             f"{MAX_FILE_BYTES // MB} MB limit")
    if not data:
        raise ModelFileError("the file is empty")
    if not data.startswith(ZIP_MAGIC):
        raise ModelFileError(f"this is not a .keras model file: it looks like {_guess_kind(data)}")
    _central_directory(data)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, struct.error) as e:
        raise ModelFileError(f"the file is damaged or not a complete zip archive ({_plain(e, 80)})") from None
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        for name in names:
            if name not in MAX_MEMBER_BYTES:
                raise ModelFileError(f"the archive holds {_quote(name)}, which is not part of a "
                                     f"model the explorer can use (only config.json, metadata.json "
                                     f"and model.weights.h5 are read)")
        if len(set(names)) != len(names):
            raise ModelFileError("the archive holds the same part twice, which Keras never writes")
        for required in REQUIRED_MEMBERS:
            if required not in names:
                raise ModelFileError(f"the archive has no {required}, so it is not a Keras 3 model file")
        parts = {}
        for info in infos:
            if info.flag_bits & 0x1:
                raise ModelFileError(f"{info.filename} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ModelFileError(f"{info.filename} is packed with an unusual compression "
                                     f"method, which Keras never writes")
            parts[info.filename] = _read_member(zf, info, MAX_MEMBER_BYTES[info.filename])
    return parts


def _parse_json(raw: bytes, name: str) -> dict:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        why = "is nested too deeply" if isinstance(e, RecursionError) else "is not valid JSON text"
        raise ModelFileError(f"{name} {why}") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"{name} does not hold a JSON object")
    return value


# ----------------------------------------------------------------------------- 2. the configuration

class _Walk:
    """Walks a parsed config.json, checking every layer and object against the allow-lists."""

    def __init__(self) -> None:
        self.nodes = 0
        self.params = 0                            # an upper bound, from the settings alone
        self.layers: list[tuple[str, str]] = []   # (name, class name), nested models included

    # -- helpers
    def _count(self, depth: int) -> None:
        self.nodes += 1
        if depth > MAX_CONFIG_DEPTH:
            raise ModelFileError(f"config.json is nested more than {MAX_CONFIG_DEPTH} levels deep",
                                 ACCEPT_LAYERS)
        if self.nodes > MAX_CONFIG_NODES:
            raise ModelFileError("config.json is far larger than a model for the explorer needs",
                                 ACCEPT_LAYERS)

    @staticmethod
    def _registered_custom(obj: dict) -> str | None:
        reg = obj.get("registered_name")
        if reg is None or reg == obj.get("class_name"):
            return None
        return str(reg)

    # -- models and layers
    def model(self, obj: Any, where: str, depth: int) -> None:
        self._count(depth)
        if not isinstance(obj, dict) or not isinstance(obj.get("class_name"), str):
            raise ModelFileError(f"{where} is not a Keras model description", ACCEPT_FILE)
        cls, module = obj["class_name"], obj.get("module")
        reg = self._registered_custom(obj)
        if reg is not None:
            raise ModelFileError(f"{where} is a custom model class ({_quote(reg)}) that needs its "
                                 f"own Python code", ACCEPT_LAYERS)
        if cls not in MODEL_CLASSES or module not in keras_internals.MODEL_MODULES:
            raise ModelFileError(f"{where} is a {_quote(cls)} from the module {_quote(module)}, not "
                                 f"a Keras Sequential or functional model", ACCEPT_LAYERS)
        config = obj.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ModelFileError(f"{where} has no list of layers", ACCEPT_FILE)
        self.name(config.get("name"), "model")
        if not config["layers"]:
            raise ModelFileError(f"{where} has no layers", ACCEPT_SHAPE)
        for key, value in config.items():
            if key != "layers":
                self.value(value, key, where, depth + 1)
        for key, value in obj.items():
            if key not in ("module", "class_name", "registered_name", "config", "compile_config"):
                if key == "name":
                    self.name(value, "model")
                self.value(value, key, where, depth + 1)
        for i, layer in enumerate(config["layers"]):
            self._count(depth + 1)
            if not isinstance(layer, dict) or not isinstance(layer.get("class_name"), str):
                raise ModelFileError(f"layer {i + 1} of {where} is not a Keras layer description",
                                     ACCEPT_FILE)
            if layer["class_name"] in MODEL_CLASSES:
                inner = layer.get("config") if isinstance(layer.get("config"), dict) else {}
                self.model(layer, f"the model {_quote(inner.get('name', i + 1))} inside it", depth + 2)
            else:
                self.layer(layer, depth + 2)
        if len(self.layers) > MAX_LAYERS:
            raise ModelFileError(f"the model has more than {MAX_LAYERS} layers", ACCEPT_SHAPE)

    def name(self, value: Any, what: str) -> str:
        if value is None and what == "model":
            return ""
        if not isinstance(value, str) or not SAFE_NAME.match(value):
            raise ModelFileError(f"the {what} name {_quote(value)} uses characters other than letters, "
                                 f"digits, _ . - (or is longer than 64)",
                                 "Accepted: names such as 'conv1' or 'dense_2', as Keras gives them.")
        return value

    def layer(self, obj: dict, depth: int) -> None:
        cls, module = obj["class_name"], obj.get("module")
        config = obj.get("config")
        raw_name = config.get("name") if isinstance(config, dict) else obj.get("name")
        label = f"layer {_quote(raw_name if raw_name is not None else cls)}"
        reg = self._registered_custom(obj)
        if reg is not None:
            raise ModelFileError(f"{label} is a custom object ({_quote(reg)}) that needs its own "
                                 f"Python code to run", ACCEPT_LAYERS)
        if cls in REFUSED_LAYERS:
            raise ModelFileError(f"{label} is {REFUSED_LAYERS[cls]}", ACCEPT_LAYERS)
        if not keras_internals.is_layers_module(module):
            raise ModelFileError(f"{label} ({_quote(cls)}) comes from the Python module "
                                 f"{_quote(module)}, not from keras.layers", ACCEPT_LAYERS)
        if cls not in ALLOWED_LAYERS:
            raise ModelFileError(f"{label} is a {_quote(cls)} layer, which is not among the plain "
                                 f"layers the explorer accepts", ACCEPT_LAYERS)
        if not isinstance(config, dict):
            raise ModelFileError(f"{label} has no settings", ACCEPT_FILE)
        name = self.name(raw_name, "layer")
        if "name" in obj and obj["name"] != name:
            self.name(obj["name"], "layer")
        self.layers.append((name, cls))
        for key, value in obj.items():
            if key not in ("module", "class_name", "registered_name", "name"):
                self.value(value, key, label, depth + 1)
        self.params += _layer_params(cls, config, obj.get("build_config"), label)

    # -- every other value
    def value(self, value: Any, key: str, where: str, depth: int) -> None:
        self._count(depth)
        if isinstance(value, str):
            if ">" in value:
                raise ModelFileError(f"{where} refers to the custom object {_quote(value)}, which "
                                     f"needs its own Python code", ACCEPT_LAYERS)
            if key == "activation" and value not in ACTIVATIONS:
                raise ModelFileError(f"{where} uses the activation {_quote(value)}, which is not "
                                     f"one of Keras's built-in activations", ACCEPT_LAYERS)
        elif isinstance(value, list):
            for item in value:
                self.value(item, key, where, depth + 1)
        elif isinstance(value, dict):
            if key == "activation":
                is_fn = value.get("class_name") == "function"
                what = value.get("config") if is_fn else value.get("class_name")
                raise ModelFileError(f"{where} has its activation given as a Python function or "
                                     f"object ({_quote(what)}), which would run code from the file",
                                     ACCEPT_LAYERS)
            if "class_name" in value:
                self.object(value, where)
            for k, v in value.items():
                if k == "compile_config":      # training settings: never read (see _clean)
                    continue
                self.value(v, k if isinstance(k, str) else "", where, depth + 1)
        elif not (value is None or isinstance(value, (bool, int, float))):
            raise ModelFileError(f"{where} holds a value JSON does not have", ACCEPT_FILE)

    def object(self, obj: dict, where: str) -> None:
        cls, module = obj.get("class_name"), obj.get("module")
        if cls == "__keras_tensor__" and module is None:
            return
        if cls in ("__lambda__", "function"):
            raise ModelFileError(f"{where} contains a Python function ({_quote(obj.get('config'))}), "
                                 f"which would run code from the file", ACCEPT_LAYERS)
        if isinstance(cls, str) and cls.startswith("__"):
            raise ModelFileError(f"{where} contains a special Keras value ({_quote(cls)}) that plain "
                                 f"layers never need", ACCEPT_LAYERS)
        reg = self._registered_custom(obj)
        if reg is not None:
            raise ModelFileError(f"{where} contains the custom object {_quote(reg)}, which needs its "
                                 f"own Python code", ACCEPT_LAYERS)
        for family, classes in ALLOWED_OBJECTS.items():
            if keras_internals.is_family_module(module, family) and cls in classes:
                return
        if cls in ALLOWED_LAYERS or cls in REFUSED_LAYERS or cls in MODEL_CLASSES:
            raise ModelFileError(f"{where} has a layer ({_quote(cls)}) inside its settings; "
                                 f"layers may only appear in a model's list of layers", ACCEPT_LAYERS)
        raise ModelFileError(f"{where} contains {_quote(cls)} from the module {_quote(module)}, "
                             f"which is not an initializer, regularizer, constraint or dtype "
                             f"policy that Keras itself provides", ACCEPT_LAYERS)


# Layers that hold weights: Keras creates them (allocates memory) while it rebuilds the model,
# before any weight is read, so their size is worked out from the settings first.
_WEIGHTED = frozenset("""
    Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose Conv3DTranspose DepthwiseConv1D
    DepthwiseConv2D SeparableConv1D SeparableConv2D Dense BatchNormalization LayerNormalization
    GroupNormalization PReLU Normalization
""".split())


def _layer_params(cls: str, config: dict, build_config: Any, label: str) -> int:
    """An upper bound on the numbers a layer allocates when Keras builds it from its settings."""
    if cls not in _WEIGHTED:
        return 0
    shape = build_config.get("input_shape") if isinstance(build_config, dict) else None
    if not (isinstance(shape, list) and len(shape) >= 2
            and all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
                    for d in shape) and all(d is not None for d in shape[1:])):
        raise ModelFileError(f"{label} has no recorded input shape, so its size cannot be checked "
                             f"before loading (save the model after building or training it)",
                             ACCEPT_FILE)

    def number(key: str, default: int = 1) -> int:
        v = config.get(key, default)
        if v is None:
            v = default
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ModelFileError(f"{label} has the setting {key} = {_quote(v)}, not a whole number",
                                 ACCEPT_FILE)
        return v

    def product(key: str) -> int:
        v = config.get(key, 1)
        v = v if isinstance(v, list) else [v]
        out = 1
        for d in v:
            if isinstance(d, bool) or not isinstance(d, int) or d < 0:
                raise ModelFileError(f"{label} has the setting {key} = {_quote(v)}, not whole numbers",
                                     ACCEPT_FILE)
            out *= d
        return out

    dims = shape[1:]
    channel = dims[0] if config.get("data_format") == "channels_first" else dims[-1]
    everything = 1
    for d in dims:
        everything *= d
    if cls.startswith(("Conv", "DepthwiseConv", "SeparableConv")):
        k = product("kernel_size")
        filters = number("filters", 0)
        dm = number("depth_multiplier")
        if cls.startswith("DepthwiseConv"):
            return k * channel * dm + channel * dm
        if cls.startswith("SeparableConv"):
            return k * channel * dm + channel * dm * filters + filters
        return k * channel * filters + filters          # groups only make it smaller
    if cls == "Dense":
        units = number("units", 0)
        return dims[-1] * units + units
    if cls in ("BatchNormalization", "GroupNormalization", "LayerNormalization"):
        axis = config.get("axis", -1)
        axes = axis if isinstance(axis, list) else [axis]
        size = 1
        for a in axes:
            if isinstance(a, bool) or not isinstance(a, int) or not -len(shape) <= a < len(shape) or a == 0:
                raise ModelFileError(f"{label} normalises over the axis {_quote(axis)}, which its "
                                     f"input does not have", ACCEPT_FILE)
            size *= shape[a]
        return 4 * size
    return 3 * everything                             # PReLU, Normalization: at most per value


def _clean(config: Any) -> Any:
    """The config with every model's training settings (compile_config) left out."""
    if isinstance(config, dict):
        return {k: (None if k == "compile_config" else _clean(v)) for k, v in config.items()}
    if isinstance(config, list):
        return [_clean(v) for v in config]
    return config


def check_config(config: dict) -> list[tuple[str, str]]:
    """Check a parsed config.json against the allow-lists; the (name, class) of every layer."""
    allowed_top = {"module", "class_name", "config", "registered_name", "build_config",
                   "compile_config"}
    extra = sorted(set(config) - allowed_top)
    if extra:
        raise ModelFileError(f"config.json has the unexpected entry {_quote(extra[0])}", ACCEPT_FILE)
    walk = _Walk()
    walk.model(config, "the model", 0)
    if walk.params > MAX_PARAMS:
        raise ModelFileError(f"the model's settings ask for about {walk.params:,} parameters, more "
                             f"than the {MAX_PARAMS:,} the explorer handles quickly", ACCEPT_SHAPE)
    return walk.layers


# ----------------------------------------------------------------------------- 3. the weights

def _check_weights(raw: bytes) -> int:
    """Open model.weights.h5 with h5py (as data) and check it; the number of stored values."""
    if not raw.startswith(HDF5_MAGIC):
        raise ModelFileError("model.weights.h5 is not an HDF5 weights file")
    import h5py

    state = {"objects": 0, "bytes": 0, "values": 0}
    allowed_filters = {h5py.h5z.FILTER_DEFLATE, h5py.h5z.FILTER_SHUFFLE, h5py.h5z.FILTER_FLETCHER32}

    def walk(group, depth: int) -> None:
        if depth > 16:
            raise ModelFileError("model.weights.h5 is nested too deeply")
        for key in group.keys():
            state["objects"] += 1
            if state["objects"] > MAX_H5_OBJECTS:
                raise ModelFileError("model.weights.h5 holds far more entries than a model for the "
                                     "explorer needs", ACCEPT_SHAPE)
            link = group.get(key, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise ModelFileError(f"model.weights.h5 has a link ({_quote(key)}) to data stored "
                                     f"elsewhere, which Keras never writes")
            obj = group[key]
            if isinstance(obj, h5py.Group):
                walk(obj, depth + 1)
            elif isinstance(obj, h5py.Dataset):
                if obj.is_virtual or obj.external:
                    raise ModelFileError(f"model.weights.h5 has an array ({_quote(key)}) that reads "
                                         f"other files, which Keras never writes")
                if obj.dtype.kind not in "fiub" or obj.dtype.fields is not None:
                    raise ModelFileError(f"model.weights.h5 holds an array ({_quote(key)}) that is "
                                         f"not plain numbers")
                plist = obj.id.get_create_plist()
                for i in range(plist.get_nfilters()):
                    if plist.get_filter(i)[0] not in allowed_filters:
                        raise ModelFileError("model.weights.h5 uses an unusual compression filter, "
                                             "which Keras never writes")
                size = int(obj.size or 0)
                state["values"] += size
                state["bytes"] += size * obj.dtype.itemsize
                if state["bytes"] > MAX_MEMBER_BYTES["model.weights.h5"]:
                    raise ModelFileError("the weights would unpack to more than "
                                         f"{_size(MAX_MEMBER_BYTES['model.weights.h5'])}", ACCEPT_SHAPE)
            else:
                raise ModelFileError(f"model.weights.h5 holds {_quote(key)}, which is neither a "
                                     f"group nor an array")

    try:
        with h5py.File(io.BytesIO(raw), "r") as f:
            walk(f, 0)
    except ModelFileError:
        raise
    except Exception as e:  # h5py raises many kinds of errors on a damaged file
        raise ModelFileError(f"model.weights.h5 cannot be read as HDF5 weights ({_plain(e, 80)})") from None
    return state["values"]


# ----------------------------------------------------------------------------- the whole file

@dataclass(frozen=True)
class CheckedFile:
    """A .keras file that passed the checks as data (nothing in it was run)."""
    config: dict                      # config.json, training settings left out
    metadata: dict
    weights: bytes                    # model.weights.h5, as it was in the file
    layers: tuple[tuple[str, str], ...]  # (name, class name) of every layer, nested ones included
    weight_values: int                # numbers stored in the weights file

    def to_keras_bytes(self) -> bytes:
        """A fresh .keras archive made only of the checked parts."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("metadata.json", json.dumps(self.metadata))
            zf.writestr("config.json", json.dumps(self.config))
            zf.writestr("model.weights.h5", self.weights)
        return buf.getvalue()


def check_keras_file(data: bytes) -> CheckedFile:
    """Read a .keras file as data and check it (see the module's docstring). No TensorFlow.

    Raises ModelFileError (one line: why, and what is accepted) for anything not accepted.
    """
    parts = _read_archive(data)
    config = _parse_json(parts["config.json"], "config.json")
    metadata = _parse_json(parts["metadata.json"], "metadata.json") if "metadata.json" in parts else {}
    version = metadata.get("keras_version", "3")
    major = re.match(r"(\d{1,4})(\.|$)", version) if isinstance(version, str) else None
    if major is None or int(major[1]) < 3:
        raise ModelFileError(f"the file was saved by Keras {_quote(version)}; only Keras 3 files "
                             f"are read", ACCEPT_FILE)
    layers = check_config(config)
    values = _check_weights(parts["model.weights.h5"])
    return CheckedFile(_clean(config), metadata, parts["model.weights.h5"], tuple(layers), values)


def safe_name(filename: str) -> str:
    """A name for the model taken from an uploaded file's name, safe to show and to use in keys."""
    stem = os.path.basename(str(filename)).rsplit(".", 1)[0]
    stem = re.sub(r"[^A-Za-z0-9_.\-]+", "_", stem).strip("._-")[:40]
    return stem or "my_model"


# ----------------------------------------------------------------------------- loading (TensorFlow)

def load_keras_file(data: bytes, filename: str = "model.keras"):
    """Check a .keras file as data, then load it with Keras and make it ready for the explorer.

    Only in local mode: in public mode this refuses before reading a single byte.
    Returns a functional keras.Model whose first layer is its input and whose output is
    probabilities (a Softmax layer is added when the model ends with plain scores).
    """
    if settings.is_public():
        raise ModelFileError(PUBLIC_REASON, ACCEPT_PUBLIC)
    checked = check_keras_file(data)

    import keras  # only now: the file passed every check above

    tmpdir = tempfile.mkdtemp(prefix="cnnviz-model-")   # mode 0700: only this user can read it
    path = os.path.join(tmpdir, "model.keras")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(checked.to_keras_bytes())
        try:
            model = keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as e:
            raise ModelFileError(f"Keras could not rebuild the model from the file ({_plain(e)})",
                                 ACCEPT_FILE) from None
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return for_explorer(model)


def _activation_values(model) -> int:
    """How many numbers all the layers produce for one picture (nested models included)."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += _activation_values(layer)
        try:
            out = layer.output
            dims = [tuple(t.shape[1:]) for t in (out if isinstance(out, (list, tuple)) else [out])]
        except Exception:
            dims = None
        if dims is None or any(d is None for shape in dims for d in shape):
            raise ModelFileError(f"the size of the output of layer {_quote(layer.name)} cannot be "
                                 f"worked out", ACCEPT_SHAPE)
        for shape in dims:
            size = 1
            for d in shape:
                size *= int(d)
            total += size
    return total


def for_explorer(model):
    """Check a loaded model suits the explorer; return it as a functional model with its Input first.

    A Sequential model is rebuilt as a functional one (fresh copies of its layers with the same
    weights); a Softmax layer named "probabilities" is added when the output is plain scores.
    """
    import keras

    from cnnviz import class_score, model_graph

    if len(model.inputs) != 1:
        raise ModelFileError(f"the model has {len(model.inputs)} inputs; the explorer gives it one "
                             f"picture", ACCEPT_SHAPE)
    if len(model.outputs) != 1:
        raise ModelFileError(f"the model has {len(model.outputs)} outputs; the explorer needs one "
                             f"list of class scores", ACCEPT_SHAPE)
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or any(d is None for d in shape) or shape[2] not in (1, 3) \
            or not all(MIN_SIDE <= d <= MAX_SIDE for d in shape[:2]):
        raise ModelFileError(f"the model's input has the shape {shape}, not a picture of "
                             f"height × width × 1 or 3", ACCEPT_SHAPE)
    out = tuple(model.outputs[0].shape[1:])
    if len(out) != 1 or out[0] is None or not 2 <= out[0] <= MAX_CLASSES:
        raise ModelFileError(f"the model's output has the shape {out}, not one list of 2 to "
                             f"{MAX_CLASSES} class scores", ACCEPT_SHAPE)
    params = int(model.count_params())
    if params > MAX_PARAMS:
        raise ModelFileError(f"the model has {params:,} parameters, more than the {MAX_PARAMS:,} "
                             f"the explorer handles quickly", ACCEPT_SHAPE)
    values = _activation_values(model)
    if values > MAX_ACTIVATION_VALUES:
        raise ModelFileError(f"the model's layers would produce {values:,} numbers for one picture, "
                             f"more than the {MAX_ACTIVATION_VALUES:,} the explorer can show",
                             ACCEPT_SHAPE)

    if not isinstance(model, keras.Sequential) and not isinstance(model.layers[0], keras.layers.InputLayer):
        raise ModelFileError("the model's first layer is not its input", ACCEPT_SHAPE)
    model = model_graph.as_functional(model)
    last = model.layers[-1]
    if not class_score.ends_in_softmax(last):
        names = {layer.name for layer in model.layers}
        soft = next(n for n in ("probabilities", "softmax", "cnnviz_softmax") if n not in names)
        model = keras.Model(model.input, keras.layers.Softmax(name=soft)(model.output),
                            name=model.name)
    return model
