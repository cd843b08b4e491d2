"""The server's CPU per rerun of a page that changed nothing it shows (what every other view of a
page costs when one view changes, and what a visitor's rerun costs when the pictures are the
same as the last visitor's), this checkout against another commit, in the same run.

Each checkout runs in its own process (AppTest, the real page scripts); the process's CPU time
is measured per rerun (steadier than wall time on a busy machine; the script thread does almost
all of it: Streamlit's _run_script is not wrapped, cnnviz.compat checks it); the two
checkouts alternate, --rounds times, each round --reruns reruns per page; medians printed.

    CNNVIZ_DATA=../shared/data .venv/bin/python benchmarks/bench_reruns.py --before b75ad7e [--pages home,pooling]
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import _checkout  # noqa: E402

PAGES = ["home", "pooling", "convolution", "network"]

CHILD = r"""
import json, pathlib, sys, statistics, time
root = pathlib.Path(sys.argv[1]); pages = sys.argv[2].split(","); reruns = int(sys.argv[3])
sys.path.insert(0, str(root))
from streamlit.testing.v1 import AppTest
out = {}
for page in pages:
    at = AppTest.from_file(str(root / "app.py"), default_timeout=300)
    at.run()
    if page != "home":
        at.switch_page(f"cnnviz/ui/pages/{page}.py").run()
    at.run()                                           # caches warm
    assert not at.exception, [e.message for e in at.exception]
    times = []
    for _ in range(reruns):
        t = time.process_time()
        at.run()
        times.append((time.process_time() - t) * 1000)
    out[page] = statistics.median(times)
print("RESULT " + json.dumps(out))
"""


def measure(checkout: pathlib.Path, pages: list[str], reruns: int) -> dict:
    env = dict(os.environ)
    if env.get("CNNVIZ_DATA"):           # the children run in the checkouts' folders
        env["CNNVIZ_DATA"] = str(pathlib.Path(env["CNNVIZ_DATA"]).resolve())
    done = subprocess.run([sys.executable, "-c", CHILD, str(checkout), ",".join(pages), str(reruns)],
                          capture_output=True, text=True, timeout=1800, cwd=checkout, env=env)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if not line:
        raise RuntimeError(f"{checkout}: no result\n{done.stderr[-3000:]}")
    return json.loads(line[-1][7:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="the commit to compare with")
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reruns", type=int, default=7)
    a = ap.parse_args()
    pages = a.pages.split(",")
    results = _checkout.alternate(a.before, a.rounds, lambda checkout: measure(checkout, pages, a.reruns))
    print(f"CPU per rerun that changes nothing shown, medians of {a.rounds} rounds x "
          f"{a.reruns} reruns; before = {a.before}, now = this checkout")
    for page in pages:
        b, n = statistics.median(results["before"][page]), statistics.median(results["now"][page])
        print(f"  /{page:<12} before {b:7.1f} ms   now {n:7.1f} ms   ratio {b / n:4.2f}x")


if __name__ == "__main__":
    main()
