"""Training inside a real server: other pages while a job trains, a crowd with training in the
mix, and the server's memory after many trainings. Prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_train_server.py --data ../shared/data [--trainings 20]

It starts `streamlit run app.py` (CNNVIZ_DATA=--data, CNNVIZ_TRAIN_STEPS=300 so a job lasts a
few seconds) and drives it with benchmarks/loadgen.py (Streamlit's own protocol):

1. /convolution reruns (a stride change) of one visitor: median while idle (the reference),
   then while another visitor's job trains (goal: within 2x);
2. a crowd of 20 visitors for 40 s on the lesson pages, once without and once with a visitor
   training one job after another (E's goal: 0 errors, p95 <= 1 s);
3. the server process's RSS after the first training and after --trainings more, each started
   with Start and watched to its end by reruns, as a page does (goal: within 50 MB).
The training worker processes are not the server: they are replaced after every job.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import loadgen  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent


async def open_trainer(url: str) -> loadgen.StreamlitSession:
    s = loadgen.StreamlitSession(url, 900, run_timeout=120)
    await s.open("/train")
    return s


async def train_once(s: loadgen.StreamlitSession, timeout: float = 180) -> float:
    """Start a job and watch it as the browser does: rerun the live fragment every time it asks
    (`st.fragment(run_every=...)`), until the finished run's results are on the page."""
    t = time.perf_counter()
    await s.click(s.find("train_start"))
    end = t + timeout
    while time.perf_counter() < end:
        if "The trained network" in s.text():
            return time.perf_counter() - t
        if s.auto_reruns:
            fragment, every = next(iter(s.auto_reruns.items()))
            await asyncio.sleep(every)
            await s.rerun_fragment(fragment)
        else:                     # queued behind another job: the page has no live view yet
            await asyncio.sleep(0.5)
            await s.rerun()
    raise RuntimeError("the training job did not finish in time:\n" + s.text()[-800:])


async def conv_reruns(url: str, n: int) -> list[float]:
    s = loadgen.StreamlitSession(url, 901)
    await s.open("/convolution")
    stride = s.find("conv_stride")
    times = []
    for i in range(n):
        r = await s.set(stride, [2 - i % 2])   # a slider holds a list
        times.append(r.latency)
        await asyncio.sleep(0.3)
    await s.close()
    return times


async def while_training(url: str, work):
    """Run `work` while a visitor trains job after job; returns work's result and the jobs done."""
    trainer = await open_trainer(url)
    done = 0
    stop = asyncio.Event()

    async def keep_training():
        nonlocal done
        while not stop.is_set():
            await train_once(trainer)
            done += 1
            await trainer.click(trainer.find("train_reset"))

    task = asyncio.create_task(keep_training())
    await asyncio.sleep(4)           # the first job is under way
    try:
        result = await work()
    finally:
        stop.set()
        await task
        await trainer.close()
    return result, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="a folder holding mnist.npz")
    ap.add_argument("--trainings", type=int, default=20)
    ap.add_argument("--reruns", type=int, default=15)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--duration", type=float, default=40)
    a = ap.parse_args()
    os.environ.update(CNNVIZ_DATA=str(pathlib.Path(a.data).resolve()), CNNVIZ_TRAIN_STEPS="300")
    proc, url = loadgen.serve(ROOT / "app.py", ROOT)
    med = statistics.median
    try:
        asyncio.run(loadgen.warm_up(url))
        print(f"server {url} on {os.cpu_count()} cores, RSS after warm-up {loadgen.rss_mb(proc.pid):.0f} MB")

        idle = asyncio.run(conv_reruns(url, a.reruns))
        busy, jobs = asyncio.run(while_training(url, lambda: conv_reruns(url, a.reruns)))
        print(f"/convolution rerun: idle median {med(idle) * 1000:.0f} ms, while a job trains "
              f"{med(busy) * 1000:.0f} ms: {med(busy) / med(idle):.2f}x (goal <= 2x; {jobs} jobs ran)")

        quiet = asyncio.run(loadgen.run_crowd(url, a.sessions, a.duration, seed=3))
        mixed, jobs = asyncio.run(while_training(
            url, lambda: loadgen.run_crowd(url, a.sessions, a.duration, seed=3)))
        for name, rep in (("without training", quiet), (f"with training ({jobs} jobs)", mixed)):
            print(f"crowd of {a.sessions} for {a.duration:.0f} s {name}: {len(rep.finished())} reruns, "
                  f"{len(rep.errors())} errors, p50 {rep.p(.5) * 1000:.0f} ms, p95 {rep.p(.95) * 1000:.0f} ms")

        async def many():
            s = await open_trainer(url)
            await train_once(s)
            await s.click(s.find("train_reset"))
            first = loadgen.rss_mb(proc.pid)
            seconds = []
            for _ in range(a.trainings):
                seconds.append(await train_once(s))
                await s.click(s.find("train_reset"))
            await s.close()
            return first, loadgen.rss_mb(proc.pid), seconds

        first, last, seconds = asyncio.run(many())
        print(f"server RSS after the first training {first:.0f} MB, after {a.trainings} more "
              f"{last:.0f} MB: {last - first:+.0f} MB (goal: within 50 MB); "
              f"median job {med(seconds):.1f} s from Start to its result")
    finally:
        tail = loadgen.log_tail(proc, 2_000_000)
        loadgen.stop(proc)
        if "Traceback" in tail:
            print(f"server log: {tail.count('Traceback')} tracebacks")


if __name__ == "__main__":
    main()
