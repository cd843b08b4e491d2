"""Everything the builder refuses, and each layer's output shape and parameter count, by arithmetic.

TensorFlow-free: types, ranges, output sizes (conv_arithmetic.window_count, as Keras computes them)
and parameter totals are checked before anything is built, so a hostile spec costs no memory.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

from cnnviz.conv_arithmetic import window_count
from cnnviz.images import shape_text
from cnnviz.layer_specs import (KINDS, MAX_CHANNELS, MAX_CLASSES, MAX_INPUT_SIDE, MAX_LAYERS, MAX_PARAMS,
                                NEEDS_MAP, AveragePooling2D, BatchNormalization, BuildError, Conv2D, Dense, Flatten,
                                GlobalAveragePooling2D, MaxPooling2D, kind, short)


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: tuple[int, ...]   # without the batch axis
    params: int


@dataclass(frozen=True)
class Summary:
    rows: tuple[LayerRow, ...]      # one per spec, then the output layer
    total_params: int
    trainable_params: int


def _value_problem(f: dataclasses.Field, value) -> str | None:
    """Why ``value`` is not allowed for field ``f``, or None."""
    meta = f.metadata
    if value is None and meta.get("optional"):
        return None
    if meta["type"] == "bool":
        return None if isinstance(value, bool) else f"{f.name} must be True or False, not {short(value)}"
    if meta["type"] == "choice":
        choices = meta["choices"]
        if isinstance(value, str) and value in choices:
            return None
        extra = " or None" if meta.get("optional") else ""
        return f"{f.name} must be one of {', '.join(choices)}{extra}, not {short(value)}"
    lo, hi = meta["range"]
    extra = " (or None)" if meta.get("optional") else ""
    if meta["type"] == "int":
        if isinstance(value, numbers.Integral) and not isinstance(value, bool) and lo <= value <= hi:
            return None
        return f"{f.name} must be a whole number from {lo} to {hi}{extra}, not {short(value)}"
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
          and (lo < value if meta.get("open_low") else lo <= value) and value <= hi)
    if ok:
        return None
    low = f"above {lo}" if meta.get("open_low") else f"from {lo}"
    return f"{f.name} must be a number {low} to {hi}{extra}, not {short(value)}"


def _check_inputs(specs, input_shape, n_classes) -> tuple[list, tuple[int, int, int], int]:
    if isinstance(specs, (str, bytes, dict)) or not hasattr(specs, "__len__"):
        raise BuildError(0, "The network must be a list of layer specs.")
    if len(specs) == 0:
        raise BuildError(0, "The network has no layers: add at least one layer (for example Flatten).")
    if len(specs) > MAX_LAYERS:
        raise BuildError(0, f"The network has {len(specs)} layers; at most {MAX_LAYERS} are allowed.")
    specs = list(specs)
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else ()
    if (len(shape) != 3
            or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in shape)
            or not (1 <= shape[0] <= MAX_INPUT_SIDE and 1 <= shape[1] <= MAX_INPUT_SIDE
                    and 1 <= shape[2] <= MAX_CHANNELS)):
        raise BuildError(0, f"The input shape must be (height, width, channels) with sides 1 to "
                            f"{MAX_INPUT_SIDE} and 1 to {MAX_CHANNELS} channels, not {short(input_shape)}.")
    if (not isinstance(n_classes, numbers.Integral) or isinstance(n_classes, bool)
            or not 2 <= n_classes <= MAX_CLASSES):
        raise BuildError(0, f"The number of classes must be a whole number from 2 to {MAX_CLASSES}, "
                            f"not {short(n_classes)}.")
    return specs, tuple(int(n) for n in shape), int(n_classes)


def _layer_plan(i: int, spec, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """(output shape, parameter count) of one checked spec on an input of ``shape``."""
    where = f"Layer {i} ({kind(spec)})"
    if isinstance(spec, NEEDS_MAP) and len(shape) != 3:
        raise BuildError(i, f"{where} needs a feature map (height × width × channels) but gets a flat "
                            f"vector of {shape[0]} values: move it before Flatten.")
    if isinstance(spec, Conv2D):
        if spec.strides != 1 and spec.dilation_rate != 1:
            raise BuildError(i, f"{where}: Keras does not allow strides ≠ 1 together with dilation_rate "
                                f"≠ 1 in one Conv2D (strides={spec.strides}, dilation_rate="
                                f"{spec.dilation_rate}); set one of them to 1.")
        span = (spec.kernel_size - 1) * spec.dilation_rate + 1
        h, w = (window_count(n, spec.kernel_size, spec.strides, spec.padding, spec.dilation_rate)
                for n in shape[:2])
        if h < 1 or w < 1:
            raise BuildError(i, f"{where}: the feature map would shrink to {h} × {w} (0 or less): its "
                                f"{shape_text(shape[:2])} input is smaller than the kernel's span of "
                                f"{span} pixels. Use padding=\"same\", a smaller kernel or dilation, "
                                f"or less pooling before it.")
        params = spec.kernel_size ** 2 * shape[2] * spec.filters + (spec.filters if spec.use_bias else 0)
        return (h, w, spec.filters), params
    if isinstance(spec, (MaxPooling2D, AveragePooling2D)):
        stride = spec.strides if spec.strides is not None else spec.pool_size
        h, w = (window_count(n, spec.pool_size, stride, spec.padding) for n in shape[:2])
        if h < 1 or w < 1:
            raise BuildError(i, f"{where}: the feature map would shrink to {h} × {w} (0 or less): its "
                                f"{shape_text(shape[:2])} input is smaller than the {spec.pool_size} × "
                                f"{spec.pool_size} pool. Use padding=\"same\", a smaller pool, or remove it.")
        return (h, w, shape[2]), 0
    if isinstance(spec, GlobalAveragePooling2D):
        return (shape[2],), 0
    if isinstance(spec, Flatten):
        return (math.prod(shape),), 0
    if isinstance(spec, Dense):
        if len(shape) != 1:
            raise BuildError(i, f"{where} gets a {shape_text(shape)} feature map: add Flatten or "
                                f"GlobalAveragePooling2D before Dense.")
        return (spec.units,), (shape[0] + 1) * spec.units
    if isinstance(spec, BatchNormalization):
        return shape, 4 * shape[-1]   # gamma, beta, moving mean, moving variance per channel
    return shape, 0                   # Activation, Dropout


def check(specs, input_shape, n_classes: int, max_params: int = MAX_PARAMS) -> list[tuple[tuple[int, ...], int]]:
    """Everything ``validate`` refuses, found by arithmetic alone (nothing is built).

    Returns the predicted (output shape, parameter count) per spec and then for the output layer;
    raises BuildError for the first problem.
    """
    specs, shape, n_classes = _check_inputs(specs, input_shape, n_classes)
    for i, spec in enumerate(specs, start=1):
        if type(spec) not in KINDS.values():
            raise BuildError(i, f"Layer {i} is {short(spec)}, not a layer spec; use one of "
                                f"{', '.join(KINDS)}.")
        for f in dataclasses.fields(spec):
            problem = _value_problem(f, getattr(spec, f.name))
            if problem:
                raise BuildError(i, f"Layer {i} ({kind(spec)}): {problem}.")
    plan, total = [], 0
    output = Dense(n_classes, "softmax")
    for i, spec in enumerate([*specs, output], start=1):
        if spec is output and len(shape) != 1:
            raise BuildError(i, f"Layer {i} (the output Dense({n_classes}, softmax) that the builder "
                                f"adds) would get a {shape_text(shape)} feature map: add Flatten or "
                                f"GlobalAveragePooling2D before Dense, at the end of the network.")
        shape, params = _layer_plan(i, spec, shape)
        total += params
        if total > max_params:
            raise BuildError(i, f"Layer {i} ({kind(spec)}) brings the network to {total:,} parameters, "
                                f"more than the limit of {max_params:,}. Use fewer filters or units, "
                                f"or more pooling before Flatten.")
        plan.append((shape, params))
    return plan
