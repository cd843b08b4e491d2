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
