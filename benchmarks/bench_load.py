"""Many visitors at once, at the protocol level: rerun latency per page, errors, capacity.

First (when it starts the server) a cold start: 18 visitors open the pages of the freshly started
server at the same moment, as a class following one link; its errors are printed.

Goal (issue E): 20 concurrent sessions on one server for 60 s, each acting every 2-3 s as a
person would (pages, widgets, layer steps): 0 errors and p95 rerun latency <= 1 s. Then the
session count is stepped to find how many sessions one server holds at p95 <= 1 s.

The visitors are benchmarks/loadgen.py (Streamlit's own websocket protocol, loopback only). They
run in this process and share the machine with the server: their CPU time is printed too. Each
capacity step gets a freshly started, warmed server (when this script starts the server).

The main run and each capacity step start once the server has finished its start-up work
(settle(): every network loaded and the shared results computed, CPU quiet), as in a lesson
whose server was started before the class; the cold start does not wait.

Usage:
  python benchmarks/bench_load.py                       # starts `streamlit run app.py` itself
  python benchmarks/bench_load.py --url http://127.0.0.1:8080 --sticky-cookie CNNVIZ_BACKEND
                                                        # an existing server or balancer
  python benchmarks/bench_load.py --balanced 2         # deploy/run_balanced.sh: 2 processes + HAProxy
  options: --sessions 20 --duration 60 --steps 10,20,30,40,60,80 --step-duration 30 --no-steps
"""
from __future__ import annotations

import argparse
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

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import loadgen  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOAL_P95 = 1.0


class Balanced:
    """deploy/run_balanced.sh of the app's checkout: `n` processes behind HAProxy on free ports
    (or `ports` for the processes and `port` for the balancer); `args`: more of its options."""

    def __init__(self, app: pathlib.Path, n: int, timeout: float = 180.0, *, args: tuple = (),
                 ports: list[int] | None = None, port: int | None = None, env: dict | None = None):
        ports = ports or [loadgen.free_port() for _ in range(n)]
        self.port = port or loadgen.free_port()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            ["bash", str(app.parent / "deploy" / "run_balanced.sh"), "-p", str(self.port), *args],
            env={**(os.environ if env is None else env), "CNNVIZ_BACKEND_PORTS": ",".join(map(str, ports)),
                 "PYTHON": sys.executable, "CNNVIZ_KEEP_LOGS": "1"},
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.backend_urls = [f"http://127.0.0.1:{p}" for p in ports]
        deadline = time.time() + timeout
        while time.time() < deadline and self.proc.poll() is None:
            m = re.search(r"logs in (\S+?)\)", self._text())
            if m and "run_balanced: ready" in self._text():
                self.logs = pathlib.Path(m.group(1))
                rows = (self.logs / "backends").read_text().split("\n")
                self.pids = [int(r.split()[2]) for r in rows if r.strip()]
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("run_balanced.sh did not become ready:\n" + self._text()[-3000:])

    def _text(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> int:
        """Stop the balancer and its processes; the number of tracebacks in their logs."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        logs = getattr(self, "logs", None)
        if logs is None or not logs.is_dir():
            return 0
        n = sum(f.read_text(errors="replace").count("Traceback") for f in logs.glob("app*.log"))
        if n:
            print(f"server logs: {n} tracebacks (kept in {logs})")
        else:
            shutil.rmtree(logs, ignore_errors=True)
        return n


def _server_line(pids: list[int], cpu0: float, t0: float) -> str:
    if not pids:
        return ""
    busy = (sum(map(loadgen.cpu_seconds, pids)) - cpu0) / (time.perf_counter() - t0)
    rss = ", ".join(f"{loadgen.rss_mb(p):.0f}" for p in pids)
    return (f"server{'s' if len(pids) > 1 else ''}: {busy * 100:.0f}% of one core on average "
            f"({os.cpu_count()} cores{', all processes' if len(pids) > 1 else ''}), RSS {rss} MB")


def _retire(proc) -> int:
    """Stop a server this script started; print the errors its log holds; their number."""
    tail = loadgen.log_tail(proc, 2_000_000)
    loadgen.stop(proc)
    n = tail.count("Traceback")
    if n:
        lines = [ln for ln in tail.splitlines() if "Error" in ln and not ln.startswith(("I0000", "W0000"))]
        print(f"server log: {n} tracebacks; last error lines:\n" + "\n".join(lines[-5:]))
    return n


def settle(pids: list[int], most: float = 150.0, quiet: float = 0.25) -> float:
    """Wait until the servers have finished their start-up work in the background (every network
    loaded, the shared results computed: CPU under `quiet` of a core over 2 s), at most `most`
    seconds, as in a lesson whose server was started before the class; the seconds waited."""
    t0 = time.perf_counter()
    while pids and time.perf_counter() - t0 < most:
        cpu0 = sum(map(loadgen.cpu_seconds, pids))
        time.sleep(2.0)
        if (sum(map(loadgen.cpu_seconds, pids)) - cpu0) / 2.0 < quiet:
            break
    return time.perf_counter() - t0


def run(url: str, pids: list[int], sessions: int, duration: float, seed: int, sticky: str | None):
    cpu0 = sum(map(loadgen.cpu_seconds, pids))
    t0 = time.perf_counter()
    rep = asyncio.run(loadgen.run_crowd(url, sessions, duration, seed=seed, sticky_cookie=sticky))
    return rep, _server_line(pids, cpu0, t0)


def _start(app: pathlib.Path, balanced: int):
    """A fresh server (or `balanced` processes behind HAProxy): (handle, url, pids, warm-up URLs)."""
    if balanced:
        b = Balanced(app, balanced)
        return b, b.url, b.pids, b.backend_urls
    proc, url = loadgen.serve(app, app.parent)
    return proc, url, [proc.pid], [url]


def _stop(handle) -> int:
    return handle.stop() if isinstance(handle, Balanced) else _retire(handle)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="load this server (loopback) instead of starting one")
    ap.add_argument("--app", default=str(ROOT / "app.py"), help="the app to start (default: this checkout's)")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--steps", default="10,20,30,40,60,80", help="session counts for the capacity search")
    ap.add_argument("--step-duration", type=float, default=30)
    ap.add_argument("--no-steps", action="store_true")
    ap.add_argument("--cold", type=int, default=18,
                    help="first, this many visitors open the pages at once on the fresh server (0: skip)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sticky-cookie", default=None, help="a balancer's stickiness cookie, to count backends")
    ap.add_argument("--warm", default=None,
                    help="comma-separated URLs to warm up first (behind a balancer: each backend's own URL)")
    ap.add_argument("--balanced", type=int, default=0,
                    help="start deploy/run_balanced.sh with this many processes instead of one server")
    a = ap.parse_args()

    proc = None
    url = a.url
    app = pathlib.Path(a.app).resolve()
    pids: list[int] = []
    warm_urls = a.warm.split(",") if a.warm else None
    if a.balanced:
        a.sticky_cookie = a.sticky_cookie or "CNNVIZ_BACKEND"
    if url is None:
        proc, url, pids, started_warm = _start(app, a.balanced)
        warm_urls = warm_urls or started_warm
    server_errors = 0
    try:
        print(f"load test of {url} on {os.cpu_count()} cores; load average before: "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        if proc is not None and a.cold:
            cold = asyncio.run(loadgen.cold_crowd(url, a.cold))
            lat = sorted(r.latency for r in cold if r.latency is not None) or [float("nan")]
            bad = [f"{r.page}: {(r.errors + r.exceptions)[0][:90]}" for r in cold if not r.ok]
            print(f"cold start, {a.cold} visitors open the pages at once on the fresh server: "
                  f"{len(bad)} errors; open p50 {lat[len(lat) // 2]:.1f} s, max {lat[-1]:.1f} s"
                  + "".join(f"\n  error: {b}" for b in bad[:4]))
        t = time.perf_counter()
        warm = []
        for w in (warm_urls or [url]):
            warm += asyncio.run(loadgen.warm_up(w))
        bad = [e for r in warm for e in r.errors + r.exceptions]
        print(f"warm-up (every page once, one layer step): {time.perf_counter() - t:.1f} s"
              + (f", errors: {bad}" if bad else ""))
        if pids:
            print(f"server RSS after warm-up: {', '.join(f'{loadgen.rss_mb(p):.0f}' for p in pids)} MB")
            print(f"start-up work settled after {settle(pids):.0f} s more; RSS then "
                  f"{', '.join(f'{loadgen.rss_mb(p):.0f}' for p in pids)} MB")

        rep, server = run(url, pids, a.sessions, a.duration, a.seed, a.sticky_cookie)
        print()
        loadgen.print_report(rep, "MAIN RUN: ")
        if server:
            print(server)
        print("slowest actions (median):\n" + rep.slowest_actions(10))
        p95, errors = rep.p(.95), len(rep.errors())
        print(f"goal: 0 errors and p95 <= {GOAL_P95:.1f} s at {a.sessions} sessions -> "
              f"{errors} errors, p95 {p95:.2f} s: {'MET' if errors == 0 and p95 <= GOAL_P95 else 'NOT MET'}")

        if not a.no_steps:
            print(f"\ncapacity: {a.step_duration:.0f} s per step")
            print(f"{'sessions':>9}{'reruns':>8}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}  server")
            held = 0
            for n in [int(x) for x in a.steps.split(",")]:
                if proc is not None:
                    # a fresh, warmed server per step: runs a crowd leaves behind (a queued slow
                    # experiment keeps running after its visitor has gone) must not load the next
                    server_errors += _stop(proc)
                    proc = None
                    proc, url, pids, warm_urls = _start(app, a.balanced)
                    for w in warm_urls:
                        asyncio.run(loadgen.warm_up(w))
                    settle(pids)
                    time.sleep(5)
                else:
                    time.sleep(10)
                r, server = run(url, pids, n, a.step_duration, a.seed + n, a.sticky_cookie)
                ok = r.p(.95) <= GOAL_P95 and not r.errors()
                print(f"{n:>9}{len(r.finished()):>8}{r.p(.5) * 1000:>9.0f}{r.p(.95) * 1000:>9.0f}"
                      f"{len(r.errors()):>8}  {server}", flush=True)
                if ok:
                    held = n
                if r.p(.95) > 3 * GOAL_P95:      # far past the goal: larger crowds only take longer
                    break
            what = (f"{a.balanced} processes behind HAProxy" if a.balanced else "one server") if a.url is None else url
            print(f"{what} holds {held} sessions at p95 <= {GOAL_P95:.1f} s with 0 errors "
                  f"(steps {a.steps}; the load generator shares the machine)")
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        if proc is not None:
            server_errors += _stop(proc)
        if server_errors:
            print(f"server logs: {server_errors} tracebacks in all (see the lines above)")


if __name__ == "__main__":
    main()
