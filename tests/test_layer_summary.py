"""layer_summary.summarise (arithmetic, what /train shows) equals builder.validate (a built Keras
model's own names, shapes and counts) on every kind of layer, the presets and the largest network
a link may carry."""
from __future__ import annotations

import keras
import pytest
from test_builder import KIND_CASES

from cnnviz import architectures, builder, layer_specs, layer_summary
from link_costs import widest_network

SHAPES = [(28, 28, 1), (32, 32, 3)]


@pytest.fixture(autouse=True)
def _fresh_keras():
    yield
    keras.backend.clear_session(free_memory=False)   # a full gc per test cost minutes


@pytest.mark.parametrize("name", sorted(KIND_CASES))
def test_every_kind_equals_keras(name):
    specs, _ = KIND_CASES[name]
    assert layer_summary.summarise(specs, (9, 9, 3), 4) == builder.validate(specs, (9, 9, 3), 4)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(architectures.PRESETS))
def test_presets_equal_keras(name, shape):
    specs = architectures.PRESETS[name]
    assert layer_summary.summarise(specs, shape, 10) == builder.validate(specs, shape, 10)


@pytest.mark.slow
def test_the_largest_linked_network_equals_keras():
    specs = widest_network()
    summary = layer_summary.summarise(specs, (32, 32, 3), 10)
    assert summary == builder.validate(specs, (32, 32, 3), 10)
    assert summary.trainable_params < summary.total_params     # batch norm's moving statistics


def test_refusals_are_checks():
    with pytest.raises(layer_specs.BuildError, match="more than the limit"):
        layer_summary.summarise([layer_specs.Flatten(), layer_specs.Dense(1024)], (256, 256, 3), 10)
