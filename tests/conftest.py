"""Shared fixtures: the datasets, a real Streamlit server and a real Chromium page."""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

# The Keras layers the tests compare cnnviz against run on TensorFlow's CPU kernels, which lack some
# cases (a dilated Conv2DTranspose, a channels_first Conv2D) unless TensorFlow uses oneDNN; it turns
# oneDNN on by itself only on some CPUs (not on an AMD EPYC: 69 such failures there). On for every
# test machine alike, before anything imports TensorFlow; servers the tests start inherit it.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# CI sets CNNVIZ_STRICT=1: a missing browser or dataset is then a failure, not a skip.
STRICT = os.environ.get("CNNVIZ_STRICT") == "1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


# Tests that need these fixtures start a streamlit server or a browser.
SERVER_FIXTURES = {"app_url", "browser", "page"}


def pytest_collection_modifyitems(config, items):
    """Mark `browser` every test in tests/e2e and every test that uses a server or browser
    fixture, so that `-m "not slow and not browser"` (the fast lane) leaves them out."""
    e2e = ROOT / "tests" / "e2e"
    for item in items:
        if e2e in pathlib.Path(item.path).parents or SERVER_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.browser)


def _skip_or_fail(reason: str):
    if STRICT:
        pytest.fail(reason + " (CNNVIZ_STRICT=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def data_dir() -> pathlib.Path:
    """A directory with mnist.npz, fashion_mnist.npz and cifar10.npz (made from ../shared/data)."""
    env = os.environ.get("CNNVIZ_DATA")
    if env and all((pathlib.Path(env) / f"{n}.npz").is_file() for n in ("mnist", "fashion_mnist", "cifar10")):
        return pathlib.Path(env)
    if not SHARED_DATA.is_dir():
        _skip_or_fail("no datasets: ../shared/data is missing and CNNVIZ_DATA is not set")
    out = ROOT / ".cache" / "data"
    out.mkdir(parents=True, exist_ok=True)
    for name in ("mnist", "fashion_mnist"):
        link = out / f"{name}.npz"
        if not link.exists():
            link.symlink_to(SHARED_DATA / f"{name}.npz")
    if not (out / "cifar10.npz").exists():
        tmp = out / "cifar10.tmp.npz"
        subprocess.run([sys.executable, str(SHARED_DATA / "expand_cifar10.py"), str(tmp)], check=True)
        tmp.rename(out / "cifar10.npz")
    return out


def run_async(coro):
    """asyncio.run in a thread of its own: once a browser test has run, Playwright's sync API
    keeps an event loop running in the test thread, and asyncio.run refuses to start there."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def free_port() -> int:
    """A free port: any, or the first free one of CNNVIZ_TEST_PORTS="8850-8899" when set (a
    shared machine where each person has a range)."""
    wanted = os.environ.get("CNNVIZ_TEST_PORTS", "").strip()
    if wanted:
        first, _, last = wanted.partition("-")
        for port in range(int(first), int(last or first) + 1):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
        raise RuntimeError(f"no free port in CNNVIZ_TEST_PORTS={wanted}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(script: pathlib.Path, cwd: pathlib.Path = ROOT,
                    base_url_path: str = "") -> tuple[subprocess.Popen, str]:
    """Start `streamlit run` headless on a free port and wait for /_stcore/health (under
    `base_url_path`, Streamlit's server.baseUrlPath, if given: the URL returned includes it).

    The server's output goes to an unnamed temporary file (a pipe nobody reads would block the
    server once it has logged ~64 KB); server_output(proc) reads it.
    """
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.fileWatcherType", "none", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.baseUrlPath", base_url_path],
        cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    proc.log = log
    url = f"http://127.0.0.1:{port}" + (f"/{base_url_path}" if base_url_path else "")
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    proc.wait(10)
    raise RuntimeError(f"streamlit did not become healthy (exit status {proc.returncode}); "
                       f"the end of its output:\n{server_output(proc)[-5000:]}")


def server_output(proc: subprocess.Popen) -> str:
    """Everything a server from start_streamlit has printed so far (stdout and stderr)."""
    fd = proc.log.fileno()
    # pread leaves the file offset alone: the server shares it and keeps appending there.
    return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")


@pytest.fixture(scope="session")
def app_url():
    """A real `streamlit run app.py` for the whole test session."""
    proc, url = start_streamlit(ROOT / "app.py")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        _skip_or_fail("Chromium is not installed (apt-get install -y chromium)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until the Streamlit script has finished running."""
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)


def settle(page) -> None:
    """Wait out a rerun and whatever rerun it triggers (a component's value, a fragment)."""
    wait_for_app(page, timeout=90_000)
    page.wait_for_timeout(800)
    wait_for_app(page, timeout=90_000)


def main_text(page) -> str:
    return page.locator("[data-testid=stMain]").inner_text()


def screenshot(page, name: str) -> pathlib.Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --------------------------------------------------------------------------- untrained networks

def randomise_batchnorm(model, seed: int) -> None:
    """Give BN layers non-trivial statistics so that they change the numbers."""
    import keras
    import numpy as np
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
            layer.beta.assign(rng.normal(0, 0.2, n).astype("float32"))
            layer.moving_mean.assign(rng.normal(0, 0.3, n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.2, 2.0, n).astype("float32"))


@pytest.fixture(scope="module", params=[("digits_cnn", "mnist"), ("small_vgg", "cifar10")],
                ids=["digits_cnn", "small_vgg"])
def net(request):
    """(model, its Probe, one input) for two untrained architectures (the probe and attribution tests)."""
    import keras
    import numpy as np

    from cnnviz import models, probe
    arch, dataset = request.param
    keras.utils.set_random_seed(1)
    model = models.build(arch, dataset)
    randomise_batchnorm(model, 2)
    p = probe.Probe(model)
    x = np.random.default_rng(3).random(models.INPUT_SHAPES[dataset]).astype(np.float32)
    return model, p, x


def tape_grad(sub_model, model, x, cls):
    """d logit[cls] / d sub_model's output, by a plain GradientTape on two Keras models."""
    import keras
    import tensorflow as tf
    both = keras.Model(model.inputs, [sub_model.output, model.get_layer("logits").output])
    xt = tf.constant(x[None])
    with tf.GradientTape() as tape:
        tape.watch(xt)
        a, logits = both([xt], training=False)
        score = logits[0, cls]
    return a.numpy()[0], tape.gradient(score, a).numpy()[0]
