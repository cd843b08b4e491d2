"""A real `streamlit run app.py` ends cleanly (exit status 0 within 5 s) on SIGTERM at any moment,
and /_stcore/health answers while TensorFlow loads in the background (cnnviz/ui/lifecycle.py).
How fast it answers then is measured by benchmarks/bench_health_during_import.py, not asserted here."""
from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from conftest import ROOT, server_output, start_streamlit, wait_for_app

EXIT_WITHIN = 5.0
HEALTH_TIMEOUT = 10.0   # a check that gets no answer in this long counts as failed
TENSORFLOW_LIBRARIES = ("libtensorflow_framework", "_pywrap_tensorflow")


def _tensorflow_mapped(pid: int) -> bool:
    """True once the server process has loaded TensorFlow's shared libraries (the import began)."""
    maps = pathlib.Path(f"/proc/{pid}/maps").read_text()
    return any(name in maps for name in TENSORFLOW_LIBRARIES)


def _health(url: str) -> int:
    """The status of /_stcore/health, 0 if there was no answer."""
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=HEALTH_TIMEOUT) as r:
            return r.status
    except OSError:
        return 0


def _terminate(proc: subprocess.Popen) -> tuple[int | None, float, str]:
    """SIGTERM; (exit status or None if still running after 15 s, seconds taken, output tail)."""
    start = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(15)
    except subprocess.TimeoutExpired:
        code = None
        proc.kill()
        proc.wait(10)
    took = time.perf_counter() - start
    return code, took, server_output(proc)[-3000:]


@pytest.fixture
def server():
    proc, url = start_streamlit(ROOT / "app.py")
    yield proc, url
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def _first_visit(browser, url: str, path: str = "/"):
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + path)
    wait_for_app(page, timeout=120_000)
    return context


def _assert_clean_exit(proc) -> None:
    code, took, output = _terminate(proc)
    assert code == 0, f"exit status {code} after {took:.1f} s:\n{output}"
    assert took < EXIT_WITHIN, f"took {took:.1f} s to exit:\n{output}"


def test_sigterm_before_any_visitor(server):
    proc, url = server
    assert _health(url) == 200
    assert not _tensorflow_mapped(proc.pid)
    _assert_clean_exit(proc)


@pytest.mark.browser
@pytest.mark.parametrize("after", [0.0, 1.0])
def test_sigterm_while_tensorflow_imports(server, browser, after):
    """The first visitor starts the background import; SIGTERM lands in the middle of it."""
    proc, url = server
    context = _first_visit(browser, url)
    deadline = time.time() + 60
    while not _tensorflow_mapped(proc.pid):
        assert time.time() < deadline, "TensorFlow was never imported"
        time.sleep(0.02)
    time.sleep(after)
    _assert_clean_exit(proc)
    context.close()


@pytest.mark.browser
def test_health_answers_while_tensorflow_loads(server, browser):
    """Polled from the first visit until well after the import, the model load and warm-up: every
    check is answered, including checks made after the import began."""
    proc, url = server
    context = _first_visit(browser, url)
    deadline = time.time() + 60
    seen_at = None
    answers = []                                   # (status, TensorFlow mapped when asked)
    while seen_at is None or time.time() < seen_at + 8.0:
        assert time.time() < deadline, "TensorFlow was never imported"
        answers.append((_health(url), seen_at is not None))
        if seen_at is None and _tensorflow_mapped(proc.pid):
            seen_at = time.time()
        time.sleep(0.05)
    context.close()
    bad = [i for i, (status, _) in enumerate(answers) if status != 200]
    assert not bad, f"{len(bad)} of {len(answers)} health checks got no answer: checks {bad[:10]}"
    assert sum(during for _, during in answers) >= 10, "too few checks once the import began"
    _assert_clean_exit(proc)


@pytest.mark.browser
def test_sigterm_after_the_network_page_loaded(server, browser):
    proc, url = server
    context = _first_visit(browser, url, "/network")
    assert _tensorflow_mapped(proc.pid)
    _assert_clean_exit(proc)
    context.close()


def test_watchdog_ends_a_shutdown_that_hangs():
    """If the server's own shutdown never finishes (here: its handler ignores the signal and a
    non-daemon thread never ends), the process still exits with 0 after GRACE_SECONDS."""
    from cnnviz.ui import lifecycle

    script = textwrap.dedent("""
        import signal, threading, time
        from cnnviz.ui import lifecycle
        signal.signal(signal.SIGTERM, lambda number, frame: print("server handler", flush=True))
        assert lifecycle.install()
        threading.Thread(target=time.sleep, args=(60,)).start()
        print("ready", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(15)          # the thread alone would keep the process for 60 s
    took = time.perf_counter() - start
    assert code == 0
    assert "server handler" in proc.stdout.read()   # Streamlit's handler still ran first
    assert took >= lifecycle.GRACE_SECONDS          # the watchdog gave the shutdown its grace
