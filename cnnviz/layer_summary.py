"""model.summary() of a builder network by arithmetic: the rows builder.validate reads from a
built Keras model (names, output shapes, parameter counts), without building it.

/train shows the summary as a visitor edits. Building the model for it cost up to 0.8 s of CPU
and ~10 MB a time for the largest network a link may carry (40 layers, 2 M parameters); this
costs under a millisecond. tests/test_layer_summary.py checks it against builder.validate
(Keras's own numbers) on every kind of layer, the presets and that largest network.

    >>> from cnnviz import architectures, layer_summary
    >>> layer_summary.summarise(architectures.PRESETS["lenet5"], (28, 28, 1), 10).total_params
    61706
"""
from __future__ import annotations

from cnnviz import layer_specs, spec_check


def summarise(specs, input_shape, n_classes: int,
              max_params: int = layer_specs.MAX_PARAMS) -> spec_check.Summary:
    """builder.validate's Summary from spec_check.check's shapes and counts; BuildError as check."""
    plan = spec_check.check(specs, input_shape, n_classes, max_params)
    specs = list(specs)
    kinds = [layer_specs.kind(s) for s in specs] + ["Dense"]
    names = layer_specs.layer_names(specs) + ["output"]
    rows = tuple(spec_check.LayerRow(name, k, tuple(shape), params)
                 for name, k, (shape, params) in zip(names, kinds, plan))
    total = sum(row.params for row in rows)
    # BatchNormalization's moving mean and variance (half its 4 per channel) are not trained
    frozen = sum(row.params // 2 for row in rows if row.kind == "BatchNormalization")
    return spec_check.Summary(rows, total, total - frozen)
