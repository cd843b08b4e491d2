"""deploy/run_balanced.sh for real: two `streamlit run app.py` processes behind HAProxy on loopback.

Health through the balancer, /_stcore/metrics refused there, stickiness (a visitor stays on one process: its page, websocket and
media), both processes get visitors, a session keeps its state across reruns and survives the loss
of the other process, and SIGTERM tears everything down. Skipped without haproxy, except under
CNNVIZ_STRICT=1 (CI), where a missing haproxy fails.
"""
from __future__ import annotations

import asyncio
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, _skip_or_fail, free_port, run_async

sys.path.insert(0, str(ROOT / "benchmarks"))
import loadgen  # noqa: E402

pytestmark = pytest.mark.browser   # HAProxy in front of two streamlit servers

SCRIPT = ROOT / "deploy" / "run_balanced.sh"
COOKIE = "CNNVIZ_BACKEND"


def _get(url: str, cookie: str | None = None):
    req = urllib.request.Request(url)
    if cookie:
        req.add_header("Cookie", cookie)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers, r.read()   # (case-insensitive: HAProxy lowercases names)


def _listening(port: int) -> bool:
    import socket
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_balanced(*args: str, **env: str) -> dict:
    """run_balanced.sh with `args` on free ports, once it says "ready": its process, URL,
    backends {name: (port, pid)}, output() and run directory. Stop it with stop_balanced()."""
    if shutil.which("haproxy") is None:
        _skip_or_fail("haproxy is not installed (apt-get install -y haproxy)")
    ports = [free_port(), free_port()]
    front = free_port()
    log = tempfile.TemporaryFile()
    env = dict(os.environ, CNNVIZ_BACKEND_PORTS=",".join(map(str, ports)), PYTHON=sys.executable,
               CNNVIZ_KEEP_LOGS="0", **env)
    proc = subprocess.Popen(["bash", str(SCRIPT), "-p", str(front), *args], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")

    deadline = time.time() + 150
    while "run_balanced: ready" not in output():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("run_balanced.sh did not come up:\n" + output()[-4000:])
        time.sleep(0.3)
    run_dir = pathlib.Path(re.search(r"logs in (\S+?)\)", output()).group(1))
    backends = {}
    for line in (run_dir / "backends").read_text().split("\n"):
        if line.strip():
            name, port, pid = line.split()
            backends[name] = (int(port), int(pid))
    return {"url": f"http://127.0.0.1:{front}", "proc": proc, "backends": backends, "output": output,
            "run_dir": run_dir, "front": front}


def stop_balanced(info: dict) -> None:
    proc = info["proc"]
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def balanced():
    info = start_balanced()
    yield info
    stop_balanced(info)              # unless the teardown test did


def test_each_process_is_warm_before_the_balancer_takes_visitors(balanced):
    """TensorFlow and the first network are loaded in every process when "ready" is printed (a
    fresh streamlit process holds ~70 MB; with them, ~800 MB), so a class opening one link at
    once does not wait for them."""
    for name, (_, pid) in balanced["backends"].items():
        assert loadgen.rss_mb(pid) > 400, f"{name} was not warmed: {loadgen.rss_mb(pid):.0f} MB"


def test_health_through_the_balancer(balanced):
    status, headers, body = _get(balanced["url"] + "/_stcore/health")
    assert status == 200 and body.strip() == b"ok"
    assert headers.get("X-Cnnviz-Backend") in balanced["backends"]


def test_streamlit_metrics_are_refused_through_the_balancer(balanced):
    """/_stcore/metrics (cache names, session counts) answers on a process's own port only."""
    port, _ = next(iter(balanced["backends"].values()))
    status, _, body = _get(f"http://127.0.0.1:{port}/_stcore/metrics")
    assert status == 200 and b"session_events" in body    # the process itself does answer
    for path in ("/_stcore/metrics", "/_stcore/metrics/", "/_stcore/metrics?x=1",
                 "/%5Fstcore%2F%6Detrics", "/_STCORE/METRICS"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            _get(balanced["url"] + path)
        assert refused.value.code == 403, path
        assert b"session_events" not in refused.value.read(), path
    assert _get(balanced["url"] + "/_stcore/health")[0] == 200   # the rest of /_stcore still works


def test_a_visitor_sticks_to_one_process_and_both_get_visitors(balanced):
    url = balanced["url"]
    seen = set()
    for _ in range(6):                       # new visitors (no cookie)
        status, headers, _ = _get(url + "/")
        cookie = headers.get("Set-Cookie", "")
        m = re.search(COOKIE + r"=(\w+)", cookie)
        assert status == 200 and m, f"no {COOKIE} cookie: {cookie!r}"
        assert headers.get("X-Cnnviz-Backend") == m.group(1)
        seen.add(m.group(1))
        for path in ("/", "/_stcore/health", "/convolution"):   # the same visitor again and again
            _, again, _ = _get(url + path, cookie=f"{COOKIE}={m.group(1)}")
            assert again.get("X-Cnnviz-Backend") == m.group(1)
    assert seen == set(balanced["backends"]), f"visitors went to {seen} only"


def test_sessions_work_through_the_balancer_and_spread_over_both(balanced):
    async def scenario():
        sessions = [loadgen.StreamlitSession(balanced["url"], i, run_timeout=120) for i in range(4)]
        try:
            for s in sessions:            # open together, as a class would
                r = await s.open("/convolution")
                assert r.ok, (r.errors, r.exceptions)
                assert r.media_urls, "the page's pictures are served from /media/ of its process"
            cookies = {s.cookies.get(COOKIE) for s in sessions}
            assert cookies == set(balanced["backends"]), cookies
            for s in sessions:            # websockets, media and state all on the right process
                r = await s.set(s.find("conv_stride"), [2.0])
                assert r.ok, (r.errors, r.exceptions)
            assert all(s.media_errors == 0 for s in sessions)
        finally:
            for s in sessions:
                await s.close()

    run_async(scenario())


def test_a_session_keeps_its_state_and_survives_losing_the_other_process(balanced):
    size = re.compile(r"output \**(\d+) × (\d+)")

    async def scenario():
        s = loadgen.StreamlitSession(balanced["url"], 0, run_timeout=120)
        try:
            assert (await s.open("/convolution")).ok
            mine = s.cookies[COOKIE]
            one = size.search(s.text()).groups()
            assert (await s.set(s.find("conv_stride"), [3.0])).ok
            three = size.search(s.text()).groups()
            assert int(three[0]) < int(one[0])
            # the other process goes away; this session's process and websocket carry on
            other = next(n for n in balanced["backends"] if n != mine)
            port, pid = balanced["backends"][other]
            os.kill(pid, signal.SIGTERM)
            deadline = time.time() + 30
            while _listening(port) and time.time() < deadline:
                await asyncio.sleep(0.2)
            assert not _listening(port)
            for _ in range(3):
                await asyncio.sleep(0.5)
                padding = s.find("conv_padding")
                other_padding = next(o for o in padding.options() if o != s.states.get(padding.id))
                r = await s.set(padding, other_padding)
                assert r.ok, (r.errors, r.exceptions)
                assert s.states[s.find("conv_stride").id] == [3.0]   # the session's state is still here
            # new visitors now all reach the live process
            await asyncio.sleep(3)        # health checks: 3 failures 1 s apart mark it down
            for _ in range(3):
                _, headers, _ = _get(balanced["url"] + "/")
                assert headers.get("X-Cnnviz-Backend") == mine
        finally:
            await s.close()

    run_async(scenario())
    assert "still serving with" in balanced["output"]()


def test_sigterm_stops_the_balancer_and_every_process(balanced):
    proc = balanced["proc"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(45) == 143
    assert "run_balanced: stopped" in balanced["output"]()
    assert not _listening(balanced["front"])
    for port, pid in balanced["backends"].values():
        assert not _listening(port)
        assert not pathlib.Path(f"/proc/{pid}").exists() or "zombie" in pathlib.Path(f"/proc/{pid}/status").read_text()
    assert not balanced["run_dir"].exists()


def test_the_redis_option_shares_a_class_between_the_processes():
    """-r PORT starts redis-server before the apps, gives each CNNVIZ_REDIS_URL, and stops it last:
    a room started by code running with one app process's environment is seen with the other's."""
    if shutil.which("redis-server") is None:
        _skip_or_fail("redis-server is not installed (apt-get install -y redis-server)")
    from redis_server import _answers_ping, _port
    port = _port()
    env = {k: v for k, v in os.environ.items() if k != "CNNVIZ_REDIS_URL"}
    info = start_balanced("-w", "0", "-r", str(port), CNNVIZ_REDIS_URL="")
    try:
        url = f"redis://127.0.0.1:{port}/0"
        assert _answers_ping(port) and f"classes shared through {url}" in info["output"]()
        app_envs = []
        for port_pid in info["backends"].values():
            environ = pathlib.Path(f"/proc/{port_pid[1]}/environ").read_bytes().split(b"\0")
            app_env = dict(v.decode().split("=", 1) for v in environ if b"=" in v)
            assert app_env["CNNVIZ_REDIS_URL"] == url
            app_envs.append(dict(env, CNNVIZ_REDIS_URL=app_env["CNNVIZ_REDIS_URL"]))

        def in_app(env: dict, code: str) -> str:
            return subprocess.run([sys.executable, "-c", "from cnnviz.classroom import rooms_for_server as r\n" + code],
                                  env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60).stdout
        room = in_app(app_envs[0], "print(r().start().code)").strip()
        assert in_app(app_envs[1], f"print(r().exists({room!r}))").strip() == "True"
        assert in_app(env, f"print(r().exists({room!r}))").strip() == "False"   # the embedded store
    finally:
        stop_balanced(info)
    assert info["proc"].returncode == 143
    assert not _answers_ping(port)
