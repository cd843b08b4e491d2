"""What keeps a server quick under a class (issue P): no full garbage collection after every
script run, and the results every visitor shares computed once, ahead of the clicks that need
them (cnnviz.ui.shared_work), with exactly the arguments /network asks for them with."""
from __future__ import annotations

import io
import time
import tomllib

import numpy as np
import pytest

from cnnviz import resources


def test_no_full_garbage_collection_after_every_run():
    settings = tomllib.loads(resources.streamlit_config_file().read_text())
    assert settings["runner"]["postScriptGC"] is False


@pytest.mark.slow
def test_shared_work_fills_the_caches_the_page_reads(data_dir, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(data_dir))
    from cnnviz import attributions, data, evidence
    from cnnviz.ui import explain_views, model_cache, shared_work

    loaded = model_cache.load.__wrapped__("mnist")    # a fresh network: nothing cached for it yet
    layer = explain_views.default_channel_layer(explain_views.spatial_layers(loaded.probe))
    steps = shared_work.shared_steps(loaded)
    assert [what for what, _ in steps] == ["test-set answers", f"{layer}'s top test images",
                                           f"{layer}'s most exciting pictures"]
    results = [compute() for _, compute in steps]

    # the page's own calls (evidence_view.test_set_evidence, explain_views.top_test_images and
    # excites_most) now find these results: the same objects, at once
    found = data.load_test_images("mnist")
    t = time.perf_counter()
    assert evidence.test_results(loaded.model, found.x_test, found.y_test,
                                 loaded.card["class_names"]) is results[0]
    assert evidence.top_images_for_channel(loaded.model, layer, 0, found.x_test,
                                           limit=explain_views.TOP_IMAGES) == results[1]
    channels = int(loaded.probe.spec(layer).output_shape[-1])
    ascent_steps, shown = explain_views.maximise_plan(loaded.probe, channels)
    one = attributions.maximise(loaded.probe, layer, 0, steps=ascent_steps)
    assert np.array_equal(one, results[2][0])
    assert time.perf_counter() - t < 0.5, "the page's calls recomputed what shared_work had done"


def test_shared_work_stops_when_the_server_stops():
    from cnnviz.ui import shared_work
    assert shared_work.warm_shared_work(lambda: True) == []


@pytest.mark.slow
def test_why_maps_are_computed_once_per_shipped_network_picture_and_settings():
    from cnnviz import attributions, models, probe
    from cnnviz.ui import model_cache, result_cache

    shipped = model_cache.load("mnist").probe
    own = probe.get_probe(models.load_pretrained("mnist"))   # the same weights, not shipped
    assert model_cache.shipped_name(shipped) == "mnist" and model_cache.shipped_name(own) is None
    x = np.random.default_rng(7).random((28, 28, 1), dtype=np.float32)
    runs = []

    def occlusion(network, cls, patch):
        def compute():
            runs.append((network, cls, patch))
            return attributions.occlusion(network, x, cls, patch=patch, stride=2, fill=0.5)
        return result_cache.shared(network, "occlusion", x, (cls, patch), compute)

    first = occlusion(shipped, 3, 4)
    assert np.array_equal(occlusion(shipped, 3, 4), first) and len(runs) == 1   # kept
    assert np.array_equal(first, attributions.occlusion(shipped, x, 3, patch=4, stride=2, fill=0.5))
    occlusion(shipped, 3, 6)
    occlusion(shipped, 5, 4)
    assert len(runs) == 3                                    # other settings: computed
    occlusion(own, 3, 4)
    occlusion(own, 3, 4)
    assert len(runs) == 5                                    # a network that is not shipped: never kept


def test_encoded_pictures_are_kept_by_their_pixels():
    from PIL import Image

    from cnnviz.ui.figures import encoding

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)
    first = encoding.to_png(Image.fromarray(pixels))
    t = time.perf_counter()
    again = encoding.to_png(Image.fromarray(pixels.copy()))     # the same picture drawn again
    assert again is first and time.perf_counter() - t < 0.01
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(first))), pixels)
    other = pixels.copy()
    other[0, 0] ^= 1
    assert encoding.to_png(Image.fromarray(other)) != first
    assert encoding.encode_picture(Image.fromarray(pixels), lossy=True)[:2] == b"\xff\xd8"   # JPEG apart
    indices = Image.fromarray(pixels[..., 0]).convert("P")
    recoloured = indices.copy()
    recoloured.putpalette([255 - v for v in indices.getpalette()])
    assert encoding.to_png(recoloured) != encoding.to_png(indices)    # same indices, other colours
    assert encoding._kept_size[0] <= encoding.ENCODED_BYTES


def test_activations_compared_on_one_draw_of_weights():
    from cnnviz import activations

    first = activations._draw_weights("glorot_uniform", 3, 4, 16)
    assert activations._draw_weights("glorot_uniform", 3, 4, 16) is first   # the next activation
    other = activations._draw_weights("glorot_uniform", 4, 4, 16)
    assert not np.array_equal(np.asarray(other[0]), np.asarray(first[0]))
    again = activations._draw_weights("glorot_uniform", 3, 4, 16)             # drawn anew, same numbers
    assert again is not first and np.array_equal(np.asarray(again[0]), np.asarray(first[0]))
