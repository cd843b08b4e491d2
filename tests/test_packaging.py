"""A plain (non-editable) install is the whole package: every module, the models, cards and samples,
the command line and the app; a missing data folder is a loud error, not an empty list of samples or
an untrained network. Every third-party package the code imports is declared."""
from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import time
import tomllib
import urllib.request

import pytest

from cnnviz.ui import page_list
from conftest import ROOT, free_port

PACKAGE_FILES = ("pyproject.toml", "setup.py", "README.md", "cnnviz", "pretrained", ".streamlit")

def _is_script(module: str) -> bool:
    """The app, its pages and `python -m cnnviz` are run, not imported."""
    return module.startswith("cnnviz.ui.pages.") or module in ("cnnviz.ui.app", "cnnviz.__main__")
SHIPPED_DATA = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pretrained").rglob("*")
                      if p.is_file() and not p.name.startswith("."))


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)


def _env(site) -> dict:
    """Only `site` (and the interpreter's own packages) to import from."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(site), TF_CPP_MIN_LOG_LEVEL="2")
    return env


def _python_in(site, script: str, cwd) -> subprocess.CompletedProcess:
    """Run `script` with only `site` (and the interpreter's own packages) to import from."""
    return _run([sys.executable, "-c", textwrap.dedent(script)], cwd=cwd, env=_env(site))


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


def _checkout_modules() -> list[str]:
    names = []
    for path in sorted((ROOT / "cnnviz").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.slow
def test_installed_package_has_every_module_and_imports_it_from_anywhere(site, tmp_path):
    modules = _checkout_modules()
    assert len(modules) > 70 and "cnnviz.attributions.saliency" in modules
    installed = {p.relative_to(site).as_posix() for p in (site / "cnnviz").rglob("*.py")}
    missing = {p.relative_to(ROOT).as_posix() for p in (ROOT / "cnnviz").rglob("*.py")} - installed
    assert not missing, sorted(missing)
    done = _python_in(site, f"""
        import importlib, json, traceback
        failed, outside = {{}}, []
        for name in {[m for m in modules if not _is_script(m)]!r}:
            try:
                module = importlib.import_module(name)
            except Exception:
                failed[name] = traceback.format_exc().splitlines()[-1]
                continue
            if not module.__file__.startswith({str(site)!r}):
                outside.append(module.__file__)
        print(json.dumps({{"failed": failed, "outside": outside}}))
    """, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result == {"failed": {}, "outside": []}, result


@pytest.mark.slow
def test_installed_command_line_answers_help(site, tmp_path):
    done = _run([sys.executable, "-m", "cnnviz", "--help"], cwd=tmp_path, env=_env(site))
    assert done.returncode == 0, done.stderr[-3000:]
    assert all(command in done.stdout for command in ("train", "evaluate", "app")), done.stdout


@pytest.mark.slow
def test_installed_app_runs_its_home_page(site, tmp_path):
    done = _python_in(site, f"""
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({str(site / "cnnviz" / "ui" / "app.py")!r}, default_timeout=120).run()
        print([e.message for e in at.exception])
        print(at.title[0].value if at.title else at.markdown[0].value)
        print(sorted(link.proto.page for link in at.get("page_link")))
    """, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    exceptions, title, links = done.stdout.splitlines()[-3:]
    assert exceptions == "[]"
    assert "Inside a convolutional neural network" in title, title
    assert links == str(sorted(p.url_path for p in page_list.cards())), links


@pytest.mark.browser
def test_installed_app_command_serves_the_installed_app_with_its_settings(site, tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "cnnviz", "app", "--server.port", str(port)],
                                cwd=tmp_path, env=_env(site), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline, healthy = time.time() + 90, False
        while time.time() < deadline and proc.poll() is None and not healthy:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    healthy = r.status == 200
            except OSError:
                time.sleep(0.3)
        assert healthy, log.read_text()[-3000:]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.status == 200 and b"<html" in r.read().lower()
        # the command became `streamlit run` on the installed app, with the checkout's settings
        argv = pathlib.Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode().rstrip("\0").split("\0")
        assert argv[1:5] == ["-m", "streamlit", "run", str(site / "cnnviz" / "ui" / "app.py")], argv
        assert "--client.showErrorDetails=none" in argv and argv[-2:] == ["--server.port", str(port)]
    finally:
        proc.terminate()
        proc.wait(20)
    assert proc.returncode == 0, log.read_text()[-3000:]


def test_app_command_passes_the_checkouts_streamlit_settings():
    from cnnviz import cli
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    flags = cli.streamlit_flags()
    assert len(flags) == sum(len(options) for options in config.values()) > 5
    assert "--client.showErrorDetails=none" in flags and "--server.maxUploadSize=10" in flags
    assert "--server.enableXsrfProtection=true" in flags


# --------------------------------------------------------------------------- declared dependencies

def _requirement_names(lines) -> set[str]:
    """Canonical distribution names of requirement lines (markers and pins dropped)."""
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(_canonical(re.match(r"[A-Za-z0-9._-]+", line).group()))
    return names


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_top_level_names(files) -> dict[str, str]:
    """{top-level module imported: a file importing it} for absolute imports in `files`."""
    found = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path.relative_to(ROOT).as_posix())
    return found


def _undeclared(files, declared: set[str], local: set[str]) -> dict[str, str]:
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for name, where in _imported_top_level_names(files).items():
        if name in sys.stdlib_module_names or name in local:
            continue
        provided_by = {_canonical(d) for d in distributions.get(name, [])}
        if not provided_by & declared:
            missing[name] = f"{where} (installed by {sorted(provided_by) or 'nothing'})"
    return missing


def test_runtime_requirements_agree():
    from_pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    from_file = [line.split("#", 1)[0].strip() for line in
                 (ROOT / "requirements.txt").read_text().splitlines()]
    assert sorted(r.replace('"', "'").replace(" ", "") for r in from_pyproject) == \
        sorted(r.replace('"', "'").replace(" ", "") for r in from_file if r)


def test_every_package_the_app_imports_is_declared():
    declared = _requirement_names((ROOT / "requirements.txt").read_text().splitlines())
    assert {"streamlit", "keras", "numpy"} <= declared
    files = [*(ROOT / "cnnviz").rglob("*.py"), ROOT / "app.py"]
    assert not _undeclared(files, declared, {"cnnviz"})


@pytest.mark.slow
def test_every_package_the_tests_and_tools_import_is_declared_for_development():
    lines = [*(ROOT / "requirements-dev.txt").read_text().splitlines(),
             *(ROOT / "requirements.txt").read_text().splitlines()]
    folders = [ROOT / "tests", ROOT / "benchmarks", ROOT / "scripts"]
    files = [p for folder in folders for p in folder.rglob("*.py")]
    local = {"cnnviz", "tests", "benchmarks"} | {p.stem for p in files}
    assert not _undeclared(files, _requirement_names(lines), local)


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
    assert {"setup.py", ".streamlit/config.toml", "cnnviz/ui/app.py"} <= names


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
