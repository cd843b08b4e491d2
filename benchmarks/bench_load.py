"""Many visitors at once, at the protocol level: rerun latency per page, errors, capacity.

First (when it starts the server) a cold start: 18 visitors open the pages of the freshly started
server at the same moment, as a class following one link; its errors are printed.

Goal (issue E): 20 concurrent sessions on one server for 60 s, each acting every 2-3 s as a
person would (pages, widgets, layer steps): 0 errors and p95 rerun latency <= 1 s. Then the
session count is stepped to find how many sessions one server holds at p95 <= 1 s.

The visitors are benchmarks/loadgen.py (Streamlit's own websocket protocol, loopback only). They
run in this process and share the machine with the server: their CPU time is printed too. Each
capacity step gets a freshly started, warmed server (when this script starts the server).

Usage:
  python benchmarks/bench_load.py                       # starts `streamlit run app.py` itself
  python benchmarks/bench_load.py --url http://127.0.0.1:8080 --sticky-cookie CNNVIZ_BACKEND
                                                        # an existing server or balancer
  options: --sessions 20 --duration 60 --steps 10,20,30,40,60,80 --step-duration 30 --no-steps
"""
from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import loadgen  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOAL_P95 = 1.0


def _server_line(pid: int | None, cpu0: float, t0: float) -> str:
    if pid is None:
        return ""
    busy = (loadgen.cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0)
    return f"server: {busy * 100:.0f}% of one core on average ({os.cpu_count()} cores), RSS {loadgen.rss_mb(pid):.0f} MB"


def _retire(proc) -> int:
    """Stop a server this script started; print the errors its log holds; their number."""
    tail = loadgen.log_tail(proc, 2_000_000)
    loadgen.stop(proc)
    n = tail.count("Traceback")
    if n:
        lines = [ln for ln in tail.splitlines() if "Error" in ln and not ln.startswith(("I0000", "W0000"))]
        print(f"server log: {n} tracebacks; last error lines:\n" + "\n".join(lines[-5:]))
    return n


def run(url: str, pid: int | None, sessions: int, duration: float, seed: int, sticky: str | None):
    cpu0 = loadgen.cpu_seconds(pid) if pid else 0.0
    t0 = time.perf_counter()
    rep = asyncio.run(loadgen.run_crowd(url, sessions, duration, seed=seed, sticky_cookie=sticky))
    return rep, _server_line(pid, cpu0, t0)


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
    a = ap.parse_args()

    proc = None
    url = a.url
    app = pathlib.Path(a.app).resolve()
    if url is None:
        proc, url = loadgen.serve(app, app.parent)
    pid = proc.pid if proc else None
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
        for w in (a.warm.split(",") if a.warm else [url]):
            warm += asyncio.run(loadgen.warm_up(w))
        bad = [e for r in warm for e in r.errors + r.exceptions]
        print(f"warm-up (every page once, one layer step): {time.perf_counter() - t:.1f} s"
              + (f", errors: {bad}" if bad else ""))
        if pid:
            print(f"server RSS after warm-up: {loadgen.rss_mb(pid):.0f} MB")

        rep, server = run(url, pid, a.sessions, a.duration, a.seed, a.sticky_cookie)
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
                    server_errors += _retire(proc)
                    proc = None
                    proc, url = loadgen.serve(app, app.parent)
                    pid = proc.pid
                    asyncio.run(loadgen.warm_up(url))
                    time.sleep(5)
                else:
                    time.sleep(10)
                r, server = run(url, pid, n, a.step_duration, a.seed + n, a.sticky_cookie)
                ok = r.p(.95) <= GOAL_P95 and not r.errors()
                print(f"{n:>9}{len(r.finished()):>8}{r.p(.5) * 1000:>9.0f}{r.p(.95) * 1000:>9.0f}"
                      f"{len(r.errors()):>8}  {server}", flush=True)
                if ok:
                    held = n
                if r.p(.95) > 3 * GOAL_P95:      # far past the goal: larger crowds only take longer
                    break
            what = "one server" if a.url is None else url
            print(f"{what} holds {held} sessions at p95 <= {GOAL_P95:.1f} s with 0 errors "
                  f"(steps {a.steps}; the load generator shares the machine)")
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        if proc is not None:
            server_errors += _retire(proc)
        if server_errors:
            print(f"server logs: {server_errors} tracebacks in all (see the lines above)")


if __name__ == "__main__":
    main()
