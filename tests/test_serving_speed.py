"""What keeps a server quick under a class (issue P): no full garbage collection after every
script run, and the results every visitor shares computed once, ahead of the clicks that need
them (cnnviz.ui.shared_work), with exactly the arguments /network asks for them with."""
from __future__ import annotations

import io
import tomllib

import numpy as np
import pytest

from cnnviz import resources


def test_no_full_garbage_collection_after_every_run():
    settings = tomllib.loads(resources.streamlit_config_file().read_text())
    assert settings["runner"]["postScriptGC"] is False


def counting(monkeypatch, owner, name: str, calls: list) -> None:
    """Wrap owner.name so that each call is noted in `calls` (the real function still runs)."""
    real = getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(name)
        return real(*args, **kwargs)
    monkeypatch.setattr(owner, name, counted)


@pytest.mark.slow
def test_shared_work_fills_the_caches_the_page_reads(data_dir, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(data_dir))
    import importlib

    from cnnviz import data, evidence
    from cnnviz.ui import explain_views, model_cache, shared_work
    maximise = importlib.import_module("cnnviz.attributions.maximise")

    loaded = model_cache.load.__wrapped__("mnist")    # a fresh network: nothing cached for it yet
    layer = explain_views.default_channel_layer(explain_views.spatial_layers(loaded.probe))
    steps = shared_work.shared_steps(loaded)
    assert [what for what, _ in steps] == ["test-set answers", f"{layer}'s top test images",
                                           f"{layer}'s most exciting pictures"]
    results = [compute() for _, compute in steps]

    # the page's own calls (evidence_view.test_set_evidence, explain_views.top_test_images and
    # excites_most) now find these results without running the network once
    runs: list = []
    counting(monkeypatch, evidence, "_predict", runs)
    counting(monkeypatch, evidence, "_run_layer", runs)
    counting(monkeypatch, maximise._Ascent, "run", runs)
    found = data.load_test_images("mnist")
    assert evidence.test_results(loaded.model, found.x_test, found.y_test,
                                 loaded.card["class_names"]) is results[0]
    assert explain_views.channel_top_images(loaded, layer, 0, found.x_test) == results[1]
    channels = int(loaded.probe.spec(layer).output_shape[-1])
    ascent_steps, shown = explain_views.maximise_plan(loaded.probe, channels)
    one = explain_views.most_exciting(loaded, layer, [0], ascent_steps)[0]
    assert np.array_equal(one, results[2][0])
    assert runs == [], "the page's calls recomputed what shared_work had done"
    # the counters count: a layer nobody prepared runs the network
    explain_views.channel_top_images(loaded, "conv1", 0, found.x_test[:50])
    assert runs == ["_run_layer"]


def test_shared_work_stops_when_the_server_stops():
    from cnnviz.ui import shared_work
    assert shared_work.warm_shared_work(lambda: True) == []


@pytest.mark.slow
def test_why_maps_are_computed_once_per_network_picture_and_settings():
    from cnnviz import attributions, models, probe
    from cnnviz.ui import model_cache, result_cache

    shipped = model_cache.load("mnist").probe
    own = probe.get_probe(models.load_pretrained("mnist"))   # the same weights, not shipped
    assert model_cache.shipped_name(shipped) == "mnist" and model_cache.shipped_name(own) is None
    x = np.random.default_rng(7).random((28, 28, 1), dtype=np.float32)   # not a shipped sample
    result_cache.clear()

    def occlusion(network, cls, patch):
        return result_cache.shared(network, "occlusion", x, (cls, patch, 2))

    first = occlusion(shipped, 3, 4)
    assert np.array_equal(occlusion(shipped, 3, 4), first)
    assert result_cache.counts == {"computed": 1, "kept": 1}
    assert np.array_equal(first, attributions.occlusion(shipped, x, 3, patch=4, stride=2, fill=0.5))
    occlusion(shipped, 3, 6)
    occlusion(shipped, 5, 4)
    assert result_cache.counts["computed"] == 3               # other settings: computed
    occlusion(own, 3, 4)
    occlusion(own, 3, 4)
    assert result_cache.counts["computed"] == 4               # kept for that network object
    other = probe.get_probe(models.load_pretrained("mnist"))
    occlusion(other, 3, 4)
    assert result_cache.counts["computed"] == 5               # never another network's map


def test_missing_why_maps_are_computed_side_by_side(monkeypatch):
    """prepare() runs the maps of one view at the same time: two maps that each wait for the
    other to start can only both finish if they run concurrently."""
    import threading

    from cnnviz import shipped_results
    from cnnviz.ui import result_cache

    both = threading.Barrier(2, timeout=20)

    def waits_for_the_other(network, x, settings):
        both.wait()
        return np.full(x.shape[:2], settings[0], np.float32)
    monkeypatch.setitem(shipped_results.WHY_METHODS, "saliency", waits_for_the_other)
    monkeypatch.setitem(shipped_results.WHY_METHODS, "grad_cam", waits_for_the_other)
    network = object.__new__(type("Network", (), {}))      # not a shipped network
    x = np.zeros((4, 4, 1), np.float32)
    result_cache.clear()
    result_cache.prepare(network, x, [("saliency", (1, 0, 0.1)), ("grad_cam", (2, "conv1"))])
    assert result_cache.counts["computed"] == 2
    assert result_cache.shared(network, "grad_cam", x, (2, "conv1"))[0, 0] == 2
    assert result_cache.counts["kept"] == 1


def test_batched_why_maps_are_computed_one_at_a_time(monkeypatch):
    """SmoothGrad, integrated gradients and occlusion each hold a batch's memory: never two at
    once (their memory would add up), while a one-pass map runs beside them."""
    import threading
    import time

    from cnnviz import shipped_results
    from cnnviz.ui import result_cache

    lock, running, most = threading.Lock(), [0], [0]

    def batched(network, x, settings):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return np.zeros(x.shape[:2], np.float32)
    both = threading.Barrier(2, timeout=20)

    def one_pass(network, x, settings):     # finishes only if a batched map runs at the same time
        both.wait()
        return np.zeros(x.shape[:2], np.float32)

    def batched_meeting_one_pass(network, x, settings):
        both.wait()
        return batched(network, x, settings)
    for method in ("integrated_gradients", "occlusion"):
        monkeypatch.setitem(shipped_results.WHY_METHODS, method, batched)
    monkeypatch.setitem(shipped_results.WHY_METHODS, "saliency", batched_meeting_one_pass)
    monkeypatch.setitem(shipped_results.WHY_METHODS, "grad_cam", one_pass)
    network = object.__new__(type("Network", (), {}))
    x = np.zeros((4, 4, 1), np.float32)
    result_cache.clear()
    result_cache.prepare(network, x, [("saliency", (1, 50, 0.5)), ("grad_cam", (1, "conv1")),
                                      ("integrated_gradients", (1, "black", 64)), ("occlusion", (1, 4, 2))])
    assert result_cache.counts["computed"] == 4
    assert most[0] == 1


def test_encoded_pictures_are_kept_by_their_pixels(monkeypatch):
    from PIL import Image

    from cnnviz.ui.figures import encoding

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)
    saves: list = []
    real_save = Image.Image.save
    monkeypatch.setattr(Image.Image, "save", lambda img, *a, **k: saves.append(1) or real_save(img, *a, **k))
    first = encoding.to_png(Image.fromarray(pixels))
    again = encoding.to_png(Image.fromarray(pixels.copy()))     # the same picture drawn again
    assert again is first and len(saves) == 1                   # encoded once
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(first))), pixels)
    other = pixels.copy()
    other[0, 0] ^= 1
    assert encoding.to_png(Image.fromarray(other)) != first
    assert encoding.encode_picture(Image.fromarray(pixels), lossy=True)[:2] == b"\xff\xd8"   # JPEG apart
    indices = Image.fromarray(pixels[..., 0]).convert("P")
    recoloured = indices.copy()
    recoloured.putpalette([255 - v for v in indices.getpalette()])
    assert encoding.to_png(recoloured) != encoding.to_png(indices)    # same indices, other colours
    assert encoding._kept.size <= encoding.ENCODED_BYTES


def test_activations_compared_on_one_draw_of_weights():
    from cnnviz import activations

    first = activations._draw_weights("glorot_uniform", 3, 4, 16)
    assert activations._draw_weights("glorot_uniform", 3, 4, 16) is first   # the next activation
    other = activations._draw_weights("glorot_uniform", 4, 4, 16)
    assert not np.array_equal(np.asarray(other[0]), np.asarray(first[0]))
    again = activations._draw_weights("glorot_uniform", 3, 4, 16)             # drawn anew, same numbers
    assert again is not first and np.array_equal(np.asarray(again[0]), np.asarray(first[0]))


def test_pictures_drawn_from_the_same_numbers_are_drawn_once():
    from cnnviz.ui import figures
    from cnnviz.ui.figures import colours

    calls: list = []

    def pixel_grid(values, top, left, colour, size=470):
        calls.append(1)
        return figures.pixel_values_image(values, top, left, colour, size=size)

    values = np.arange(144, dtype=np.uint8).reshape(12, 12)
    first = figures.drawn(pixel_grid, values, 3, 4, "grey", size=200)
    assert figures.drawn(pixel_grid, values.copy(), 3, 4, "grey", size=200) is first and len(calls) == 1
    assert first == figures.to_png(figures.pixel_values_image(values, 3, 4, "grey", size=200))
    other = values.copy()
    other[0, 0] += 1
    figures.drawn(pixel_grid, other, 3, 4, "grey", size=200)
    figures.drawn(pixel_grid, values, 3, 5, "grey", size=200)
    assert len(calls) == 3                       # other numbers, other settings: drawn
    before = colours._scheme_source
    try:
        colours.follow_scheme(lambda: "colour-blind")
        figures.drawn(pixel_grid, values, 3, 4, "grey", size=200)
        assert len(calls) == 4                   # another colour scheme: drawn again
    finally:
        colours.follow_scheme(before)


def test_the_sidebar_preview_is_made_once_per_picture(monkeypatch):
    import pathlib

    from streamlit.testing.v1 import AppTest

    from cnnviz import samples
    from cnnviz.ui import widgets
    made: list = []
    real = widgets.thumbnail
    monkeypatch.setattr(widgets, "thumbnail", lambda *a, **k: made.append(1) or real(*a, **k))
    at = AppTest.from_file(str(pathlib.Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
    at.run()
    assert len(made) == 1 and not at.exception
    at.run()
    assert len(made) == 1                                   # a rerun: the same preview
    sample = next(s for s in at.selectbox if s.key == widgets.SAMPLE_KEY)
    sample.set_value(next(n for n in samples.SAMPLES if n != sample.value)).run()
    assert len(made) == 2 and not at.exception              # another picture: made again


def test_number_tables_are_built_once_for_the_same_numbers(monkeypatch):
    from cnnviz.ui import accessible
    built: list = []
    real = accessible._table_html
    monkeypatch.setattr(accessible, "_table_html", lambda *a: built.append(1) or real(*a))
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    first = accessible.table_html(values, "Twelve numbers")
    assert accessible.table_html(values.copy(), "Twelve numbers") is first and len(built) == 1
    changed = values.copy()
    changed[2, 3] = -1
    assert accessible.table_html(changed, "Twelve numbers") != first and len(built) == 2
    accessible.table_html(values, "Twelve numbers", corner="x \\ y")
    assert len(built) == 3                       # other numbers, other words: built again
