"""What one rerun of a page costs a real server, this checkout against another commit, in the same
run: the server's CPU per rerun (all its threads, from /proc) and the rerun's latency as the
browser sees it (sending the rerun to receiving script_finished).

bench_reruns.py measures the page scripts under AppTest, which has no server: it cannot see what
Streamlit does around a run (new-session message, handing each element from the script's thread
to the event loop, the websocket). Here each checkout runs `streamlit run app.py` (its own
.streamlit/config.toml); after one visit to every page (as deploy/run_balanced.sh warms a
process) and once the server's start-up work has settled, one protocol-level session
(benchmarks/loadgen.py) opens each page and reruns it --reruns times; the checkouts alternate,
--rounds rounds each; medians printed.

    CNNVIZ_DATA=../shared/data .venv/bin/python benchmarks/bench_server_runs.py --before 0ee5305 [--pages convolution,home]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
import _checkout  # noqa: E402
import bench_load  # noqa: E402
import loadgen  # noqa: E402

from cnnviz.ui import preload  # noqa: E402

PAGES = ["home", "convolution", "pooling", "network"]


async def _measure(url: str, pid: int, pages: list[str], reruns: int) -> dict[str, tuple[float, float]]:
    out = {}
    for page in pages:
        s = loadgen.StreamlitSession(url, 0, run_timeout=300)
        try:
            run = await s.open("/" + page)
            assert run.ok, run.errors + run.exceptions
            for _ in range(3):
                await s.rerun()                      # caches warm
            cpu0, latencies = loadgen.cpu_seconds(pid), []
            for _ in range(reruns):
                run = await s.rerun()
                assert run.ok, run.errors + run.exceptions
                latencies.append(run.latency)
            out[page] = (1000 * (loadgen.cpu_seconds(pid) - cpu0) / reruns, 1000 * statistics.median(latencies))
        finally:
            await s.close()
    return out


def measure(checkout: pathlib.Path, pages: list[str], reruns: int) -> dict[str, tuple[float, float]]:
    """(server CPU ms per rerun, median latency ms) per page, on a fresh server of `checkout`."""
    proc, url = loadgen.serve(checkout / "app.py", cwd=checkout)
    try:
        asyncio.run(loadgen.warm_up(url))    # every page once: TensorFlow, the networks, the preload
        time.sleep(preload.MOST_WAIT_SECONDS + preload.DELAY_SECONDS)   # the shared work has begun
        bench_load.settle([proc.pid])
        return asyncio.run(_measure(url, proc.pid, pages, reruns))
    finally:
        loadgen.stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="the commit to compare with (or a checkout's folder)")
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--reruns", type=int, default=40)
    a = ap.parse_args()
    if os.environ.get("CNNVIZ_DATA"):      # the servers run in the checkouts' folders
        os.environ["CNNVIZ_DATA"] = str(pathlib.Path(os.environ["CNNVIZ_DATA"]).resolve())
    pages = a.pages.split(",")
    results = _checkout.alternate(a.before, a.rounds, lambda checkout: measure(checkout, pages, a.reruns),
                                  say_rounds=True)
    print(f"A rerun through a real server, medians of {a.rounds} rounds x {a.reruns} reruns; "
          f"before = {a.before}, now = this checkout")
    for page in pages:
        (b_cpu, b_lat), (n_cpu, n_lat) = ([statistics.median(f[i] for f in results[k][page]) for i in (0, 1)]
                                          for k in ("before", "now"))
        print(f"  /{page:<12} server CPU before {b_cpu:6.1f} ms  now {n_cpu:6.1f} ms  ({b_cpu / n_cpu:4.2f}x);"
              f"  latency before {b_lat:6.1f} ms  now {n_lat:6.1f} ms  ({b_lat / n_lat:4.2f}x)")


if __name__ == "__main__":
    main()
