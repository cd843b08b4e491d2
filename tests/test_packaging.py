"""A plain (non-editable) install carries the models, cards and samples, and a missing data folder
is a loud error, not an empty list of samples or an untrained network."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import textwrap

import pytest

from conftest import ROOT

PACKAGE_FILES = ("pyproject.toml", "README.md", "cnnviz", "pretrained")
SHIPPED_DATA = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pretrained").rglob("*")
                      if p.is_file() and not p.name.startswith("."))


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)


def _python_in(site, script: str, cwd) -> subprocess.CompletedProcess:
    """Run `script` with only `site` (and the interpreter's own packages) to import from."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(site), TF_CPP_MIN_LOG_LEVEL="2")
    return _run([sys.executable, "-c", textwrap.dedent(script)], cwd=cwd, env=env)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A copy of what `pip install .` reads, so building leaves nothing in the checkout."""
    src = tmp_path_factory.mktemp("src")
    for name in PACKAGE_FILES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", ".*"))
        else:
            shutil.copy2(ROOT / name, src / name)
    return src


@pytest.fixture(scope="module")
def site(source, tmp_path_factory):
    """cnnviz installed with a plain `pip install --target` (no editable link to the checkout)."""
    target = tmp_path_factory.mktemp("site")
    done = _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                 "--no-index", "--quiet", "--target", str(target), "."], cwd=source)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


@pytest.mark.slow
def test_installed_package_loads_a_sample_and_a_model_from_anywhere(site, tmp_path):
    done = _python_in(site, """
        import cnnviz, cnnviz.models, cnnviz.samples
        print(cnnviz.__file__)
        print(cnnviz.samples.SAMPLES_DIR)
        pic = cnnviz.samples.load_sample("mnist-3")
        print(pic.pixels.shape)
        model = cnnviz.models.load_pretrained("mnist")
        print(model.name, sorted(cnnviz.models.PRETRAINED))
    """, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    package, samples, shape, model = done.stdout.splitlines()[-4:]
    assert package == str(site / "cnnviz" / "__init__.py")
    assert samples == str(site / "cnnviz" / "pretrained" / "samples")
    assert shape == "(28, 28)"
    assert model == "digits_cnn ['cifar10', 'fashion_mnist', 'mnist']"


@pytest.mark.slow
def test_installed_package_without_its_data_says_so(site, tmp_path):
    broken = tmp_path / "site"
    shutil.copytree(site, broken, ignore=shutil.ignore_patterns("pretrained"))
    done = _python_in(broken, "import cnnviz.samples", cwd=tmp_path)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("cnnviz.resources.MissingDataError: cnnviz's data folder is missing"), last
    assert str(broken / "cnnviz" / "pretrained") in last and "pip install ." in last


@pytest.mark.slow
def test_sdist_carries_the_data(source, tmp_path):
    done = _run([sys.executable, "-c", "import sys; from setuptools import build_meta; "
                 "print(build_meta.build_sdist(sys.argv[1]))", str(tmp_path)], cwd=source)
    assert done.returncode == 0, done.stderr[-3000:]
    archive = tmp_path / done.stdout.strip().splitlines()[-1]
    with tarfile.open(archive) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert "pretrained/samples/mnist-3.png" in SHIPPED_DATA
    assert set(SHIPPED_DATA) <= names, sorted(set(SHIPPED_DATA) - names)


def test_the_checkout_finds_its_own_data():
    from cnnviz import models, resources, samples
    assert resources.pretrained_dir() == ROOT / "pretrained" == models.PRETRAINED_DIR
    assert samples.SAMPLES_DIR == ROOT / "pretrained" / "samples"


def test_no_models_is_an_error_not_an_untrained_network(monkeypatch):
    from cnnviz import models, resources
    from cnnviz.ui import model_cache
    assert model_cache.available() == ["mnist", "fashion_mnist", "cifar10"]
    monkeypatch.setattr(models, "PRETRAINED", {})
    with pytest.raises(resources.MissingDataError, match="No pretrained model in .*pretrained"):
        model_cache.available()
