"""The results shipped beside the models (pretrained/precomputed/, cnnviz.shipped_results) equal a
fresh computation, are used only for the network and test set they were made from, and are what
/network reads for the shipped samples."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from cnnviz import shipped_results

ROOT = pathlib.Path(__file__).resolve().parents[1]
NETWORKS = ["mnist", "fashion_mnist", "cifar10"]


@pytest.fixture(scope="module")
def probes():
    from cnnviz import models, probe
    return {n: probe.get_probe(models.load_pretrained(n)) for n in NETWORKS}


def first_and_default_layer(p) -> list[str]:
    from cnnviz.ui import explain_views
    layers = explain_views.spatial_layers(p)
    return [layers[0], explain_views.default_channel_layer(layers)]


@pytest.mark.parametrize("name", NETWORKS)
def test_every_shipped_network_has_its_file_for_these_weights(name):
    found = shipped_results.load(name)
    assert found is not None, (f"pretrained/precomputed/{name}.npz is missing or was made from other "
                               "weights: run scripts/make_precomputed.py")
    assert found.grids and found.why


@pytest.mark.slow
@pytest.mark.parametrize("name", NETWORKS)
def test_shipped_pictures_equal_a_fresh_gradient_ascent(name, probes):
    from cnnviz import attributions
    from cnnviz.attributions.maximise import objective
    p = probes[name]
    for layer in first_and_default_layer(p):
        shipped = shipped_results.load(name)
        steps = shipped.grid_steps[layer]
        channels = list(range(len(shipped.grids[layer])))
        fresh = attributions.maximise_grid(p, layer, channels, steps=steps)
        got = shipped_results.grid(name, layer, channels, steps)
        # 8-bit pictures: within one step of 1/255 (rounding). A channel whose ascent took another
        # way on this CPU (its float rounding differs from the machine that made the file: 3 of
        # the 16 bn3 channels of mnist on an AMD EPYC) must still be as high an optimum, by the
        # method's defining property: its channel's mean activation, computed by Keras here, at
        # least 90 % of the fresh picture's.
        close = np.abs(got - fresh).reshape(len(channels), -1).max(axis=1) <= 1 / 255 + 1e-6
        assert close.mean() >= 0.75, (name, layer, close)
        for c in np.flatnonzero(~close):
            shipped_value, fresh_value = objective(p.model, layer, channels[c], np.stack([got[c], fresh[c]]))
            assert shipped_value >= 0.9 * fresh_value, (name, layer, channels[c], shipped_value, fresh_value)
        assert shipped_results.grid(name, layer, channels, steps + 1) is None   # other settings


@pytest.mark.slow
@pytest.mark.parametrize("name", NETWORKS)
def test_shipped_top_images_equal_a_fresh_search(name, probes, data_dir, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(data_dir))
    from cnnviz import data, evidence, models
    from cnnviz.ui import explain_views
    found = data.load_test_images(models.PRETRAINED[name]["dataset"])
    p = probes[name]
    layer = first_and_default_layer(p)[1]
    channels = int(p.spec(layer).output_shape[-1])
    for channel in (0, channels // 2, channels - 1):
        shipped = shipped_results.top_images(name, layer, channel, found.x_test, explain_views.TOP_IMAGES)
        assert shipped is not None, "the shipped top images are not for the test data the tests use"
        got = evidence.top_images_at(p.model, layer, *shipped)
        fresh = evidence.top_images_for_channel(p.model, layer, channel, found.x_test,
                                                limit=explain_views.TOP_IMAGES)
        assert [(t.index, t.position, t.box) for t in got] == [(t.index, t.position, t.box) for t in fresh]
        np.testing.assert_allclose([t.score for t in got], [t.score for t in fresh], rtol=1e-4, atol=1e-5)
    other = found.x_test.copy()
    other[0, 0, 0] ^= 1
    assert shipped_results.top_images(name, layer, 0, other, explain_views.TOP_IMAGES) is None


@pytest.mark.slow
@pytest.mark.parametrize("name", NETWORKS)
def test_shipped_why_maps_equal_a_fresh_computation(name, probes):
    from cnnviz import model_input, models, samples
    from cnnviz.ui import explain_views
    p = probes[name]
    sample = next(s for s in samples.SAMPLES.values() if s.dataset == models.PRETRAINED[name]["dataset"])
    x, _ = model_input.network_input(samples.load_sample(sample.name), p.input_shape,
                                     models.PRETRAINED[name]["dataset"])
    cls = int(np.argmax(p.probabilities(x)))
    for method, settings in explain_views.default_why_requests(p, x, cls):
        if method not in shipped_results.SHIPPED_METHODS:
            continue
        shipped = shipped_results.why(name, method, x, settings)
        assert shipped is not None, (method, settings)
        fresh = shipped_results.WHY_METHODS[method](p, x, settings)
        if method == "integrated_gradients":
            (shipped, gap), (fresh, fresh_gap) = shipped, fresh
            assert gap == pytest.approx(fresh_gap, rel=1e-3, abs=1e-4)
        scale = float(np.abs(fresh).max()) or 1.0
        np.testing.assert_allclose(shipped, fresh, atol=1e-4 * scale, err_msg=f"{name} {method}")
    assert shipped_results.why(name, "occlusion", x, (cls, 99, 99)) is None


def test_a_file_made_from_other_weights_is_not_used(tmp_path, monkeypatch):
    import shutil
    from cnnviz import resources
    for f in ("mnist.keras", "mnist.json"):
        shutil.copy(resources.pretrained_dir() / f, tmp_path / f)
    (tmp_path / "precomputed").mkdir()
    shutil.copy(shipped_results.path_for("mnist"), tmp_path / "precomputed" / "mnist.npz")
    monkeypatch.setattr(resources, "pretrained_dir", lambda: tmp_path)
    shipped_results.load.cache_clear()
    try:
        assert shipped_results.load("mnist") is not None            # the same weights: used
        shipped_results.load.cache_clear()
        with open(tmp_path / "mnist.keras", "ab") as f:
            f.write(b"\0")                                          # other weights
        assert shipped_results.load("mnist") is None
        assert shipped_results.grid("mnist", "conv1", [0], 128) is None
    finally:
        shipped_results.load.cache_clear()


@pytest.mark.slow
@pytest.mark.parametrize("sample", ["mnist-3", "cifar-cat"])
def test_network_page_reads_the_shipped_maps_for_a_sample(sample):
    """Opening /network on a shipped sample computes none of its "why" maps: the page asks for
    exactly the settings that were shipped."""
    from streamlit.testing.v1 import AppTest

    from cnnviz.ui import result_cache, widgets
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("cnnviz/ui/pages/network.py")
    at.run()
    result_cache.clear()
    next(s for s in at.selectbox if s.key == widgets.SAMPLE_KEY).set_value(sample).run()
    assert not at.exception, at.exception
    assert result_cache.counts["shipped"] == len(shipped_results.SHIPPED_METHODS), dict(result_cache.counts)
    assert result_cache.counts["computed"] == 1           # the gradient inside: not shipped,
    assert result_cache.counts["kept"] == 1               # computed first, then drawn
    result_cache.counts.clear()
    next(s for s in at.select_slider if s.key == "net_occ_patch").set_value(6).run()
    assert not at.exception, at.exception
    assert result_cache.counts["computed"] == 1          # a setting changed: that map alone
