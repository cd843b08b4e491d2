"""No page shows a visitor where things lie on the server (issue Q): the data line of /train, the
test set named on /network, errors about a broken configuration. Every element of every page is
searched, charts and widget labels included."""
from __future__ import annotations

import os
import pathlib
import sys
import tempfile

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from cnnviz import data

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = ("home", "convolution", "activations", "pooling", "conv1d", "more_convolutions", "network",
         "train", "lesson")

pytestmark = pytest.mark.slow          # /network loads TensorFlow and a trained model


def server_paths(*more: pathlib.Path) -> set[str]:
    """Folders of this server that a page must never name."""
    places = {ROOT, pathlib.Path(tempfile.gettempdir()), pathlib.Path.home(), pathlib.Path(sys.prefix),
              pathlib.Path(streamlit.__file__).parents[1], *more}
    return {str(p) for place in places for p in (place, place.resolve())}


def everything_shown(at: AppTest) -> str:
    """The protobuf text of every element on the page (text, labels, help, charts, tables)."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page(f"cnnviz/ui/pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def assert_no_server_path(at: AppTest, paths: set[str], page: str):
    shown = everything_shown(at)
    assert len(shown) > 200, page                     # the page was searched, not an empty tree
    found = sorted(p for p in paths if p in shown)
    assert not found, (page, found, [shown[max(0, shown.find(p) - 80):shown.find(p) + 80] for p in found])


@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_a_server_path(page, data_dir, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(data_dir))
    at = open_page(page)
    assert_no_server_path(at, server_paths(data_dir), page)
    if page == "network":                  # the test set as evidence names where its images come from
        next(b for b in at.button if b.key == "net_evidence_go" or (b.key or "").startswith("net_evidence_go:")).click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("(from mnist.npz in CNNVIZ_DATA)" in c.value for c in at.caption)
        assert_no_server_path(at, server_paths(data_dir), "network, evidence")
    if page == "train":                    # the data line names the dataset and its source
        line = next(c.value for c in at.caption if c.value.startswith("MNIST: all"))
        assert line == "MNIST: all 60,000 training and 10,000 test images (from mnist.npz in CNNVIZ_DATA)"


def test_a_broken_data_folder_is_explained_without_its_path(tmp_path, monkeypatch):
    folder = tmp_path / "datasets on the server"
    folder.mkdir()
    (folder / "mnist.npz").write_bytes(b"garbage")
    monkeypatch.setenv("CNNVIZ_DATA", str(folder))
    at = open_page("train")
    assert_no_server_path(at, server_paths(tmp_path), "train")
    line = next(c.value for c in at.caption if c.value.startswith("MNIST starter subset"))
    assert "The full set in CNNVIZ_DATA was not used: CNNVIZ_DATA/mnist.npz is not a readable .npz file" in line


def test_the_data_line_is_free_of_paths_in_every_configuration(tmp_path, monkeypatch, data_dir):
    """describe_for_training, which the page shows: a full set, an explicit file, Keras's cache,
    a broken file, a missing one."""
    keras_home = tmp_path / "keras"
    (keras_home / "datasets").mkdir(parents=True)
    os.symlink(data_dir / "mnist.npz", keras_home / "datasets" / "mnist.npz")
    (tmp_path / "fashion_mnist.npz").write_bytes(b"garbage")
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.delenv("CNNVIZ_DATA", raising=False)
    data.load_for_training.cache_clear()
    paths = server_paths(tmp_path, data_dir)
    lines = [data.describe_for_training("mnist").description,                     # Keras's cache
             data.describe_for_training("mnist", data_dir / "mnist.npz").description,
             data.describe_for_training("fashion_mnist", tmp_path).description,    # broken
             data.describe_for_training("cifar10", tmp_path / "nowhere").description]
    assert lines[0].endswith("(from Keras's cache)") and lines[1].endswith("(from mnist.npz)")
    assert "fashion_mnist.npz is not a readable .npz file" in lines[2]
    assert "The full set at nowhere was not used: No cifar10 data at nowhere." in lines[3]
    for line in lines:
        assert not [p for p in paths if p in line], line
