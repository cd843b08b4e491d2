"""cnnviz.settings and cnnviz.model_files: a user's own .keras file is read as data before Keras
loads it, and anything that is not a plain Keras model is refused with one clear line.

The files are real: small models saved by Keras here, then edited where a case needs a
config.json that Keras would not write itself (a TFSMLayer, a module from outside Keras).
"""
from __future__ import annotations

import io
import json
import os
import pathlib
import struct
import subprocess
import sys
import time
import tracemalloc
import warnings
import zipfile
import zlib

import numpy as np
import pytest

from cnnviz import model_files, resources, settings
from cnnviz.model_files import ModelFileError

ROOT = pathlib.Path(__file__).resolve().parent.parent
keras = pytest.importorskip("keras")
layers = keras.layers


# ----------------------------------------------------------------------------- helpers

def saved(model, tmp_path, name: str) -> bytes:
    path = tmp_path / f"{name}.keras"
    model.save(path)
    return path.read_bytes()


def reference(data: bytes, tmp_path):
    """The file loaded by Keras directly (trusted here: made by the test), to compare with."""
    path = tmp_path / "reference.keras"
    path.write_bytes(data)
    return keras.saving.load_model(path, compile=False)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def rezip(parts: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, raw in parts.items():
            zf.writestr(name, raw)
    return buf.getvalue()


def with_config(data: bytes, edit) -> bytes:
    """The same .keras file with its config.json changed by edit(config) (in place)."""
    parts = members(data)
    config = json.loads(parts["config.json"])
    edit(config)
    parts["config.json"] = json.dumps(config).encode()
    return rezip(parts)


def raw_zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip written by hand: (name, stored bytes, method, declared size, crc) per entry.

    zipfile cannot write a member whose declared size or checksum lies; a zip bomb does.
    """
    out, central = bytearray(), bytearray()
    for name, payload, method, size, crc in entries:
        offset = len(out)
        fname = name.encode()
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc,
                           len(payload), size, len(fname), 0) + fname + payload
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21,
                               crc, len(payload), size, len(fname), 0, 0, 0, 0, 0, offset) + fname
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central),
                      len(out), 0)
    return bytes(out + central + end)


def deflated_zeros(n_mb: int) -> tuple[bytes, int]:
    """A raw deflate stream of n_mb MB of zeros (about 1 KB per MB) and its CRC-32, made fast:
    one fully flushed block repeated (each starts afresh, so repeating it is a valid stream)."""
    mb = b"\0" * (1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(mb) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(mb) + c.flush(zlib.Z_FULL_FLUSH) == block
    crc = 0
    for _ in range(n_mb):
        crc = zlib.crc32(mb, crc)
    return block * n_mb + c.flush(zlib.Z_FINISH), crc


def refused(data: bytes) -> str:
    """check_keras_file's one-line refusal for these bytes."""
    with pytest.raises(ModelFileError) as e:
        model_files.check_keras_file(data)
    message = str(e.value)
    assert "\n" not in message and len(message) < 600, message
    assert "Accepted:" in message, message
    return message


def tiny_cnn(name="tiny_cnn", softmax=True):
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(4, 3, activation="relu", name="conv1"),
        layers.BatchNormalization(name="bn1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Flatten(name="flatten"),
        layers.Dropout(0.2, name="dropout"),
        layers.Dense(10, activation="softmax" if softmax else None, name="logits"),
    ], name=name)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, bytes]:
    """Real .keras files saved by Keras."""
    tmp = tmp_path_factory.mktemp("keras_files")
    out = {}
    keras.utils.set_random_seed(0)
    cnn = tiny_cnn()
    cnn.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    out["cnn"] = saved(cnn, tmp, "cnn")

    # Functional, with a nested Sequential model, a residual Add and plain scores at the end.
    inner = keras.Sequential([layers.Conv2D(4, 3, padding="same"), layers.ReLU()], name="block")
    i = keras.Input((32, 32, 3), name="image")
    x = layers.Rescaling(1.0, name="rescale")(i)
    x = inner(x)
    x = layers.Add(name="add")([x, layers.Conv2D(4, 1, name="shortcut")(x)])
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    out["functional"] = saved(keras.Model(i, layers.Dense(5, name="scores")(x), name="res"), tmp,
                              "functional")

    out["lambda"] = saved(keras.Sequential([
        keras.Input((8, 8, 1)), layers.Lambda(lambda t: t * 2, name="lambda"), layers.Flatten(),
        layers.Dense(3, activation="softmax")]), tmp, "lambda")

    @keras.saving.register_keras_serializable(package="cnnviz_tests")
    class Doubler(layers.Layer):
        def call(self, x):
            return 2 * x

    out["custom"] = saved(keras.Sequential([
        keras.Input((8, 8, 1)), Doubler(name="doubler"), layers.Flatten(),
        layers.Dense(3, activation="softmax")]), tmp, "custom")

    def my_activation(x):
        return x

    out["activation_fn"] = saved(keras.Sequential([
        keras.Input((8, 8, 1)), layers.Flatten(), layers.Dense(3, activation=my_activation, name="dense")]),
        tmp, "activation_fn")

    two_in = [keras.Input((8, 8, 1)), keras.Input((8, 8, 1))]
    out["two_inputs"] = saved(keras.Model(two_in, layers.Dense(3)(layers.Flatten()(layers.Add()(two_in)))),
                              tmp, "two_inputs")
    out["not_a_picture"] = saved(keras.Sequential([keras.Input((20,)), layers.Dense(3)]), tmp, "vector")
    out["huge_maps"] = saved(keras.Sequential([
        keras.Input((28, 28, 1)), layers.UpSampling2D(64), layers.Conv2D(16, 1),
        layers.GlobalMaxPooling2D(), layers.Dense(2, activation="softmax")]), tmp, "huge_maps")
    out["four_channels"] = saved(keras.Sequential([keras.Input((16, 16, 4)), layers.Flatten(),
                                                   layers.Dense(3)]), tmp, "four")
    legacy = tmp / "legacy.h5"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cnn.save(legacy)
    out["legacy_h5"] = legacy.read_bytes()
    return out


@pytest.fixture
def local(monkeypatch):
    monkeypatch.setenv(settings.ENV, "local")


# ----------------------------------------------------------------------------- settings

def test_mode_is_public_unless_local_is_asked_for(monkeypatch):
    monkeypatch.delenv(settings.ENV, raising=False)
    assert settings.mode() == "public" and settings.is_public()
    monkeypatch.setenv(settings.ENV, "")
    assert settings.is_public()
    monkeypatch.setenv(settings.ENV, " Local ")
    assert settings.mode() == "local" and not settings.is_public()
    monkeypatch.setenv(settings.ENV, "public")
    assert settings.is_public()


@pytest.mark.parametrize("value", ["cloud", "true", "1", "x" * 500])
def test_an_unknown_mode_is_an_error_that_says_what_to_use(monkeypatch, value):
    monkeypatch.setenv(settings.ENV, value)
    with pytest.raises(settings.SettingsError) as e:
        settings.mode()
    message = str(e.value)
    assert "CNNVIZ_MODE=public" in message and "CNNVIZ_MODE=local" in message
    assert "\n" not in message and len(message) < 300


# ----------------------------------------------------------------------------- accepted files

def test_a_small_conv_net_passes_the_checks_without_tensorflow(files, tmp_path):
    checked = model_files.check_keras_file(files["cnn"])
    assert [c for _, c in checked.layers] == ["InputLayer", "Conv2D", "BatchNormalization",
                                              "MaxPooling2D", "Flatten", "Dropout", "Dense"]
    assert checked.config["compile_config"] is None          # training settings are never read
    assert members(checked.to_keras_bytes()).keys() == {"metadata.json", "config.json",
                                                        "model.weights.h5"}
    # The data check itself never imports TensorFlow or Keras (so it is quick and safe).
    path = tmp_path / "cnn.keras"
    path.write_bytes(files["cnn"])
    code = ("import sys; from cnnviz import model_files as m; "
            f"m.check_keras_file(open({str(path)!r}, 'rb').read()); "
            "bad = [n for n in ('tensorflow', 'keras') if n in sys.modules]; "
            "assert not bad, bad")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, timeout=120)


def test_the_shipped_models_pass_the_checks():
    shipped = sorted(resources.pretrained_dir().glob("*.keras"))
    assert len(shipped) == 3
    for path in shipped:
        checked = model_files.check_keras_file(path.read_bytes())
        assert checked.layers[0][1] == "InputLayer", path


def test_an_accepted_sequential_model_loads_as_a_functional_model_with_the_same_numbers(files, local,
                                                                                       tmp_path):
    model = model_files.load_keras_file(files["cnn"], "cnn.keras")
    assert isinstance(model, keras.Model) and not isinstance(model, keras.Sequential)
    assert isinstance(model.layers[0], layers.InputLayer)
    assert [layer.name for layer in model.layers][1:] == ["conv1", "bn1", "pool1", "flatten",
                                                         "dropout", "logits"]
    original = reference(files["cnn"], tmp_path)
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(model(x, training=False), original(x, training=False), atol=1e-6)


def test_a_functional_model_with_plain_scores_gets_a_softmax_and_probes(files, local, tmp_path):
    from cnnviz import probe

    model = model_files.load_keras_file(files["functional"], "functional.keras")
    assert [layer.name for layer in model.layers][-2:] == ["scores", "probabilities"]
    original = reference(files["functional"], tmp_path)
    x = np.random.default_rng(1).random((1, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(model(x), keras.ops.softmax(original(x)), atol=1e-6)
    p = probe.get_probe(model)
    acts = p.run(x[0])
    assert acts[-1].kind == "softmax" and abs(float(acts[-1].output.sum()) - 1) < 1e-5


# ----------------------------------------------------------------------------- refused: code

def test_a_lambda_layer_is_refused(files):
    message = refused(files["lambda"])
    assert message.startswith("layer 'lambda' is a Lambda layer, which runs arbitrary Python code"), message


def test_a_custom_registered_layer_is_refused(files):
    message = refused(files["custom"])
    assert "layer 'doubler' is a custom object ('cnnviz_tests>Doubler')" in message, message


def test_a_python_function_as_activation_is_refused(files):
    message = refused(files["activation_fn"])
    assert "layer 'dense' has its activation given as a Python function" in message, message
    assert "'my_activation'" in message


def test_a_tfsm_layer_is_refused(files):
    def add_tfsm(config):
        config["config"]["layers"].insert(2, {
            "module": "keras.layers", "class_name": "TFSMLayer", "registered_name": None,
            "config": {"name": "saved", "filepath": "/tmp/somewhere", "call_endpoint": "serve",
                       "trainable": False}})
    message = refused(with_config(files["cnn"], add_tfsm))
    assert message.startswith("layer 'saved' is a TFSMLayer, which loads a TensorFlow SavedModel"), message


@pytest.mark.parametrize("layer, expected", [
    # CVE-2025-1550 style: any importable function named as a layer.
    ({"module": "os", "class_name": "system", "config": {"name": "x"}},
     "layer 'x' ('system') comes from the Python module 'os', not from keras.layers"),
    ({"module": "keras.utils", "class_name": "get_file", "config": {"name": "fetch"}},
     "comes from the Python module 'keras.utils'"),
    ({"module": "keras.layers", "class_name": "LSTM", "config": {"name": "lstm"}},
     "layer 'lstm' is a 'LSTM' layer, which is not among the plain layers"),
    ({"module": "keras.layers", "class_name": "Dense", "registered_name": "evil>Dense",
      "config": {"name": "d"}}, "custom object ('evil>Dense')"),
    ({"module": "keras.layers", "class_name": "Dense",
      "config": {"name": "d", "units": 3, "activation": "my_pkg>act"}},
     "layer 'd' refers to the custom object 'my_pkg>act'"),
    ({"module": "keras.layers", "class_name": "Dense",
      "config": {"name": "d", "units": 3, "activation": "evil"}}, "activation 'evil', which is not one"),
    ({"module": "keras.layers", "class_name": "Dense", "config": {"name": "<b>x</b>", "units": 3}},
     "the layer name '?b>x?/b>' uses characters"),
    ({"module": "keras.layers", "class_name": "Dense", "config": {
        "name": "d", "units": 3, "kernel_initializer": {
            "module": "keras.config", "class_name": "enable_unsafe_deserialization", "config": {}}}},
     "contains 'enable_unsafe_deserialization' from the module 'keras.config'"),
    ({"module": "keras.layers", "class_name": "Dense", "config": {
        "name": "d", "units": 3, "bias_initializer": {"class_name": "__lambda__", "config": {"code": ""}}}},
     "contains a Python function"),
    ({"module": "keras.layers", "class_name": "Dense", "config": {
        "name": "d", "units": 3, "dtype": {"class_name": "__numpy__", "config": {"value": [1]}}}},
     "special Keras value ('__numpy__')"),
])
def test_anything_but_plain_keras_layers_is_refused(files, layer, expected):
    def add(config):
        config["config"]["layers"].insert(3, layer)
    message = refused(with_config(files["cnn"], add))
    assert expected in message, message


def test_a_layer_hidden_in_a_nested_model_is_refused(files):
    def hide(config):
        nested = next(l for l in config["config"]["layers"] if l["class_name"] == "Sequential")
        nested["config"]["layers"].append({"module": "keras.layers", "class_name": "Lambda",
                                           "config": {"name": "sneaky"}})
    message = refused(with_config(files["functional"], hide))
    assert "layer 'sneaky' is a Lambda layer" in message


def test_a_subclassed_model_is_refused(files):
    def subclass(config):
        config.update(module=None, class_name="MyModel", registered_name="my_pkg>MyModel")
    message = refused(with_config(files["cnn"], subclass))
    assert message.startswith("the model is a custom model class ('my_pkg>MyModel')"), message


# ----------------------------------------------------------------------------- refused: not a model file

def test_a_truncated_or_corrupted_zip_is_refused(files):
    data = files["cnn"]
    for cut in (len(data) // 2, len(data) - 10, 30):
        assert "damaged or not a complete zip archive" in refused(data[:cut])
    corrupt = bytearray(data)
    start = data.index(b"model.weights.h5") + 40  # inside the weights
    corrupt[start:start + 200] = bytes(200)
    message = refused(bytes(corrupt))
    assert "model.weights.h5 in the archive is damaged" in message, message


def test_files_that_are_not_keras_models_are_refused(files):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG")
    assert "not a .keras model file: it looks like a PNG picture" in refused(buf.getvalue())
    assert "looks like a text file" in refused(b"print('hello')\n" * 10)
    assert "the file is empty" in refused(b"")
    assert "an HDF5 (.h5) file, the old Keras format" in refused(files["legacy_h5"])
    parts = members(files["cnn"])
    assert "the archive has no config.json" in refused(rezip({"model.weights.h5": parts["model.weights.h5"]}))
    assert "holds 'assets/x.py'" in refused(rezip({**parts, "assets/x.py": b"import os"}))
    assert "is not valid JSON text" in refused(rezip({**parts, "config.json": b"{not json"}))
    assert "is nested too deeply" in refused(rezip({**parts, "config.json": b"[" * 100_000 + b"]" * 100_000}))
    assert "not an HDF5 weights file" in refused(rezip({**parts, "model.weights.h5": b"weights"}))
    old = rezip({**parts, "metadata.json": b'{"keras_version": "2.15.0"}'})
    assert "the file was saved by Keras '2.15.0'; only Keras 3 files are read" in refused(old)


def test_a_weights_file_that_points_at_other_files_is_refused(files, tmp_path):
    import h5py

    parts = members(files["cnn"])
    h5 = tmp_path / "w.h5"
    h5.write_bytes(parts["model.weights.h5"])
    with h5py.File(h5, "a") as f:
        f["layers/conv1/vars/extra"] = h5py.ExternalLink("/etc/secrets.h5", "/data")
    message = refused(rezip({**parts, "model.weights.h5": h5.read_bytes()}))
    assert "has a link ('extra') to data stored elsewhere" in message, message


def test_a_file_over_the_size_limit_is_refused_before_it_is_opened(files):
    big = files["cnn"] + bytes(model_files.MAX_FILE_BYTES)
    assert refused(big).startswith("the file is 20.")


# ----------------------------------------------------------------------------- refused: zip bombs

def test_a_zip_bomb_declared_huge_is_refused_before_unpacking(files):
    parts = members(files["cnn"])
    stream, crc = deflated_zeros(1024)            # 1 GB of zeros in about 1 MB
    data = raw_zip([("metadata.json", parts["metadata.json"], 0, len(parts["metadata.json"]),
                     zlib.crc32(parts["metadata.json"])),
                    ("config.json", stream, 8, 1 << 30, crc),
                    ("model.weights.h5", parts["model.weights.h5"], 0,
                     len(parts["model.weights.h5"]), zlib.crc32(parts["model.weights.h5"]))])
    assert len(data) < 2 * (1 << 20)
    message = refused(data)
    assert message.startswith("config.json would unpack to 1024.0 MB, more than the 1.0 MB allowed "
                              "for it (a zip bomb"), message


@pytest.mark.slow
def test_a_zip_bomb_declared_small_is_stopped_while_reading(files):
    parts = members(files["cnn"])
    stream, crc = deflated_zeros(1024)
    data = raw_zip([("config.json", stream, 8, 1000, crc),
                    ("model.weights.h5", parts["model.weights.h5"], 0,
                     len(parts["model.weights.h5"]), zlib.crc32(parts["model.weights.h5"]))])
    tracemalloc.start()
    start = time.perf_counter()
    try:
        message = refused(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message.startswith("config.json in the archive is damaged or a zip bomb"), message
    assert peak < 64 * (1 << 20), peak          # it never unpacked the gigabyte
    assert time.perf_counter() - start < 30     # generous: only a sanity bound, not a timing test


def test_a_zip64_archive_is_refused(files):
    data = files["cnn"]
    end = data.rindex(b"PK\x05\x06")
    assert "zip64" in refused(data[:end] + b"PK\x06\x07" + bytes(16) + data[end:])


def test_an_archive_with_many_parts_is_refused_before_its_directory_is_parsed():
    data = rezip({f"f{i}": b"" for i in range(5000)})
    assert "the zip archive lists 5000 parts" in refused(data)


# ----------------------------------------------------------------------------- refused: not for the explorer

@pytest.mark.parametrize("name, expected", [
    ("two_inputs", "the model has 2 inputs"),
    ("not_a_picture", "the model's input has the shape (20,)"),
    ("four_channels", "the model's input has the shape (16, 16, 4)"),
])
def test_models_the_explorer_cannot_show_are_refused_after_loading(files, local, name, expected):
    model_files.check_keras_file(files[name])   # plain Keras: passes the data checks
    with pytest.raises(ModelFileError) as e:
        model_files.load_keras_file(files[name], f"{name}.keras")
    assert str(e.value).startswith(expected), str(e.value)
    assert "Accepted: one picture input" in str(e.value)


def test_a_model_with_huge_feature_maps_is_refused(files, local):
    # 28 x 28 blown up 64 times, then 16 channels: over 50 million numbers for one picture.
    with pytest.raises(ModelFileError, match=r"^the model's layers would produce 54,\d{3},\d{3} numbers"):
        model_files.load_keras_file(files["huge_maps"], "huge_maps.keras")


def test_a_model_over_the_parameter_budget_is_refused_before_keras_builds_it(files, local,
                                                                             monkeypatch):
    def huge(config):    # Keras would allocate 10^12 numbers for this layer while rebuilding it
        dense = config["config"]["layers"][-1]
        dense["config"]["units"] = 10 ** 12
    data = with_config(files["cnn"], huge)
    # 676 inputs x 10^12 units + 10^12 biases, plus the small layers before it.
    assert refused(data).startswith("the model's settings ask for about 677,000,000,000,056 "
                                    "parameters, more than the 5,000,000")

    def must_not_run(*args, **kwargs):
        raise AssertionError("Keras was asked to load it")

    monkeypatch.setattr(keras.saving, "load_model", must_not_run)
    with pytest.raises(ModelFileError, match="ask for about"):
        model_files.load_keras_file(data, "huge.keras")


def test_the_parameter_budget_is_checked_again_on_the_loaded_model(files, local, monkeypatch):
    # The estimate from the settings is only a first bound: the loaded model is counted too.
    monkeypatch.setattr(model_files, "check_config", lambda config: [("x", "Dense")])
    monkeypatch.setattr(model_files, "MAX_PARAMS", 1000)
    with pytest.raises(ModelFileError, match=r"^the model has 6,826 parameters, more than the 1,000"):
        model_files.load_keras_file(files["cnn"], "cnn.keras")


def test_a_weighted_layer_without_a_recorded_input_shape_is_refused(files):
    def unbuilt(config):
        del config["config"]["layers"][-1]["build_config"]
    assert "layer 'logits' has no recorded input shape" in refused(with_config(files["cnn"], unbuilt))


# ----------------------------------------------------------------------------- public mode

def test_public_mode_refuses_before_reading_anything(files, monkeypatch):
    monkeypatch.delenv(settings.ENV, raising=False)

    def must_not_run(*args, **kwargs):
        raise AssertionError("the file was read in public mode")

    monkeypatch.setattr(model_files, "check_keras_file", must_not_run)
    monkeypatch.setattr(model_files, "_read_archive", must_not_run)
    monkeypatch.setattr(keras.saving, "load_model", must_not_run)
    with pytest.raises(ModelFileError) as e:
        model_files.load_keras_file(files["cnn"], "cnn.keras")
    assert str(e.value).startswith("Opening your own model is switched off on this public demo")
    assert "CNNVIZ_MODE=local" in str(e.value)


# ----------------------------------------------------------------------------- the allow-lists

def test_the_allow_lists_name_real_keras_objects_and_nothing_that_runs_code():
    assert all(hasattr(keras.layers, n) for n in model_files.ALLOWED_LAYERS)
    assert all(hasattr(keras.activations, n) for n in model_files.ACTIVATIONS)
    for family, classes in model_files.ALLOWED_OBJECTS.items():
        module = getattr(keras, family)
        assert all(hasattr(module, n) for n in classes), family
    assert not model_files.ALLOWED_LAYERS & {"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer",
                                             "FlaxLayer", "Bidirectional", "TimeDistributed", "Wrapper"}


def test_names_for_uploaded_files_are_safe():
    assert model_files.safe_name("../../etc/My Model (2).keras") == "My_Model_2"
    assert model_files.safe_name("<script>.keras") == "script"
    assert model_files.safe_name(".keras") == "my_model"
