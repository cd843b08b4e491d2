"""A real redis-server for tests: start_redis() -> (url, stop), and the pytest fixture `redis_url`
(one server for the session; import it into a test module: `from redis_server import redis_url`).

The server keeps nothing on disk (--save '' --appendonly no) and is killed by stop(). Its port is
a free one (bind to port 0), or the first free one of CNNVIZ_TEST_REDIS_PORTS="6390-6399" when
set (shared machines where each person has a range). Without redis-server the fixture's tests are
skipped, or fail under CNNVIZ_STRICT=1 (CI installs it). benchmarks/bench_class.py uses start_redis().
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _port() -> int:
    wanted = os.environ.get("CNNVIZ_TEST_REDIS_PORTS", "").strip()
    if wanted:
        first, _, last = wanted.partition("-")
        for port in range(int(first), int(last or first) + 1):
            if _free(port):
                return port
        raise RuntimeError(f"no free port in CNNVIZ_TEST_REDIS_PORTS={wanted}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis() -> tuple[str, callable]:
    """A fresh redis-server on loopback: (its URL, a function that kills it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server is not installed (apt-get install -y redis-server)")
    port = _port()
    workdir = tempfile.mkdtemp(prefix="cnnviz-redis-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", workdir, "--daemonize", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop() -> None:
        proc.kill()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    deadline = time.time() + 15
    while not _answers_ping(port):
        if proc.poll() is not None or time.time() > deadline:
            stop()
            raise RuntimeError(f"redis-server did not answer PING on port {port}")
        time.sleep(0.05)
    return f"redis://127.0.0.1:{port}/0", stop


@pytest.fixture(scope="session")
def redis_url():
    """The URL of a redis-server that lives for the test session (flush it if a test needs it empty)."""
    from conftest import _skip_or_fail
    try:
        url, stop = start_redis()
    except FileNotFoundError as e:
        _skip_or_fail(str(e))
    yield url
    stop()
