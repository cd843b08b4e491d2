import numpy as np
import pytest

from cnnviz import cli, data


def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


def _good(n=20, shape=(28, 28)):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    y = rng.integers(0, 10, n).astype(np.uint8)
    return dict(x_train=x, y_train=y, x_test=x[:5], y_test=y[:5])


def test_loads_npz_file_and_directory(tmp_path):
    _write(tmp_path / "mnist.npz", **_good())
    for path in (tmp_path, tmp_path / "mnist.npz"):
        (xtr, ytr), (xte, yte), names = data.load_dataset("mnist", path)
        assert xtr.shape == (20, 28, 28) and xtr.dtype == np.uint8
        assert yte.shape == (5,) and names == [str(i) for i in range(10)]


def test_environment_variable(tmp_path, monkeypatch):
    _write(tmp_path / "fashion_mnist.npz", **_good())
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    *_, names = data.load_dataset("fashion_mnist")
    assert names[0] == "T-shirt/top"


@pytest.mark.slow
def test_real_datasets(data_dir):
    for name, shape in data.IMAGE_SHAPES.items():
        (xtr, ytr), (xte, yte), names = data.load_dataset(name, data_dir)
        assert xtr.shape[1:] == shape and len(xte) == 10000 and len(names) == 10
        assert set(np.unique(yte)) == set(range(10))


@pytest.mark.parametrize("arrays, message", [
    (dict(x_train=np.zeros((2, 28, 28), np.uint8)), "lacks the keys"),
    ({**_good(), "x_train": np.zeros((20, 28, 28), np.float32)}, "uint8"),
    ({**_good(), "x_test": np.zeros((5, 32, 32), np.uint8)}, "shape"),
    ({**_good(), "y_train": np.arange(20)}, "labels must lie in 0..9"),
    ({**_good(), "y_test": np.zeros(4, np.uint8)}, "4 labels for 5 images"),
    ({**_good(), "y_test": np.zeros(5, np.float32)}, "integer labels"),
])
def test_bad_contents(tmp_path, arrays, message):
    _write(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(data.DataError, match=message):
        data.load_dataset("mnist", tmp_path)


def test_corrupt_file(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(data.DataError, match="not a readable .npz"):
        data.load_dataset("mnist", tmp_path)


def test_missing_file_names_the_ways_to_provide_it(tmp_path):
    with pytest.raises(data.DataError, match="--data PATH.*CNNVIZ_DATA"):
        data.load_dataset("cifar10", tmp_path / "nowhere.npz")


def test_unknown_dataset():
    with pytest.raises(data.DataError, match="choose one of mnist, fashion_mnist, cifar10"):
        data.load_dataset("imagenet")


def test_no_file_and_no_internet(monkeypatch):
    import urllib.error

    import keras

    def offline():
        raise urllib.error.URLError("no internet")

    monkeypatch.delenv("CNNVIZ_DATA", raising=False)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(data.DataError, match="Could not download mnist.*--data PATH"):
        data.load_dataset("mnist")


def test_cli_exits_non_zero_with_one_clear_line(tmp_path, capsys):
    code = cli.main(["train", "--dataset", "mnist", "--epochs", "1", "--out", str(tmp_path / "m.keras"),
                     "--data", str(tmp_path / "missing.npz")])
    err = capsys.readouterr().err
    assert code != 0 and err.startswith("error: No mnist data at") and err.count("\n") == 1
    code = cli.main(["evaluate", str(tmp_path / "missing.keras"), "--dataset", "mnist"])
    assert code != 0 and "no model file" in capsys.readouterr().err


# --- The starter subsets and load_for_training ------------------------------------------------------

STARTER_SIZES = {"mnist": (5000, 1000), "fashion_mnist": (5000, 1000), "cifar10": (2500, 500)}


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No CNNVIZ_DATA, an empty Keras home, no network, no cached results: only the starter is left."""
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("load_for_training must not touch the network")

    monkeypatch.delenv("CNNVIZ_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setattr(socket.socket, "connect", no_network)
    data.load_for_training.cache_clear()
    yield tmp_path
    data.load_for_training.cache_clear()


def _jpeg_bytes(x):
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(x).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _jpeg_layout(n=20):
    """The cifar10_jpeg.npz layout for n random 32x32 photos."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    pieces = [_jpeg_bytes(im) for im in x]
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in pieces])]).astype(np.int64)
    blob = np.frombuffer(b"".join(pieces), np.uint8)
    y = (np.arange(n) % 10).astype(np.uint8)
    return dict(train_jpeg=blob, train_offsets=offsets, test_jpeg=blob, test_offsets=offsets,
                y_train=y, y_test=y)


def test_starter_files_are_small_balanced_subsets():
    files = [data.STARTER_DIR / f"{name}.npz" for name in data.DATASETS]
    assert all(f.is_file() for f in files) and (data.STARTER_DIR / "README.md").is_file()
    assert sum(f.stat().st_size for f in files) <= 6 * 2**20
    for name, (n_train, n_test) in STARTER_SIZES.items():
        with np.load(data.STARTER_DIR / f"{name}.npz", allow_pickle=False) as z:
            layout = data.JPEG_KEYS if name == "cifar10" else data.KEYS
            assert set(layout) | {"train_index", "test_index"} == set(z.files)
            assert all(z[k].dtype == np.uint8 for k in layout if "offsets" not in k)
            for split, n in (("train", n_train), ("test", n_test)):
                assert len(np.unique(z[f"{split}_index"])) == n      # no image twice
                assert not np.all(np.diff(z[f"y_{split}"].astype(int)) >= 0)   # not sorted by class
        (xtr, ytr), (xte, yte), names = data.load_starter(name)
        assert xtr.shape == (n_train, *data.IMAGE_SHAPES[name]) and xtr.dtype == np.uint8
        assert xte.shape == (n_test, *data.IMAGE_SHAPES[name]) and xte.dtype == np.uint8
        assert names == data.CLASS_NAMES[name]
        assert np.bincount(ytr, minlength=10).tolist() == [n_train // 10] * 10
        assert np.bincount(yte, minlength=10).tolist() == [n_test // 10] * 10


@pytest.mark.slow
def test_starter_images_are_the_full_sets_own(data_dir):
    from conftest import SHARED_DATA, _skip_or_fail
    for name in ("mnist", "fashion_mnist"):
        (xtr, ytr), (xte, yte), _ = data.load_dataset(name, data_dir)
        with np.load(data.STARTER_DIR / f"{name}.npz") as z:
            assert np.array_equal(z["x_train"], xtr[z["train_index"]])
            assert np.array_equal(z["y_test"], yte[z["test_index"]])
    full = SHARED_DATA / "cifar10_jpeg.npz"
    if not full.is_file():
        _skip_or_fail(f"{full} is missing")
    (xtr, ytr), (xte, yte), _ = data.load_starter("cifar10")
    with np.load(full) as big, np.load(data.STARTER_DIR / "cifar10.npz") as small:
        for split, x, y in (("train", xtr, ytr), ("test", xte, yte)):
            index, blob, offsets = small[f"{split}_index"], big[f"{split}_jpeg"], big[f"{split}_offsets"]
            for i in (0, 1, 77, len(index) - 1):
                j = index[i]
                one = data._decode_jpegs(blob[offsets[j]:offsets[j + 1]], [0, offsets[j + 1] - offsets[j]], "full")
                assert np.array_equal(x[i], one[0]), (split, i, j)     # the very same JPEG, no second loss
                assert y[i] == big[f"y_{split}"][j]


@pytest.mark.slow
def test_training_uses_the_full_set_in_cnnviz_data(offline, monkeypatch, data_dir):
    from conftest import SHARED_DATA
    monkeypatch.setenv("CNNVIZ_DATA", str(data_dir))
    for name in data.DATASETS:
        got = data.load_for_training(name)
        assert got.full and len(got.x_test) == 10000 and got.class_names == data.CLASS_NAMES[name]
        assert got.description.startswith(f"{data.TABLE[name].title}: all ")
        assert got.description.endswith(f"(from {name}.npz in CNNVIZ_DATA)")    # no server path
        assert str(data_dir) not in got.description
        assert got.y_train.dtype == np.int64 and not got.x_train.flags.writeable
    if SHARED_DATA.is_dir():        # its CIFAR-10 is cifar10_jpeg.npz only: decoded here
        monkeypatch.setenv("CNNVIZ_DATA", str(SHARED_DATA))
        got = data.load_for_training("cifar10")
        assert got.full and got.x_train.shape == (50000, 32, 32, 3)
        assert got.description == ("CIFAR-10: all 50,000 training and 10,000 test images "
                                   "(from cifar10_jpeg.npz in CNNVIZ_DATA)")


@pytest.mark.slow
def test_training_falls_back_to_the_starter_and_says_why(offline, monkeypatch):
    empty = offline / "empty"
    empty.mkdir()
    monkeypatch.setenv("CNNVIZ_DATA", str(empty))
    got = data.load_for_training("mnist")
    assert not got.full and len(got.x_train) == 5000 and "\n" not in got.description
    assert got.description == (
        "MNIST starter subset shipped with cnnviz: 5,000 training and 1,000 test images. "
        "The full set in CNNVIZ_DATA was not used: No mnist data at CNNVIZ_DATA/mnist.npz. "
        "For the full set, set CNNVIZ_DATA to a folder holding mnist.npz.")
    _write(empty / "fashion_mnist.npz", **{**_good(), "y_train": np.arange(20)})   # labels out of range
    got = data.load_for_training("fashion_mnist")
    assert not got.full and "was not used: y_train labels must lie in 0..9" in got.description
    got = data.load_for_training("cifar10", empty / "nowhere.npz")      # an explicit wrong path
    assert not got.full and "The full set at nowhere.npz was not used: No cifar10 data at nowhere.npz." \
        in got.description and str(offline) not in got.description


@pytest.mark.slow
def test_training_without_any_configuration_uses_the_starter(offline):
    got = data.load_for_training("cifar10")
    assert not got.full and got.x_train.shape == (2500, 32, 32, 3) and got.x_test.shape == (500, 32, 32, 3)
    assert got.description == ("CIFAR-10 starter subset shipped with cnnviz: 2,500 training and 500 "
                               "test images. For the full set, set CNNVIZ_DATA to a folder holding cifar10.npz.")


@pytest.mark.parametrize("home", ["missing", "empty", "file", ""])
def test_broken_home_or_keras_home_is_no_crash(offline, monkeypatch, home):
    folder = offline / "home"
    if home == "empty":
        folder.mkdir()
    elif home == "file":
        folder.write_text("not a folder")
    value = "" if home == "" else str(folder)
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", value)
    assert not data.load_for_training("mnist").full
    monkeypatch.setenv("KERAS_HOME", value or str(offline / "nowhere"))
    assert not data.load_for_training("fashion_mnist").full


@pytest.mark.slow
def test_training_reads_keras_cache_without_keras(offline, monkeypatch):
    import gzip
    import pickle
    datasets = offline / "keras-home" / "datasets"
    datasets.mkdir(parents=True)
    good = _good(30)
    _write(datasets / "mnist.npz", **good)
    fashion = datasets / "fashion-mnist"
    fashion.mkdir()
    for prefix, x, y in (("train", good["x_train"], good["y_train"]), ("t10k", good["x_test"], good["y_test"])):
        with gzip.open(fashion / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write((2049).to_bytes(4, "big") + len(y).to_bytes(4, "big") + y.tobytes())
        with gzip.open(fashion / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"".join(n.to_bytes(4, "big") for n in (2051, *x.shape)) + x.tobytes())
    cifar = datasets / "cifar-10-batches-py-target" / "cifar-10-batches-py"      # Keras 3's layout
    cifar.mkdir(parents=True)
    photos = np.random.default_rng(2).integers(0, 256, (12, 3, 32, 32), dtype=np.uint8)
    for i, f in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        batch = {b"batch_label": b"batch", b"labels": [i, (i + 1) % 10],
                 b"data": photos[2 * i:2 * i + 2].reshape(2, -1), b"filenames": [b"a.png", b"b.png"]}
        (cifar / f).write_bytes(pickle.dumps(batch, protocol=4))

    got = data.load_for_training("mnist")
    assert got.full and np.array_equal(got.x_train, good["x_train"])
    assert got.description == "MNIST: all 30 training and 5 test images (from Keras's cache)"
    got = data.load_for_training("fashion_mnist")
    assert got.full and np.array_equal(got.x_test, good["x_test"]) and np.array_equal(got.y_test, good["y_test"])
    got = data.load_for_training("cifar10")
    assert got.full and got.x_train.shape == (10, 32, 32, 3) and got.y_test.tolist() == [5, 6]
    assert np.array_equal(got.x_test[1], photos[11].transpose(1, 2, 0))

    # A cached file that is not what it should be: the starter, and the description says why.
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    (cifar / "test_batch").write_bytes(pickle.dumps({b"data": Evil()}))
    (datasets / "mnist.npz").write_bytes(b"garbage")
    data.load_for_training.cache_clear()
    for name, reason in (("cifar10", "refusing to load builtins.print"), ("mnist", "not a readable .npz")):
        got = data.load_for_training(name)
        assert not got.full and got.description.startswith(f"{data.TABLE[name].title} starter subset")
        assert "Keras's cached copy was not used" in got.description and reason in got.description
        assert str(datasets) not in got.description
        assert "\n" not in got.description


def test_training_results_are_cached_per_configuration(offline, monkeypatch, tmp_path):
    first = data.load_for_training("mnist")
    assert data.load_for_training("mnist") is first
    _write(tmp_path / "mnist.npz", **_good())
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    assert data.load_for_training("mnist").full
    monkeypatch.delenv("CNNVIZ_DATA")
    assert data.load_for_training("mnist") is first
    with pytest.raises(ValueError):
        first.x_train[0, 0, 0] = 1


def test_no_starter_is_one_clear_error(offline, monkeypatch):
    monkeypatch.setattr(data, "STARTER_DIR", offline / "no-starter")
    with pytest.raises(data.DataError) as e:
        data.load_for_training("mnist")
    message = str(e.value)
    assert "\n" not in message and message.startswith("No MNIST data to train on: CNNVIZ_DATA is not set")
    assert "starter subset is missing" in message and "CNNVIZ_DATA to a folder holding mnist.npz" in message
    assert "pretrained/starter/mnist.npz does not exist" in message and str(offline) not in message

    broken = offline / "broken"
    broken.mkdir()
    monkeypatch.setattr(data, "STARTER_DIR", broken)
    layout = _jpeg_layout()
    layout["test_jpeg"] = layout["test_jpeg"].copy()
    layout["test_jpeg"][:100] = 0                                   # the first JPEG's header gone
    _write(broken / "cifar10.npz", **layout)
    with pytest.raises(data.DataError, match=r"test_jpeg\): image 0 is not a readable JPEG"):
        data.load_for_training("cifar10")
    (broken / "fashion_mnist.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(data.DataError, match="not a readable .npz file.*Restore pretrained/starter/"):
        data.load_starter("fashion_mnist")


def test_missing_data_folder_is_a_data_error(offline, monkeypatch):
    from cnnviz import resources

    def missing():
        raise resources.MissingDataError("cnnviz's data folder is missing")

    monkeypatch.setattr(resources, "pretrained_dir", missing)
    with pytest.raises(data.DataError, match="data folder is missing"):
        data.load_starter("mnist")
    with pytest.raises(data.DataError, match="No MNIST data to train on.*data folder is missing"):
        data.load_for_training("mnist")
    with pytest.raises(data.DataError, match="choose one of"):
        data.load_for_training("imagenet")


def test_jpeg_layout_and_jpeg_file_in_a_folder(tmp_path):
    layout = _jpeg_layout()
    _write(tmp_path / "cifar10_jpeg.npz", **layout)
    (xtr, ytr), _, _ = data.load_dataset("cifar10", tmp_path)      # no cifar10.npz: the _jpeg one
    assert xtr.shape == (20, 32, 32, 3) and ytr.tolist() == layout["y_train"].tolist()
    _write(tmp_path / "bad.npz", **{**layout, "train_offsets": layout["train_offsets"][::-1]})
    with pytest.raises(data.DataError, match="offsets must rise from 0"):
        data.load_dataset("cifar10", tmp_path / "bad.npz")


@pytest.mark.slow
def test_data_module_imports_neither_keras_nor_tensorflow():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", "import sys, cnnviz.data; "
                           "print(sorted(m for m in ('keras', 'tensorflow', 'PIL') if m in sys.modules))"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr[-2000:]


def test_the_page_says_which_data_without_decoding_any_image(offline, monkeypatch):
    """describe_for_training reads headers and labels only; load_test_images decodes the test
    split only; both say what load_for_training says."""
    layout = _jpeg_layout()
    folder = offline / "jpeg"
    folder.mkdir()
    _write(folder / "cifar10_jpeg.npz", **layout)
    _write(folder / "mnist.npz", **_good())
    monkeypatch.setenv("CNNVIZ_DATA", str(folder))
    full = data.load_for_training("cifar10")
    data.load_for_training.cache_clear()
    decoded = []
    real = data._decode_jpegs
    monkeypatch.setattr(data, "_decode_jpegs", lambda blob, offsets, where: decoded.append(where) or real(blob, offsets, where))
    about = data.describe_for_training("cifar10")
    assert decoded == [] and type(about) is data.DataSource
    assert (about.full, about.description, about.class_names) == (full.full, full.description, full.class_names)
    test = data.load_test_images("cifar10")
    assert len(decoded) == 1 and "test_jpeg" in decoded[0] and not hasattr(test, "x_train")
    np.testing.assert_array_equal(test.x_test, full.x_test)
    np.testing.assert_array_equal(test.y_test, full.y_test)
    assert test.description == full.description and data.load_test_images("cifar10") is test

    # Header checks: images of the wrong shape or a label out of range are found without reading the images.
    _write(folder / "fashion_mnist.npz", **{**_good(), "x_train": np.zeros((20, 28, 27), np.uint8)})
    about = data.describe_for_training("fashion_mnist")
    assert not about.full and "x_train must have shape (N, 28, 28), got (20, 28, 27)" in about.description
    assert data.describe_for_training("mnist").description == data.load_for_training("mnist").description


def test_keras_cache_test_images_alone(offline):
    import gzip
    fashion = offline / "keras-home" / "datasets" / "fashion-mnist"
    fashion.mkdir(parents=True)
    good = _good(30)
    for prefix, x, y in (("train", good["x_train"], good["y_train"]), ("t10k", good["x_test"], good["y_test"])):
        with gzip.open(fashion / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write((2049).to_bytes(4, "big") + len(y).to_bytes(4, "big") + y.tobytes())
        with gzip.open(fashion / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"".join(n.to_bytes(4, "big") for n in (2051, *x.shape)) + x.tobytes())
    about = data.describe_for_training("fashion_mnist")
    assert about.full and about.description.startswith("Fashion-MNIST: all 30 training and 5 test images")
    test = data.load_test_images("fashion_mnist")
    np.testing.assert_array_equal(test.x_test, good["x_test"])
    with gzip.open(fashion / "train-images-idx3-ubyte.gz", "wb") as f:      # a header that lies
        f.write(b"".join(n.to_bytes(4, "big") for n in (2051, 30, 28, 29)))
    data.load_for_training.cache_clear()
    about = data.describe_for_training("fashion_mnist")
    assert not about.full and "x_train must have shape (N, 28, 28), got (30, 28, 29)" in about.description
