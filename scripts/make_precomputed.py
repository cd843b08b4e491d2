"""Make pretrained/precomputed/<name>.npz: the results every visitor of a shipped network shares
(see cnnviz/shipped_results.py), computed once here instead of on a class's server.

For each shipped network:
- every layer with maps: the most exciting picture of its first channels (the explorer's grid,
  with the explorer's ascent settings), stored as 8-bit pictures;
- every such layer: the top test images of every channel (test index, score, map position), for
  the test set found now (its digest is stored; another test set is searched at run time);
- every shipped sample: the "why" maps with the explorer's default settings, for the class the
  network predicts.

    CNNVIZ_DATA=../shared/data .venv/bin/python scripts/make_precomputed.py [--only mnist]

Takes about 5 minutes on 2 cores (CIFAR-10's 21 layers most of it). Run it again after
retraining a network: a file whose network has changed is ignored (the network's digest is
stored), so nothing wrong is ever shown, only computed again.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def grids(p, layers) -> tuple[dict, dict]:
    from cnnviz import attributions
    from cnnviz.ui import explain_views
    arrays, steps_of = {}, {}
    for layer in layers:
        steps, shown = explain_views.maximise_plan(p, int(p.spec(layer).output_shape[-1]))
        pics = attributions.maximise_grid(p, layer, list(range(shown)), steps=steps)
        arrays[f"grid_{layer}"] = np.round(np.asarray(pics) * 255).astype(np.uint8)
        steps_of[layer] = steps
    return arrays, steps_of


def top_images(model, layers, x_test) -> dict:
    from cnnviz import evidence
    from cnnviz.ui import explain_views
    arrays = {}
    for layer in layers:
        channels = int(model.get_layer(layer).output.shape[-1])
        tops = [evidence.top_images_for_channel(model, layer, c, x_test, limit=explain_views.TOP_IMAGES)
                for c in range(channels)]
        arrays[f"top_{layer}_index"] = np.array([[t.index for t in ts] for ts in tops], np.int32)
        arrays[f"top_{layer}_score"] = np.array([[t.score for t in ts] for ts in tops], np.float32)
        arrays[f"top_{layer}_pos"] = np.array([[t.position for t in ts] for ts in tops], np.int16)
    return arrays


def why_maps(p, dataset) -> tuple[dict, dict]:
    from cnnviz import model_input, samples, shipped_results
    from cnnviz.ui import explain_views
    arrays, parts = {}, {}
    for sample in samples.SAMPLES:
        pic = samples.load_sample(sample)
        x, _ = model_input.network_input(pic, p.input_shape, dataset)
        cls = int(np.argmax(p.probabilities(x)))
        for method, settings in explain_views.default_why_requests(p, x, cls):
            if method not in shipped_results.SHIPPED_METHODS:
                continue
            key = shipped_results.why_key(method, x, settings)
            result = shipped_results.WHY_METHODS[method](p, x, settings)
            if isinstance(result, tuple):
                arrays[key], arrays[key + "_gap"] = np.asarray(result[0], np.float32), np.float32(result[1])
                parts[key] = 2
            else:
                arrays[key] = np.asarray(result, np.float32)
                parts[key] = 1
    return arrays, parts


def make(name: str) -> pathlib.Path:
    from cnnviz import data, models, probe, shipped_results
    from cnnviz.ui import explain_views
    model = models.load_pretrained(name)
    card = models.PRETRAINED[name]
    p = probe.get_probe(model)
    layers = explain_views.spatial_layers(p)
    meta = {"format": shipped_results.FORMAT, "network": name,
            "model_digest": shipped_results.file_digest(shipped_results.path_for(name).parent.parent
                                                        / f"{name}.keras")}
    t = time.perf_counter()
    arrays, meta["grids"] = grids(p, layers)
    print(f"{name}: grids of {len(layers)} layers, {time.perf_counter() - t:.0f} s", flush=True)
    try:
        found = data.load_test_images(card["dataset"])
    except data.DataError as e:
        print(f"{name}: no test set ({e}); no top images shipped")
        found = None
    if found is not None:
        t = time.perf_counter()
        arrays.update(top_images(model, layers, found.x_test))
        meta["top"], meta["test_digest"] = layers, shipped_results.array_digest(found.x_test)
        meta["test_set"] = found.description
        print(f"{name}: top images, {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    why, meta["why"] = why_maps(p, card.get("dataset"))
    arrays.update(why)
    print(f"{name}: {len(meta['why'])} why maps, {time.perf_counter() - t:.0f} s", flush=True)
    out = shipped_results.path_for(name)
    out.parent.mkdir(exist_ok=True)
    np.savez_compressed(out, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    print(f"{name}: wrote {out} ({out.stat().st_size / 1e3:.0f} kB)", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", help="just this network (repeatable)")
    args = ap.parse_args()
    from cnnviz import models
    for name in args.only or sorted(models.PRETRAINED):
        make(name)


if __name__ == "__main__":
    main()
