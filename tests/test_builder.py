"""cnnviz.builder: shapes and parameter counts equal Keras's, every refusal names its layer,
the generated code rebuilds the same network, and the presets match cnnviz.models."""
from __future__ import annotations

import itertools
import re

import keras
import pytest
from keras import layers

from cnnviz import architectures, builder, layer_specs, models, spec_check, spec_code, spec_links
from cnnviz.layer_specs import (Activation, AveragePooling2D, BatchNormalization, BuildError, Conv2D, Dense,
                                Dropout, Flatten, GlobalAveragePooling2D, MaxPooling2D)


@pytest.fixture(autouse=True)
def _fresh_keras():
    yield
    keras.backend.clear_session(free_memory=False)   # names start afresh; a full gc per test cost ~1 s


def _reference_layer(spec):
    """The Keras layer for ``spec``, written here independently of the builder."""
    kw = layer_specs.to_dict(spec)
    name = kw.pop("kind")
    if name == "Conv2D":
        reg = kw.pop("kernel_regularizer")
        kw["kernel_regularizer"] = None if reg is None else keras.regularizers.L2(reg)
    return getattr(layers, name)(**kw)


def _reference_model(specs, input_shape, n_classes):
    inputs = keras.Input(input_shape)
    x, outs = inputs, []
    for spec in [*specs, Dense(n_classes, "softmax")]:
        layer = _reference_layer(spec)
        x = layer(x)
        outs.append((tuple(x.shape[1:]), layer.count_params()))
    return outs


# One small network per layer kind: the kind under test is at position ``at`` (1-based).
KIND_CASES = {
    "Conv2D": ([Conv2D(4, 3, strides=2, padding="same", activation="relu", use_bias=False,
                       kernel_regularizer=0.01), Flatten()], 1),
    "MaxPooling2D": ([Conv2D(2, 3), MaxPooling2D(3, strides=2), Flatten()], 2),
    "AveragePooling2D": ([AveragePooling2D(2, padding="same"), Flatten()], 1),
    "BatchNormalization": ([Conv2D(3, 1), BatchNormalization(), Flatten()], 2),
    "Activation": ([Conv2D(2, 3), Activation("elu"), Flatten()], 2),
    "Dropout": ([Dropout(0.25), Flatten()], 1),
    "Flatten": ([Conv2D(2, 3), Flatten()], 2),
    "GlobalAveragePooling2D": ([Conv2D(5, 3), GlobalAveragePooling2D()], 2),
    "Dense": ([Flatten(), Dense(7, "sigmoid")], 2),
}


def test_every_kind_has_a_case():
    assert set(KIND_CASES) == set(layer_specs.KINDS)


@pytest.mark.parametrize("name", sorted(KIND_CASES))
def test_shapes_and_params_equal_keras(name):
    specs, at = KIND_CASES[name]
    assert layer_specs.kind(specs[at - 1]) == name
    summary = builder.validate(specs, (9, 9, 3), 4)
    model = builder.build(specs, (9, 9, 3), 4)
    reference = _reference_model(specs, (9, 9, 3), 4)
    assert len(summary.rows) == len(model.layers) == len(specs) + 1
    for row, layer, (ref_shape, ref_params), planned in zip(
            summary.rows, model.layers, reference, spec_check.check(specs, (9, 9, 3), 4)):
        assert row.output_shape == tuple(layer.output.shape[1:]) == ref_shape == planned[0]
        assert row.params == layer.count_params() == ref_params == planned[1]
        assert row.name == layer.name
    assert [r.kind for r in summary.rows] == [type(layer).__name__ for layer in model.layers]
    assert summary.total_params == model.count_params() == sum(p for _, p in reference)


def test_hand_computed_counts():
    specs = [Conv2D(8, 5, padding="valid"), Conv2D(6, 3, use_bias=False), Flatten(), Dense(20)]
    rows = builder.validate(specs, (12, 12, 3), 10).rows
    assert rows[0].output_shape == (8, 8, 8) and rows[0].params == (5 * 5 * 3 + 1) * 8
    assert rows[1].output_shape == (6, 6, 6) and rows[1].params == 3 * 3 * 8 * 6
    assert rows[2].output_shape == (216,)
    assert rows[3].params == (216 + 1) * 20
    assert rows[4].output_shape == (10,) and rows[4].params == (20 + 1) * 10
    assert rows[4].name == "output"


@pytest.mark.parametrize("n,k,s,d,padding", [
    (n, k, s, d, p) for n, k, s, d, p in itertools.product((5, 8), (1, 2, 3), (1, 2, 3), (1, 2), ("valid", "same"))
    if (s == 1 or d == 1) and (k - 1) * d + 1 <= n])
def test_conv_arithmetic_matches_keras(n, k, s, d, padding):
    spec = Conv2D(2, k, strides=s, padding=padding, dilation_rate=d)
    planned = spec_check.check([spec, Flatten()], (n, n + 1, 2), 3)[0]
    layer = layers.Conv2D(2, k, strides=s, padding=padding, dilation_rate=d)
    out = layer(keras.Input((n, n + 1, 2)))
    assert planned == (tuple(out.shape[1:]), layer.count_params())


@pytest.mark.parametrize("n,p,s,padding", itertools.product((3, 7), (1, 2, 3), (None, 1, 2), ("valid", "same")))
def test_pool_arithmetic_matches_keras(n, p, s, padding):
    planned = spec_check.check([MaxPooling2D(p, s, padding), Flatten()], (n, n, 1), 2)[0]
    out = layers.MaxPooling2D(p, s, padding)(keras.Input((n, n, 1)))
    assert planned[0] == tuple(out.shape[1:])


def test_validate_counts_non_trainable_weights_like_keras():
    summary = builder.validate([Conv2D(3, 3), BatchNormalization(), Flatten()], (6, 6, 1), 2)
    assert summary.rows[1].params == 4 * 3
    assert summary.total_params - summary.trainable_params == 2 * 3   # moving mean and variance


def _refused(specs, input_shape=(28, 28, 1), n_classes=10, **kw) -> BuildError:
    with pytest.raises(BuildError) as info:
        builder.validate(specs, input_shape, n_classes, **kw)
    err = info.value
    with pytest.raises(BuildError) as cheap:   # found by arithmetic, before Keras is asked
        spec_check.check(specs, input_shape, n_classes, **kw)
    assert (cheap.value.index, cheap.value.message) == (err.index, err.message)
    assert "\n" not in err.message and str(err) == err.message
    return err


def test_strides_with_dilation_refused():
    err = _refused([Conv2D(4, 3), Conv2D(4, 3, strides=2, dilation_rate=2), Flatten()])
    assert err.index == 2
    assert err.message.startswith("Layer 2 (Conv2D)")
    assert "strides" in err.message and "dilation_rate" in err.message


def test_map_shrinking_to_zero_refused():
    specs = [Conv2D(4, 5), MaxPooling2D(2), Conv2D(4, 5), MaxPooling2D(2), Conv2D(4, 5), Flatten()]
    err = _refused(specs)   # 28 -> 24 -> 12 -> 8 -> 4 -> 0
    assert err.index == 5 and "Layer 5 (Conv2D)" in err.message
    assert "0 × 0" in err.message
    err = _refused([Conv2D(2, 7, dilation_rate=4), Flatten()], (20, 30, 1))   # span 25: -4 x 6
    assert err.index == 1 and "-4 × 6" in err.message
    err = _refused([MaxPooling2D(4), MaxPooling2D(4), MaxPooling2D(4), Flatten()])   # 28 -> 7 -> 1 -> 0
    assert err.index == 3 and "MaxPooling2D" in err.message and "0 × 0" in err.message


def test_dense_on_a_map_refused():
    err = _refused([Conv2D(4, 3), Dropout(0.2), Dense(10), Flatten()])
    assert err.index == 3 and "add Flatten or GlobalAveragePooling2D before Dense" in err.message
    # the output layer the builder adds needs a flat input too
    err = _refused([Conv2D(4, 3), Dropout(0.2)])
    assert err.index == 3 and "add Flatten or GlobalAveragePooling2D before Dense" in err.message
    assert builder.validate([Conv2D(4, 3), Flatten(), Dropout(0.2), Dense(8)], (28, 28, 1), 10)


def test_map_layers_after_flatten_refused():
    for spec in (Conv2D(4, 3), MaxPooling2D(), AveragePooling2D(), GlobalAveragePooling2D()):
        err = _refused([Flatten(), spec])
        assert err.index == 2 and "before Flatten" in err.message


def test_too_many_parameters_refused():
    specs = [Conv2D(8, 3), Flatten(), Dense(64)]   # 80 + (26*26*8 + 1)*64 = 346,256
    assert builder.validate(specs, (28, 28, 1), 10, max_params=400_000)
    err = _refused(specs, max_params=100_000)
    assert err.index == 3 and "100,000" in err.message and "346,256" in err.message
    err = _refused([Conv2D(8, 3), Flatten()], max_params=50_000)   # the output layer crosses it
    assert err.index == 3 and "parameters" in err.message


@pytest.mark.parametrize("spec,field", [
    (Conv2D(filters=0), "filters"), (Conv2D(filters=129), "filters"), (Conv2D(filters=3.0), "filters"),
    (Conv2D(filters=True), "filters"), (Conv2D(kernel_size=8), "kernel_size"),
    (Conv2D(strides=5), "strides"), (Conv2D(dilation_rate=0), "dilation_rate"),
    (Conv2D(padding="full"), "padding"), (Conv2D(activation="swishy"), "activation"),
    (Conv2D(use_bias="yes"), "use_bias"), (Conv2D(kernel_initializer="eval"), "kernel_initializer"),
    (Conv2D(kernel_regularizer=0.0), "kernel_regularizer"),
    (Conv2D(kernel_regularizer=float("nan")), "kernel_regularizer"),
    (MaxPooling2D(pool_size=8), "pool_size"), (AveragePooling2D(strides=0), "strides"),
    (Activation(None), "activation"), (Dropout(0.95), "rate"), (Dropout(-0.1), "rate"),
    (Dense(0), "units"), (Dense(1025), "units"), (Dense(8, "Relu"), "activation"),
])
def test_out_of_range_values_refused(spec, field):
    specs = [Flatten(), spec] if isinstance(spec, (Dense, Dropout, Activation)) else [spec, Flatten()]
    at = specs.index(spec) + 1
    err = _refused(specs)
    assert err.index == at
    assert err.message.startswith(f"Layer {at} ({layer_specs.kind(spec)}): {field} must be")


def test_whole_network_problems_refused():
    assert _refused([]).index == 0 and "no layers" in _refused([]).message
    assert _refused([Flatten()] * (layer_specs.MAX_LAYERS + 1)).index == 0
    assert "input shape" in _refused([Flatten()], (28, 28)).message
    assert "input shape" in _refused([Flatten()], (28, 10 ** 6, 1)).message
    assert "classes" in _refused([Flatten()], (28, 28, 1), 1).message
    err = _refused([Flatten(), "Dense(10)"])
    assert err.index == 2 and "not a layer spec" in err.message


@pytest.mark.parametrize("specs,only_too_big", [
    ([Conv2D(filters=10 ** 9), Flatten()], False),
    ([Conv2D(kernel_size=10 ** 6), Flatten()], False),
    ([Flatten(), Dense(10 ** 9)], False),
    ([Flatten()] * 10 ** 6, False),
    ([Conv2D(64, 3, padding="same"), Flatten(), Dense(1024), Dense(1024), Dense(1024)], True),   # 269M
])
def test_hostile_specs_refused_without_building(specs, only_too_big, monkeypatch):
    def no_build(*args, **kwargs):
        raise AssertionError("a Keras model was built")
    monkeypatch.setattr(builder, "build", no_build)
    monkeypatch.setattr(keras, "Sequential", no_build)
    monkeypatch.setattr(layers, "Conv2D", no_build)
    monkeypatch.setattr(layers, "Dense", no_build)
    with pytest.raises(BuildError) as info:
        builder.validate(specs, (64, 64, 3), 10)
    assert len(info.value.message) < 300
    if not only_too_big:   # keras_code has no parameter limit, but refuses the rest the same way
        with pytest.raises(BuildError):
            spec_code.keras_code(specs, (64, 64, 3), 10)


ROUND_TRIP = [
    [Conv2D(32, 3, strides=2, padding="same", activation="relu", use_bias=False,
            kernel_initializer="he_normal", kernel_regularizer=0.001),
     BatchNormalization(), Activation("softplus"), MaxPooling2D(3, 1, "same"),
     Conv2D(4, 2, dilation_rate=3), AveragePooling2D(2), Dropout(0.2), GlobalAveragePooling2D(),
     Dense(16, "tanh")],
    *architectures.PRESETS.values(),
]


@pytest.mark.slow
@pytest.mark.parametrize("specs", ROUND_TRIP)
def test_keras_code_round_trip(specs):
    code = spec_code.keras_code(specs, (28, 28, 1), 10)
    assert code.count("model.add(") == len(specs) + 2
    assert "model = keras.Sequential()\nmodel.add(keras.Input(shape=(28, 28, 1)))\n" in code
    scope = {"keras": keras, "layers": layers}
    exec(code, scope)
    copied, built = scope["model"], builder.build(specs, (28, 28, 1), 10)
    assert [type(x).__name__ for x in copied.layers] == [type(x).__name__ for x in built.layers]
    assert [tuple(x.output.shape) for x in copied.layers] == [tuple(x.output.shape) for x in built.layers]
    assert [x.count_params() for x in copied.layers] == [x.count_params() for x in built.layers]
    assert copied.count_params() == built.count_params()
    for a, b in zip(copied.layers, built.layers):   # every setting the spec has, not only shapes
        ca, cb = a.get_config(), b.get_config()
        for key in ("strides", "padding", "dilation_rate", "activation", "use_bias", "pool_size", "rate"):
            assert ca.get(key) == cb.get(key), (type(a).__name__, key)
        for key in ("kernel_initializer", "kernel_regularizer"):
            assert (ca.get(key) or {}).get("class_name") == (cb.get(key) or {}).get("class_name")
            if key == "kernel_regularizer" and ca.get(key):
                assert ca[key]["config"] == cb[key]["config"]


def test_keras_code_writes_only_non_default_arguments():
    code = spec_code.keras_code([Conv2D(32, 3), MaxPooling2D(), Flatten()], (28, 28, 1), 10)
    assert 'model.add(layers.Conv2D(32, (3, 3)))\n' in code
    assert 'model.add(layers.MaxPooling2D((2, 2)))\n' in code
    assert code.endswith('model.add(layers.Flatten())\nmodel.add(layers.Dense(10, activation="softmax"))\n')
    code = spec_code.keras_code([Conv2D(8, 5, strides=2, padding="same", activation="relu"), Flatten()],
                              (28, 28, 1), 10)
    assert 'layers.Conv2D(8, (5, 5), strides=(2, 2), padding="same", activation="relu")' in code


@pytest.mark.slow
def test_presets_match_models():
    for name, shape in (("digits_cnn", (28, 28, 1)), ("small_vgg", (32, 32, 3)), ("wide_vgg", (32, 32, 3))):
        reference = models.ARCHITECTURES[name](shape)
        summary = builder.validate(architectures.PRESETS[name], shape, 10)
        assert summary.total_params == reference.count_params(), name
        assert summary.trainable_params == sum(w.numpy().size for w in reference.trainable_weights)
        convs = [x for x in reference.layers if isinstance(x, layers.Conv2D)]
        specs = [s for s in architectures.PRESETS[name] if isinstance(s, Conv2D)]
        assert [c.filters for c in convs] == [s.filters for s in specs]
        assert [c.padding for c in convs] == [s.padding for s in specs]
        assert [c.use_bias for c in convs] == [s.use_bias for s in specs]
        keep = (layers.Conv2D, layers.BatchNormalization, layers.MaxPooling2D, layers.Flatten,
                layers.Dropout, layers.Dense)
        ref_kinds = [type(x).__name__ for x in reference.layers if isinstance(x, keep)]
        assert [r.kind for r in summary.rows if r.kind in set(ref_kinds)] == ref_kinds
        keras.backend.clear_session(free_memory=False)


@pytest.mark.slow
def test_presets_are_sound():
    shapes = {(28, 28, 1), (32, 32, 3)}
    for name, specs in architectures.PRESETS.items():
        for shape in shapes:
            assert builder.validate(specs, shape, 10).total_params > 0, name
    assert builder.validate(architectures.PRESETS["lenet5"], (28, 28, 1), 10).total_params == 61_706
    sig = architectures.PRESETS["deep_sigmoid"]
    assert sum(isinstance(s, Conv2D) for s in sig) == 8
    assert all(s.activation == "sigmoid" for s in sig if isinstance(s, Conv2D))
    assert builder.validate(architectures.PRESETS["tiny"], (28, 28, 1), 10).total_params < 20_000


def test_seed_makes_weights_repeatable():
    specs = [Conv2D(4, 3, kernel_initializer="he_uniform"), Flatten(), Dense(5)]
    a, b = (builder.build(specs, (8, 8, 1), 3, seed=7) for _ in range(2))
    c = builder.build(specs, (8, 8, 1), 3, seed=8)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        assert (wa == wb).all()
    assert any((wa != wc).any() for wa, wc in zip(a.get_weights(), c.get_weights()))


def test_dict_round_trip():
    for spec in ROUND_TRIP[0]:
        assert layer_specs.from_dict(layer_specs.to_dict(spec)) == spec
    with pytest.raises(ValueError, match="Unknown layer kind"):
        layer_specs.from_dict({"kind": "Lambda"})
    with pytest.raises(ValueError, match="no setting"):
        layer_specs.from_dict({"kind": "Dense", "units": 3, "function": "os.system"})


def test_every_activation_and_initializer_is_known_to_keras():
    for name in layer_specs.ACTIVATIONS:
        assert keras.activations.get(name)
    for name in layer_specs.INITIALIZERS:
        assert keras.initializers.get(name)


# --- link text ---------------------------------------------------------------------------------

def test_link_text_round_trips_every_preset_and_every_kind():
    for name, specs in architectures.PRESETS.items():
        assert list(spec_links.from_link(spec_links.to_link(specs))) == list(specs), name
    every = [Conv2D(8, 5, strides=2, padding="same", activation="elu", use_bias=False,
                    kernel_initializer="he_normal", kernel_regularizer=1e-4),
             layer_specs.MaxPooling2D(3, strides=1, padding="same"), layer_specs.AveragePooling2D(2),
             layer_specs.BatchNormalization(), layer_specs.Activation("tanh"), layer_specs.Dropout(0.25),
             layer_specs.GlobalAveragePooling2D(), Dense(32, "relu"), layer_specs.Dropout(0.5), Flatten()]
    text = spec_links.to_link(every)
    assert list(spec_links.from_link(text)) == every
    assert re.fullmatch(r"[A-Za-z0-9_.~-]+", text)   # nothing a URL would escape


@pytest.mark.parametrize("text, reason", [
    ("", "1 to 600 characters"), ("X", "unknown code"), ("C~z3", "unknown setting"),
    ("C~f16~f8", "unknown setting"), ("C~fabc", "not a value for filters"), ("U~unan", "not a value"),
    ("D~rinf", "not a value for rate"), ("C~b2", "not a value for use_bias"), ("F_" * 41 + "F", "at most 40"),
])
def test_bad_link_text_is_refused_with_a_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        spec_links.from_link(text)


def test_link_values_out_of_range_are_left_to_check():
    specs = spec_links.from_link("C~f999_F")
    with pytest.raises(BuildError, match="filters must be a whole number from 1 to 128"):
        spec_check.check(specs, (28, 28, 1), 10)
