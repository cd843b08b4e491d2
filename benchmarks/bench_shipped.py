"""What the shipped results and the side-by-side why maps save (issue P). Prints figures, asserts
nothing; each pair is timed alternately in the same run, medians of --repeats.

1. A new picture's why maps (saliency with SmoothGrad, Grad-CAM, integrated gradients,
   occlusion, the gradient inside), for a picture nothing has seen (an upload, a drawing): one
   after another, as /network did, vs side by side (cnnviz.ui.result_cache.prepare).
2. A shipped sample's why maps on a network of another dataset (choosing another network; a
   different sample each repeat): computed vs read from pretrained/precomputed/.
3. A new channel layer on /network (16 most-exciting pictures and the layer's top test images):
   computed vs read from the shipped file.

    CNNVIZ_DATA=../shared/data .venv/bin/python benchmarks/bench_shipped.py [--repeats 5] [--nets mnist,cifar10]
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


def _median_ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:7.0f} ms"


def _row(what: str, before: list[float], after: list[float], names=("before", "after")) -> None:
    b, a = statistics.median(before), statistics.median(after)
    ratio = f"{b / a:5.1f}x" if a >= 0.001 else f"> {b / 0.001:.0f}x (under 1 ms)"
    print(f"  {what:<48} {names[0]} {_median_ms(before)}   {names[1]} {_median_ms(after)}   ratio {ratio}")


def why_requests(p, x):
    from cnnviz.ui import explain_views
    cls = int(np.argmax(p.probabilities(x)))
    return explain_views.default_why_requests(p, x, cls)


def new_picture_maps(loaded, repeats: int, rng) -> None:
    from cnnviz import shipped_results
    from cnnviz.ui import result_cache
    p = loaded.probe
    serial, together = [], []
    for _ in range(repeats):
        for way in ("serial", "together"):
            x = rng.random(p.input_shape, dtype=np.float32)       # never seen: nothing kept
            requests = why_requests(p, x)
            t = time.perf_counter()
            if way == "serial":
                for method, settings in requests:
                    shipped_results.WHY_METHODS[method](p, x, settings)
                serial.append(time.perf_counter() - t)
            else:
                result_cache.prepare(p, x, requests)
                together.append(time.perf_counter() - t)
    _row(f"{loaded.name}: a new picture's {len(requests)} why maps", serial, together,
         ("one after another", "side by side"))


def shipped_sample_maps(loaded, repeats: int) -> None:
    from cnnviz import model_input, samples, shipped_results
    p = loaded.probe
    others = [n for n, s in samples.SAMPLES.items() if s.dataset != loaded.card.get("dataset")]
    computed, read = [], []
    for k in range(repeats):             # another sample each time: the probe remembers gradients
        pic = samples.load_sample(others[k % len(others)])
        x, _ = model_input.network_input(pic, p.input_shape, loaded.card.get("dataset"))
        requests = [(m, s) for m, s in why_requests(p, x) if m in shipped_results.SHIPPED_METHODS]
        t = time.perf_counter()
        for method, settings in requests:
            shipped_results.WHY_METHODS[method](p, x, settings)
        computed.append(time.perf_counter() - t)
        t = time.perf_counter()
        found = [shipped_results.why(loaded.name, m, x, s) for m, s in requests]
        read.append(time.perf_counter() - t)
        assert all(f is not None for f in found), "not shipped: run scripts/make_precomputed.py"
    _row(f"{loaded.name}: another network's sample, {len(requests)} maps", computed, read,
         ("computed", "shipped"))


def channel_layer(loaded, repeats: int) -> None:
    from cnnviz import attributions, data, evidence
    from cnnviz.ui import explain_views
    p = loaded.probe
    found = data.load_test_images(loaded.card["dataset"])
    layers = explain_views.spatial_layers(p)
    computed, read = [], []
    for k in range(repeats):
        layer = layers[k % len(layers)]
        steps, shown = explain_views.maximise_plan(p, int(p.spec(layer).output_shape[-1]))
        attributions.clear_cache()
        evidence.clear_cache()
        t = time.perf_counter()
        attributions.maximise_grid(p, layer, list(range(shown)), steps=steps)
        evidence.top_images_for_channel(p.model, layer, 0, found.x_test, limit=explain_views.TOP_IMAGES)
        computed.append(time.perf_counter() - t)
        t = time.perf_counter()
        grid = explain_views.most_exciting(loaded, layer, list(range(shown)), steps)
        top = explain_views.channel_top_images(loaded, layer, 0, found.x_test)
        read.append(time.perf_counter() - t)
        assert len(grid) == shown and len(top) == explain_views.TOP_IMAGES
    _row(f"{loaded.name}: a new channel layer (grid + top images)", computed, read, ("computed", "shipped"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--nets", default="mnist,cifar10")
    a = ap.parse_args()
    from cnnviz import shipped_results
    from cnnviz.ui import model_cache
    print(f"{os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rng = np.random.default_rng(0)
    for name in a.nets.split(","):
        t = time.perf_counter()
        shipped_results.load(name)
        print(f"{name}: reading its shipped file once: {(time.perf_counter() - t) * 1000:.0f} ms")
        loaded = model_cache.load(name)
        new_picture_maps(loaded, a.repeats, rng)
        shipped_sample_maps(loaded, a.repeats)
        channel_layer(loaded, a.repeats)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
