"""How long each "why" method takes for one picture, per pretrained model; and /network's warm
rerun when only a view changes. Prints medians; asserts nothing.

    .venv/bin/python benchmarks/bench_attributions.py [--repeats 5]

1. Per model (mnist, fashion_mnist, cifar10), warm (every compiled function traced once first,
   the memo emptied before each timed call so the work is really done), the median of --repeats
   calls of: saliency, SmoothGrad (20 copies), Grad-CAM, integrated gradients (128 steps, black),
   occlusion (4 x 4 square, step 2) and activation maximisation (one channel of a middle layer,
   default 128 steps). Reference in the same run: Probe.run, every layer's output for the
   picture in one compiled call.
2. /network in AppTest, warm: a rerun that changes only a view (the occlusion step, back and
   forth: both results are memoised after the first time) against a rerun that changes nothing,
   both medians of --repeats * 4 (goal: <= 300 ms).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _median_ms(fn, repeats: int, before=None) -> float:
    times = []
    for _ in range(repeats):
        if before:
            before()
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def methods(repeats: int) -> None:
    from cnnviz import attributions, models, probe
    print(f"{'model':<15}{'Probe.run':>10}{'saliency':>10}{'SmoothGrad':>11}{'Grad-CAM':>10}"
          f"{'IG 128':>8}{'occlusion':>11}{'maximise':>10}   (warm, ms)")
    for name in ("mnist", "fashion_mnist", "cifar10"):
        model = models.load_pretrained(name)
        p = probe.get_probe(model)
        x = np.random.default_rng(0).random(p.input_shape, dtype=np.float32)
        spatial = [s.name for s in p.specs if len(s.output_shape) == 3 and s.kind == "activation"]
        layer = spatial[len(spatial) // 2]
        calls = {
            "run": lambda: p.run(x),
            "saliency": lambda: attributions.saliency(p, x, 1),
            "smoothgrad": lambda: attributions.saliency(p, x, 1, smoothgrad_samples=20),
            "gradcam": lambda: attributions.grad_cam(p, x, 1),
            "ig": lambda: attributions.integrated_gradients(p, x, 1, steps=128),
            "occlusion": lambda: attributions.occlusion(p, x, 1, patch=4, stride=2),
            "maximise": lambda: attributions.maximise(p, layer, 3),
        }

        def forget():
            p._memo.clear()
            attributions.clear_cache()

        row = {}
        for key, call in calls.items():
            forget()
            call()   # trace once
            row[key] = _median_ms(call, repeats, before=forget)
        print(f"{name:<15}{row['run']:>10.1f}{row['saliency']:>10.1f}{row['smoothgrad']:>11.1f}"
              f"{row['gradcam']:>10.1f}{row['ig']:>8.1f}{row['occlusion']:>11.1f}{row['maximise']:>10.0f}"
              f"   (maximise: {layer}, channel 3)", flush=True)


def page(repeats: int) -> None:
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.switch_page("cnnviz/ui/pages/network.py")
    at.run()
    stride = at.select_slider(key="net_occ_stride")
    for value in (1, 2, 1, 2):          # both results computed and memoised
        stride.set_value(value).run()
    n = repeats * 4
    values = iter([1, 2] * n)
    view = _median_ms(lambda: at.select_slider(key="net_occ_stride").set_value(next(values)).run(), n)
    same = _median_ms(lambda: at.run(), n)
    assert not at.exception, at.exception
    print(f"/network warm AppTest rerun: nothing changed {same:.0f} ms (reference), occlusion step changed "
          f"(memoised) {view:.0f} ms: {view / same:.2f}x (goal <= 300 ms)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    methods(a.repeats)
    page(a.repeats)


if __name__ == "__main__":
    main()
