"""Many visitors at once, at the protocol level: rerun latency per page, errors, capacity.

A run (repeated --repeat times, each on a freshly started server, then the medians printed):
1. the cold start (when this script starts the server): --cold visitors open the pages of the
   fresh server at the same moment, as a class following one link (p50 and slowest open);
2. warm-up and settle: one visitor opens every page, then the servers' start-up work finishes
   (as in a lesson whose server was started before the class);
3. the main run: --sessions visitors for --duration s, each acting every 2-3 s; optionally
   (--train) one more visitor on /train keeps one training job running all the time (the
   /train worker process, one job after another), as when a teacher trains during the lesson.
Then (unless --no-steps) the sessions curve: a fresh, warmed server per step, --steps visitors
counts, --step-duration s each (--full-curve: every step, even past p95 3 s).

The action mix (benchmarks/loadgen.py, `act`, documented there in full), what a class following
the lesson does: every 2-3 s a visitor moves on to the next page of the lesson (probability 0.2,
one move in five to a random page), picks another sample picture (0.04), or changes one widget
of its page: every enabled slider, select box, radio, checkbox, number box, segmented control,
multiselect and button of every page of the lesson (Home, /lesson, /convolution, /activations,
/pooling, /conv1d, /more-convolutions, /network), the ones the lesson asks people to play with
weighted 2-8 (loadgen.FAVOURITES: the layer steps on /network 8, the stride and kernel on
/convolution 4, ...), every other one 1; on /network that includes choosing another network,
the SmoothGrad and occlusion settings, the channel view's layer and channel and its grid and
test-image buttons. Not in the mix: uploads, the camera and drawing (a protocol client cannot do
them as a person would), typed text, timers (play) and /train, whose one heavy action starts a
training job in a worker process: --train adds one such visitor; the live-class pages (/class)
are measured by their own benchmark.

Goals (issue P): 30 sessions on one 2-core machine, 0 errors, p50 <= 100 ms, p95 <= 1.0 s, no
click over 2 s, /_stcore/health p95 <= 100 ms; with a training job p95 <= 1.5 s; 30 visitors
opening a fresh server: p50 <= 2 s, every first page within 5 s; 60 sessions on 2 processes +
HAProxy: p95 <= 1.5 s.

The visitors are benchmarks/loadgen.py (Streamlit's own websocket protocol, loopback only). They
run in this process and share the machine with the server: their CPU time is printed too.

Usage (the final measurement of issue P, on a quiet 2-core machine; docs/deploy.md §6):
  python benchmarks/bench_load.py --balanced 2 --sessions 30 --duration 40 --cold 30 --repeat 3 --no-steps
  python benchmarks/bench_load.py --balanced 2 --sessions 30 --duration 40 --cold 0 --repeat 3 --no-steps --train
  python benchmarks/bench_load.py --balanced 2 --sessions 60 --duration 40 --cold 0 --repeat 3 --no-steps
  python benchmarks/bench_load.py --balanced 2 --cold 0 --repeat 1 --sessions 10 --duration 15 \
      --steps 10,20,30,45,60,75,90 --step-duration 30 --full-curve
  python benchmarks/bench_load.py --sessions 30 --duration 40 --cold 30 --repeat 3 --no-steps   # one process
  other: --url http://127.0.0.1:8080 --sticky-cookie CNNVIZ_BACKEND (an existing server or
  balancer), --data DIR (CNNVIZ_DATA for the servers started: /train's and the test set's data)
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


async def _keep_training(url: str, stop: asyncio.Event, jobs: list) -> None:
    """One visitor on /train starting a training job whenever the last one has finished."""
    from bench_train_server import open_trainer, train_once
    s = await open_trainer(url)
    try:
        while not stop.is_set():
            jobs.append(await train_once(s, timeout=600))
    finally:
        await s.close()


async def _crowd(url: str, sessions: int, duration: float, seed: int, sticky: str | None, train: bool):
    jobs: list[float] = []
    stop = asyncio.Event()
    trainer = asyncio.create_task(_keep_training(url, stop, jobs)) if train else None
    if trainer is not None:
        await asyncio.sleep(10)           # the job is training before the crowd comes (its worker
        #                                   process imports TensorFlow first)
    try:
        return await loadgen.run_crowd(url, sessions, duration, seed=seed, sticky_cookie=sticky), jobs
    finally:
        stop.set()
        if trainer is not None:
            trainer.cancel()
            try:
                await trainer
            except (asyncio.CancelledError, Exception) as e:   # noqa: BLE001 (a cancelled job)
                if not isinstance(e, asyncio.CancelledError):
                    print(f"training visitor: {type(e).__name__}: {e}")


def _children(pids: list[int]) -> list[int]:
    """The processes the servers started (training workers), from /proc."""
    out = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent in pids:
                out.append(int(entry.name))
    return out


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += loadgen.cpu_seconds(pid)
        except OSError:          # a worker that has ended
            pass
    return total


def run(url: str, pids: list[int], sessions: int, duration: float, seed: int, sticky: str | None,
        train: bool = False):
    cpu0 = sum(map(loadgen.cpu_seconds, pids))
    workers0 = _cpu(_children(pids))
    t0 = time.perf_counter()
    rep, jobs = asyncio.run(_crowd(url, sessions, duration, seed, sticky, train))
    line = _server_line(pids, cpu0, t0)
    if train:
        busy = (_cpu(_children(pids)) - workers0) / (time.perf_counter() - t0)
        line += (f"; training worker processes: {busy * 100:.0f}% of one core, "
                 f"jobs finished during the run: {len(jobs)}")
    return rep, line


def _start(app: pathlib.Path, balanced: int):
    """A fresh server (or `balanced` processes behind HAProxy): (handle, url, pids, warm-up URLs)."""
    if balanced:
        b = Balanced(app, balanced)
        return b, b.url, b.pids, b.backend_urls
    proc, url = loadgen.serve(app, app.parent)
    return proc, url, [proc.pid], [url]


def _stop(handle) -> int:
    return handle.stop() if isinstance(handle, Balanced) else _retire(handle)


def _health(rep) -> tuple[float, float]:
    h = sorted(rep.health) or [float("nan")]
    return h[int(.95 * (len(h) - 1))], h[-1]


def one_run(a, app: pathlib.Path, k: int) -> dict:
    """Cold start, warm-up, settle and the main run on a fresh server (or on --url): figures."""
    figures: dict = {}
    handle, url, pids, warm_urls = (None, a.url, [], None) if a.url else _start(app, a.balanced)
    if a.warm:
        warm_urls = a.warm.split(",")
    try:
        print(f"\n=== run {k + 1} of {a.repeat}: {url} on {os.cpu_count()} cores; load average before: "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        if handle is not None and a.cold:
            cold = asyncio.run(loadgen.cold_crowd(url, a.cold))
            lat = sorted(r.latency for r in cold if r.latency is not None) or [float("nan")]
            bad = [f"{r.page}: {(r.errors + r.exceptions)[0][:90]}" for r in cold if not r.ok]
            figures.update(cold_p50=lat[len(lat) // 2], cold_max=lat[-1], cold_errors=len(bad))
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
            print(f"start-up work settled after {settle(pids):.0f} s more; RSS then "
                  f"{', '.join(f'{loadgen.rss_mb(p):.0f}' for p in pids)} MB")
        rep, server = run(url, pids, a.sessions, a.duration, a.seed + k, a.sticky_cookie, a.train)
        print()
        loadgen.print_report(rep, "MAIN RUN: ")
        if server:
            print(server)
        print("slowest actions (median):\n" + rep.slowest_actions(10))
        fin = rep.finished()
        figures.update(errors=len(rep.errors()), p50=rep.p(.5), p95=rep.p(.95),
                       max=max((r.latency for r in fin), default=float("nan")),
                       health_p95=_health(rep)[0], health_max=_health(rep)[1],
                       rss=[loadgen.rss_mb(p) for p in pids])
    finally:
        if handle is not None:
            figures["server_errors"] = _stop(handle)
    return figures


def _medians(runs: list[dict], a) -> None:
    import statistics

    def med(key, unit=1.0, fmt="{:.0f}"):
        vals = [r[key] for r in runs if key in r]
        if not vals:
            return "-"
        return fmt.format(statistics.median(vals) * unit) + "  (" + ", ".join(fmt.format(v * unit) for v in vals) + ")"
    print(f"\n=== medians of {len(runs)} runs: {a.sessions} sessions, {a.duration:.0f} s"
          + (", a training job running" if a.train else "")
          + (f", {a.balanced} processes + HAProxy" if a.balanced else ", one process" if not a.url else ""))
    goal95 = 1.5 if a.train or a.sessions > 30 else GOAL_P95
    print(f"errors             {med('errors')}   goal 0")
    print(f"p50 per click, ms  {med('p50', 1000)}   goal <= 100")
    print(f"p95 per click, ms  {med('p95', 1000)}   goal <= {goal95 * 1000:.0f}")
    print(f"slowest click, ms  {med('max', 1000)}   goal <= 2000")
    print(f"health p95, ms     {med('health_p95', 1000)}   goal <= 100")
    if any("cold_p50" in r for r in runs):
        print(f"cold start p50, s  {med('cold_p50', 1, '{:.1f}')}   goal <= 2")
        print(f"cold start max, s  {med('cold_max', 1, '{:.1f}')}   goal <= 5")
    rss = [max(r["rss"]) for r in runs if r.get("rss")]
    if rss:
        print(f"largest RSS, MB    {statistics.median(rss):.0f}  ({', '.join(f'{v:.0f}' for v in rss)})")


def curve(a, app: pathlib.Path) -> None:
    """Sessions vs p95, a fresh warmed server per step (or --url)."""
    print(f"\nsessions curve: {a.step_duration:.0f} s per step"
          + (", a training job running" if a.train else ""))
    print(f"{'sessions':>9}{'reruns':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'errors':>8}  server")
    held, server_errors = 0, 0
    for n in [int(x) for x in a.steps.split(",")]:
        handle, url, pids, warm_urls = (None, a.url, [], [a.url]) if a.url else _start(app, a.balanced)
        try:
            # a fresh, warmed server per step: runs a crowd leaves behind (a queued slow
            # experiment keeps running after its visitor has gone) must not load the next
            for w in warm_urls:
                asyncio.run(loadgen.warm_up(w))
            settle(pids)
            time.sleep(5)
            r, server = run(url, pids, n, a.step_duration, a.seed + n, a.sticky_cookie, a.train)
        finally:
            if handle is not None:
                server_errors += _stop(handle)
        fin = r.finished()
        print(f"{n:>9}{len(fin):>8}{r.p(.5) * 1000:>9.0f}{r.p(.95) * 1000:>9.0f}"
              f"{max((x.latency for x in fin), default=float('nan')) * 1000:>9.0f}"
              f"{len(r.errors()):>8}  {server}", flush=True)
        if r.p(.95) <= GOAL_P95 and not r.errors():
            held = n
        if r.p(.95) > 3 * GOAL_P95 and not a.full_curve:   # far past the goal: larger crowds only take longer
            print("(stopped: p95 past 3 s; --full-curve runs every step)")
            break
    what = (f"{a.balanced} processes behind HAProxy" if a.balanced else "one server") if a.url is None else a.url
    print(f"{what} holds {held} sessions at p95 <= {GOAL_P95:.1f} s with 0 errors "
          f"(steps {a.steps}; the load generator shares the machine)")
    if server_errors:
        print(f"server logs: {server_errors} tracebacks in the curve's servers")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="load this server (loopback) instead of starting one")
    ap.add_argument("--app", default=str(ROOT / "app.py"), help="the app to start (default: this checkout's)")
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--duration", type=float, default=40)
    ap.add_argument("--repeat", type=int, default=1, help="main runs, each on a fresh server; medians printed")
    ap.add_argument("--steps", default="10,20,30,45,60,75,90", help="session counts for the sessions curve")
    ap.add_argument("--step-duration", type=float, default=30)
    ap.add_argument("--no-steps", action="store_true", help="no sessions curve")
    ap.add_argument("--full-curve", action="store_true", help="every step, even past p95 3 s")
    ap.add_argument("--cold", type=int, default=30,
                    help="first, this many visitors open the pages at once on the fresh server (0: skip)")
    ap.add_argument("--train", action="store_true",
                    help="one more visitor keeps a training job running on /train during the runs")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"),
                    help="CNNVIZ_DATA for the servers this starts (when that folder exists)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sticky-cookie", default=None, help="a balancer's stickiness cookie, to count backends")
    ap.add_argument("--warm", default=None,
                    help="comma-separated URLs to warm up first (behind a balancer: each backend's own URL)")
    ap.add_argument("--balanced", type=int, default=0,
                    help="start deploy/run_balanced.sh with this many processes instead of one server")
    a = ap.parse_args()
    app = pathlib.Path(a.app).resolve()
    if a.balanced:
        a.sticky_cookie = a.sticky_cookie or "CNNVIZ_BACKEND"
    if a.data and pathlib.Path(a.data).is_dir() and "CNNVIZ_DATA" not in os.environ:
        os.environ["CNNVIZ_DATA"] = str(pathlib.Path(a.data).resolve())
    t0 = time.perf_counter()
    runs = [one_run(a, app, k) for k in range(a.repeat)] if a.repeat > 0 else []
    if runs:
        _medians(runs, a)
    if not a.no_steps:
        curve(a, app)
    errors = sum(r.get("server_errors", 0) for r in runs)
    if errors:
        print(f"server logs: {errors} tracebacks in all (see the lines above)")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"{(time.perf_counter() - t0) / 60:.1f} min in all")


if __name__ == "__main__":
    main()
