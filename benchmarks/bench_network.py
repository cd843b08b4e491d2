"""How fast is the network explorer? Prints figures; asserts nothing.

1. Probe.run (every layer's output, one compiled call) vs a plain model(x, training=False)
   on the digits model, warm, interleaved in the same run: medians and the ratio
   (goal: <= 3 ms and <= 1.0x).
2. A full warm AppTest rerun of /network (goal: <= 200 ms): wall time of at.run() and the
   wall/CPU time of the script thread alone (CPU time is steadier on a busy machine).
3. (--browser) First visit to /network in Chromium after Home has loaded (goal: <= 3 s),
   and a second visit from Home once the model is loaded.

    .venv/bin/python benchmarks/bench_network.py [--browser] [--repeats N]
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _script_timer import SCRIPT_TIMES, time_script_runs  # noqa: E402


def _digits_model():
    from cnnviz import models
    if "mnist" in models.PRETRAINED:
        return models.load_pretrained("mnist"), "pretrained mnist"
    return models.build("digits_cnn", "mnist"), "digits_cnn with random weights (no pretrained/mnist.keras yet)"


def bench_probe(repeats: int) -> None:
    import tensorflow as tf  # noqa: F401
    from cnnviz import probe
    model, what = _digits_model()
    p = probe.Probe(model)
    x = np.random.default_rng(0).random(p.input_shape).astype(np.float32)
    xb = x[None]
    for _ in range(5):
        p.run(x)
        model(xb, training=False)
    t_probe, t_model = [], []
    for _ in range(repeats):   # interleaved so machine noise hits both alike
        t = time.perf_counter()
        p.run(x)
        t_probe.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        model(xb, training=False).numpy()
        t_model.append((time.perf_counter() - t) * 1000)
    mp, mm = statistics.median(t_probe), statistics.median(t_model)
    print(f"[probe] {what}, {len(p.specs)} layers, median over {repeats}:")
    print(f"  Probe.run (all layers, as NumPy):    {mp:6.2f} ms   (goal <= 3 ms; fastest {min(t_probe):.2f})")
    print(f"  model(x, training=False) (output):   {mm:6.2f} ms   (fastest {min(t_model):.2f})")
    print(f"  ratio: {mp / mm:.2f}x (goal <= 1.0x)")
    # Gradients are remembered per (picture, class): time them on ever new pictures, and
    # once more on a picture seen just before.
    rng = np.random.default_rng(1)
    fresh = [np.clip(x + rng.normal(0, 0.01, x.shape), 0, 1).astype(np.float32)
             for _ in range(4 * p.MEMO)]
    n = max(5, min(len(fresh) // 4, repeats // 10))
    for name, fn in [("saliency", lambda im: probe.saliency(p, im, 3)),
                     ("SmoothGrad, 20 copies", lambda im: probe.saliency(p, im, 3, smoothgrad_samples=20)),
                     ("Grad-CAM", lambda im: probe.grad_cam(p, im, 3)),
                     ("gradients of every layer", lambda im: p.gradients(im, 3))]:
        fn(fresh[-1])
        ts = []
        for i in range(n):
            t = time.perf_counter()
            fn(fresh[i])
            ts.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        fn(fresh[n - 1])
        again = (time.perf_counter() - t) * 1000
        print(f"  {name + ':':34s} {statistics.median(ts):6.2f} ms   (same picture again: {again:.2f} ms)")


def bench_apptest(repeats: int) -> None:
    from streamlit.testing.v1 import AppTest
    time_script_runs()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("cnnviz/ui/pages/network.py")
    t = time.perf_counter()
    at.run()
    first = (time.perf_counter() - t) * 1000
    if at.exception:
        print("[apptest] the page raised:", at.exception)
        return
    for _ in range(3):
        at.run()
    SCRIPT_TIMES.clear()
    walls = []
    for _ in range(repeats):
        t = time.perf_counter()
        at.run()
        walls.append((time.perf_counter() - t) * 1000)
    sw = statistics.median(s[0] for s in SCRIPT_TIMES)
    sc = statistics.median(s[1] for s in SCRIPT_TIMES)
    print(f"[apptest] /network, default view (conv1, saliency, Grad-CAM), median over {repeats}:")
    print(f"  first run (loads TensorFlow-side model, warms graphs): {first:7.0f} ms")
    print(f"  full warm rerun, at.run():        {statistics.median(walls):6.0f} ms   (goal <= 200 ms)")
    print(f"  script thread alone: wall {sw:6.0f} ms, CPU {sc:6.0f} ms")


def _visit(browser, url: str, wait_on_home_s: float = 0.0) -> float:
    """A new visitor opens Home, (waits), clicks "Network explorer": ms until the prediction
    shows and the script has finished (the browser's own loading of Plotly etc. included)."""
    from _browser import READY
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_selector(READY, timeout=60_000)
    time.sleep(wait_on_home_s)
    t = time.perf_counter()
    page.locator("[data-testid=stSidebarNav] a").filter(has_text="Network").click()
    page.get_by_text("Prediction:").first.wait_for(timeout=120_000)
    page.wait_for_selector(READY, timeout=120_000)
    elapsed = (time.perf_counter() - t) * 1000
    ctx.close()
    return elapsed


def bench_browser(repeats: int) -> None:
    from playwright.sync_api import sync_playwright
    from _browser import launch, start_streamlit
    results = {}
    with sync_playwright() as pw:
        browser = launch(pw)
        for label, wait in (("fresh server, click at once (TensorFlow still importing)", 0.0),
                            ("fresh server, click after 20 s on Home (TensorFlow preloaded)", 20.0)):
            proc, url = start_streamlit(ROOT / "app.py")
            try:
                results[label] = _visit(browser, url, wait)
                if wait:
                    results["model cached (new visitors), median"] = statistics.median(
                        _visit(browser, url) for _ in range(repeats))
            finally:
                proc.terminate()
        browser.close()
    print("[browser] Home loaded, click 'Network explorer', until the prediction shows (goal <= 3000 ms):")
    for label, ms in results.items():
        print(f"  {label + ':':66s} {ms:7.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--browser", action="store_true", help="also time the visit in Chromium")
    ap.add_argument("--repeats", type=int, default=200)
    args = ap.parse_args()
    bench_probe(args.repeats)
    bench_apptest(max(5, args.repeats // 10))
    if args.browser:
        bench_browser(4)


if __name__ == "__main__":
    main()
