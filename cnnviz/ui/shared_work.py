"""Work that is the same for every visitor, done once per server process before visitors ask.

Measured under 30 sessions on 2 cores (py-spy, benchmarks/bench_load.py), the slowest clicks on
/network were each some visitor's first request of a result every visitor shares: choosing
another network (loading and warming it: 17-29 s), the test-set evidence (10,000 test images
through the network), the channel view's test-image statistics and its most exciting pictures
(gradient ascent); the last two come from the files shipped beside the models where those cover
the network (cnnviz.shipped_results), which this then only loads. preload.py calls
warm_shared_work() in its background thread once the first network is ready; each result lands in the cache the page reads (model_cache, cnnviz.evidence,
cnnviz.attributions.maximise), with exactly the arguments the page uses, so a visitor's click
finds it there. Nothing here computes a number of its own.

Only a real server does this (not AppTest or a test process, which would spend minutes of CPU
on results no test reads): see preload.py.
"""
from __future__ import annotations

from typing import Callable

from cnnviz import data, evidence


def shared_steps(loaded) -> list[tuple[str, Callable[[], object]]]:
    """(what, compute) for one loaded network: the test-set answers, the default channel layer's
    statistics over the test images, and its grid of most exciting pictures (channel 0 included),
    as /network asks for them."""
    from cnnviz.ui import explain_views

    steps: list[tuple[str, Callable[[], object]]] = []
    dataset = loaded.card.get("dataset")
    found = None
    if dataset:
        try:
            found = data.load_test_images(dataset)
        except data.DataError:
            found = None
    if found is not None and tuple(found.x_test.shape[1:3]) != tuple(loaded.probe.input_shape[:2]):
        found = None
    layers = explain_views.spatial_layers(loaded.probe)
    if found is not None:
        steps.append(("test-set answers", lambda: evidence.test_results(
            loaded.model, found.x_test, found.y_test, loaded.card["class_names"])))
    if not layers:
        return steps
    layer = explain_views.default_channel_layer(layers)
    if found is not None:
        steps.append((f"{layer}'s top test images", lambda: explain_views.channel_top_images(
            loaded, layer, 0, found.x_test)))
    channels = int(loaded.probe.spec(layer).output_shape[-1])
    ascent_steps, shown = explain_views.maximise_plan(loaded.probe, channels)
    steps.append((f"{layer}'s most exciting pictures", lambda: explain_views.most_exciting(
        loaded, layer, list(range(shown)), ascent_steps)))
    return steps


def warm_shared_work(stopping: Callable[[], bool], pause: Callable[[], None] = lambda: None) -> list[str]:
    """Load every shipped network, then compute each one's shared results; stop early when
    `stopping()` says the server is shutting down. `pause()` runs before each step (preload.py
    waits there for a quiet moment). Returns what was done, in order."""
    done: list[str] = []
    if stopping():
        return done
    from cnnviz.ui import model_cache

    names = model_cache.available()
    for name in names:                   # every network first: choosing one is the slowest click
        pause()
        if stopping():
            return done
        model_cache.load(name)
        done.append(f"{name}: loaded")
    for name in names:
        for what, compute in shared_steps(model_cache.load(name)):
            pause()
            if stopping():
                return done
            compute()
            done.append(f"{name}: {what}")
    return done
