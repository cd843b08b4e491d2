"""Soak: one visitor, 500 reruns changing widgets on every page; the server's memory over time.

Goal (issue E): RSS growth <= 50 MB over the 500 reruns (measured from after a warm-up that opens
every page once and picks every network once: TensorFlow and the networks are loaded once per
process and kept on purpose; the soak looks for what grows after that).

Prints the server's RSS (VmRSS from /proc) at the start, every 50 reruns and at the end, the
growth, and the slope over the second half (a leak keeps climbing; filling caches level off).
Usage: python benchmarks/bench_soak.py [--reruns 500] [--every 50] [--app path/to/app.py]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import random
import sys
import time
from collections import Counter

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import loadgen  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOAL_MB = 50.0
PER_PAGE = 10          # reruns on a page (one of them the visit) before moving on


async def load_every_network(url: str) -> list[str]:
    """Pick each network once on /network: each is loaded once per process and kept (by design),
    so its memory belongs to the warm-up, not to the growth the soak looks for."""
    s = loadgen.StreamlitSession(url, -2, run_timeout=180)
    await s.open("/network")
    w = s.find("net_model")
    names = w.options() if w is not None else []
    for name in names:
        await s.set(s.find("net_model"), name)
    await s.close()
    return names


async def soak(url: str, pid: int, reruns: int, every: int, seed: int) -> dict:
    rng = random.Random(seed)
    s = loadgen.StreamlitSession(url, 0, run_timeout=120)
    samples = [(0, loadgen.rss_mb(pid))]
    print(f"{'reruns':>7}{'RSS MB':>9}{'vs start':>10}{'page':>14}{'p50 ms':>8}  (last {every})", flush=True)
    print(f"{0:>7}{samples[0][1]:>9.0f}{0:>+10.0f}", flush=True)
    await s.open("/")
    n = 1
    pages = [p for p in loadgen.PAGE_ORDER if p in s.pages]
    window: list[float] = []
    while n < reruns:
        page = pages[(n // PER_PAGE) % len(pages)]
        if s.page.strip("/") != page:
            r = await s.goto(page)
        else:
            r = await loadgen.act(s, rng, p_page=0.0, p_sample=0.03)
        n += 1
        if r.latency is not None:
            window.append(r.latency)
        if n % every == 0 or n == reruns:
            rss = loadgen.rss_mb(pid)
            samples.append((n, rss))
            window.sort()
            p50 = window[len(window) // 2] * 1000 if window else float("nan")
            print(f"{n:>7}{rss:>9.0f}{rss - samples[0][1]:>+10.0f}{s.page:>14}{p50:>8.0f}", flush=True)
            window = []
    await s.close()
    return {"samples": samples, "results": s.results}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reruns", type=int, default=500)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--app", default=str(ROOT / "app.py"), help="the app to start (default: this checkout's)")
    a = ap.parse_args()
    app = pathlib.Path(a.app).resolve()
    proc, url = loadgen.serve(app, app.parent)
    try:
        print(f"soak of {url}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        rss0 = loadgen.rss_mb(proc.pid)
        t = time.perf_counter()
        asyncio.run(loadgen.warm_up(url))
        time.sleep(5)   # let the background TensorFlow preload settle
        rss1 = loadgen.rss_mb(proc.pid)
        nets = asyncio.run(load_every_network(url))
        print(f"server RSS: {rss0:.0f} MB fresh, {rss1:.0f} MB after every page once, "
              f"{loadgen.rss_mb(proc.pid):.0f} MB with every network loaded ({len(nets)}) "
              f"({time.perf_counter() - t:.0f} s of warm-up)")
        t = time.perf_counter()
        out = asyncio.run(soak(url, proc.pid, a.reruns, a.every, a.seed))
        res = out["results"]
        samples = out["samples"]
        errors = [f"{r.page} {r.action}: {e}" for r in res for e in r.errors + r.exceptions]
        start, end = samples[0][1], samples[-1][1]
        peak = max(v for _, v in samples)
        half = [x for x in samples if x[0] >= samples[-1][0] / 2]
        slope = ((half[-1][1] - half[0][1]) / (half[-1][0] - half[0][0]) * 100
                 if len(half) > 1 and half[-1][0] > half[0][0] else float("nan"))
        pages = Counter(r.page for r in res)
        print(f"\n{len(res)} reruns in {time.perf_counter() - t:.0f} s over {dict(pages)}")
        print(f"errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors[:5]))
        print(f"RSS start {start:.0f} MB, end {end:.0f} MB, peak {peak:.0f} MB: growth {end - start:+.0f} MB "
              f"(goal <= {GOAL_MB:.0f} MB: {'MET' if end - start <= GOAL_MB else 'NOT MET'}); "
              f"second half {slope:+.1f} MB per 100 reruns")
        by = Counter()
        for r in res:
            by[(r.page, r.action.split("=")[0].split(":")[0])] += 1
        print("most frequent actions:", ", ".join(f"{p} {a} ×{c}" for (p, a), c in by.most_common(12)))
    finally:
        loadgen.stop(proc)


if __name__ == "__main__":
    main()
