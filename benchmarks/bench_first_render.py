"""First render in headless Chromium, Home and /convolution, against a one-line app in the same run.

Goal (issue E): a new visitor on a running (warmed) server <= 1.2x the one-line app
(`st.write("hello")`); the first visitor of a freshly started server <= 1.5x.

A third page, same_elements_home.py, has Home's Streamlit elements and none of cnnviz's code;
"Home / vs Home's elements" says how much of Home's time is cnnviz's own.

"Rendered" = from navigation until the page's main content is visible (its main picture loaded
and its main figure drawn: Home's grid of pixel values; /convolution's feature map and the
step-through sum; for the one-line app, the "hello") and
`[data-testid=stApp][data-test-script-state=notRunning]`. Every visit uses a new browser context
(empty cache and cookies: a new visitor). Runs alternate between the apps so that the machine's
noise hits them alike; medians are printed with every run's value.

Usage: python benchmarks/bench_first_render.py [--rounds 7] [--fresh-rounds 5] [--app path/to/app.py]
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _browser import READY, launch  # noqa: E402  (Debian's Chromium, the tests' arguments)
import loadgen  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
ONE_LINE = 'import streamlit as st\n\nst.write("hello")\n'
MAIN = "[data-testid=stMain]"
PICTURE = f"{MAIN} [data-testid=stImage] img"
FEATURE_MAP = f"{MAIN} [data-testid=stImage] img >> nth=1"   # /convolution's map (a picture)
WINDOW_SUM = f"{MAIN} .cnnviz-grids td"                        # /convolution's step-through numbers
HEADING = f"{MAIN} :is(h1, h2)"
PIXEL_VALUES = f"{MAIN} [data-testid=stImage] img >> nth=1"   # Home's grid of numbers (a picture)
TARGETS = {   # name: (path, milestones: (name, selector) in the order they are awaited)
    "one-line app": ("/", [("hello", f"{MAIN} [data-testid=stMarkdownContainer] >> text=hello")]),
    "Home /": ("/", [("heading", HEADING), ("picture", PICTURE), ("pixel values", PIXEL_VALUES)]),
    "Home's elements": ("/", [("heading", HEADING), ("picture", PICTURE), ("pixel values", PIXEL_VALUES)]),
    "/convolution": ("/convolution", [("heading", HEADING), ("picture", PICTURE), ("feature map", FEATURE_MAP),
                                      ("step-through sum", WINDOW_SUM)]),
}
GOALS = {"warm": 1.2, "fresh": 1.5}
SAME = "Home's elements"
IMAGES_LOADED = """() => {
  const imgs = [...document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')];
  return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
}"""


MILESTONES: dict[str, dict[str, list[float]]] = {}   # target -> milestone -> ms, warm server


def render_ms(browser, url: str, milestones, timeout: float = 90_000, record: str | None = None) -> float:
    """ms from navigation until every milestone is visible (pictures loaded) and the script is done."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(url)
        at = {}
        for name, sel in milestones:
            page.locator(sel).first.wait_for(state="visible", timeout=timeout)
            if "stImage" in sel:
                page.wait_for_function(IMAGES_LOADED, timeout=timeout)
            at[name] = (time.perf_counter() - start) * 1000
        page.wait_for_selector(READY, timeout=timeout)
        elapsed = (time.perf_counter() - start) * 1000
        if page.locator("[data-testid=stException]").count():
            raise RuntimeError(f"{url}: the page shows an exception")
        if record:
            for name, ms in at.items():
                MILESTONES.setdefault(record, {}).setdefault(name, []).append(ms)
        return elapsed
    finally:
        context.close()


def wait_until_idle(pid: int, quiet_s: float = 0.05, timeout: float = 90.0) -> float:
    """Wait until the server process uses under `quiet_s` CPU seconds per second (its background
    TensorFlow preload done): "a running server" is an idle one. Returns the seconds waited."""
    tick = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    start = time.perf_counter()
    last = cpu()
    while time.perf_counter() - start < timeout:
        time.sleep(1.0)
        now = cpu()
        if now - last < quiet_s:
            break
        last = now
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="new visitors per target on warmed servers")
    ap.add_argument("--fresh-rounds", type=int, default=5, help="freshly started servers per target")
    ap.add_argument("--app", default=str(ROOT / "app.py"), help="the app (default: this checkout's)")
    a = ap.parse_args()
    app = pathlib.Path(a.app).resolve()
    times: dict[str, dict[str, list[float]]] = {"warm": {}, "fresh": {}}
    print(f"first render, headless Chromium; {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        ref_app = pathlib.Path(tmp) / "one_line.py"
        ref_app.write_text(ONE_LINE)
        same = ROOT / "benchmarks" / "same_elements_home.py"   # served with the app's settings
        scripts = {"one-line app": (ref_app, pathlib.Path(tmp)), "Home /": (app, app.parent),
                   SAME: (same, app.parent), "/convolution": (app, app.parent)}
        browser = launch(p)

        # (a) new visitors on running servers, warmed by one visit to each target first
        servers = {"app": loadgen.serve(app, app.parent), "ref": loadgen.serve(ref_app, tmp),
                   "same": loadgen.serve(same, app.parent)}
        server_of = {"one-line app": "ref", SAME: "same"}
        try:
            url = {n: servers[server_of.get(n, "app")][1] for n in TARGETS}
            for name, (path, sels) in TARGETS.items():
                render_ms(browser, url[name] + path, sels)
            time.sleep(4)        # the app's background TensorFlow preload starts 3 s after the first run
            waited = wait_until_idle(servers["app"][0].pid)
            print(f"server idle (TensorFlow preloaded) {waited + 4:.0f} s after the warm-up visits", flush=True)
            for r in range(a.rounds):
                order = list(TARGETS) if r % 2 == 0 else list(reversed(TARGETS))
                for name in order:
                    path, sels = TARGETS[name]
                    times["warm"].setdefault(name, []).append(
                        render_ms(browser, url[name] + path, sels, record=name))
            print("new visitor, warm server (ms): " + "; ".join(
                f"{n} {[round(v) for v in times['warm'][n]]}" for n in TARGETS), flush=True)
        finally:
            for proc, _ in servers.values():
                loadgen.stop(proc)

        # (b) the first visitor of a freshly started server
        for r in range(a.fresh_rounds):
            order = list(TARGETS) if r % 2 == 0 else list(reversed(TARGETS))
            for name in order:
                path, sels = TARGETS[name]
                script, cwd = scripts[name]
                proc, base = loadgen.serve(script, cwd)
                try:
                    times["fresh"].setdefault(name, []).append(render_ms(browser, base + path, sels))
                finally:
                    loadgen.stop(proc)
        if a.fresh_rounds:
            print("first visitor, fresh server (ms): " + "; ".join(
                f"{n} {[round(v) for v in times['fresh'][n]]}" for n in TARGETS), flush=True)
        browser.close()

    print(f"\n{'':<16}{'new visitor, warm server':>30}{'first visitor, fresh server':>34}")
    med = {k: {n: statistics.median(v) for n, v in d.items()} for k, d in times.items()}
    for name in TARGETS:
        cells = []
        for kind in ("warm", "fresh"):
            if name not in med[kind]:
                cells.append("(not measured)")
                continue
            m = med[kind][name]
            if name == "one-line app":
                cells.append(f"{m:8.0f} ms (reference)")
            elif name == SAME:
                cells.append(f"{m:8.0f} ms {m / med[kind]['one-line app']:5.2f}x (no cnnviz code)")
            else:
                ratio = m / med[kind]["one-line app"]
                cells.append(f"{m:8.0f} ms {ratio:5.2f}x {'ok' if ratio <= GOALS[kind] else 'OVER'} "
                             f"(<= {GOALS[kind]}x)")
        print(f"{name:<16}{cells[0]:>30}{cells[1]:>34}")
    print("Home / vs Home's elements (cnnviz's own share): " + "; ".join(
        f"{kind} {med[kind]['Home /'] / med[kind][SAME]:.2f}x" for kind in ("warm", "fresh") if SAME in med[kind]))
    print("where the time goes, new visitor on a warm server (median ms from navigation): " + "; ".join(
        f"{n}: " + ", ".join(f"{m} {statistics.median(v):.0f}" for m, v in ms.items())
        for n, ms in MILESTONES.items()))
    print(f"medians of {a.rounds} / {a.fresh_rounds} runs; load average after: "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
