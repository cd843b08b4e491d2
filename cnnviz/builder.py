"""Architecture specs -> validated Keras models, output shapes, parameter counts and Keras code.

A network is a list of layer specs (small frozen dataclasses, one per layer kind, with Keras's
defaults and the ranges a student may pick from). The builder always appends the classification
layer itself: ``Dense(n_classes, activation="softmax")``; a spec list describes everything before
it and must end in a flat vector (after ``Flatten`` or ``GlobalAveragePooling2D``).

    specs = [builder.Conv2D(8, 3, activation="relu"), builder.MaxPooling2D(2), builder.Flatten()]
    summary = builder.validate(specs, (28, 28, 1), 10)   # shapes and parameter counts from Keras
    print(builder.keras_code(specs, (28, 28, 1), 10))    # the same network as Sequential code

``validate`` first checks everything that can be checked by arithmetic (types, ranges, output
sizes, parameter totals) and only then builds the model, so a hostile spec costs no memory. The
numbers it reports are read back from the Keras model. Problems raise :class:`BuildError` whose
``index`` is the 1-based position of the layer at fault (0: the input or the list as a whole;
``len(specs) + 1``: the output layer the builder adds).
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

import keras
from keras import layers

from cnnviz.images import shape_text

#: Largest parameter count ``validate`` and ``build`` accept unless told otherwise.
MAX_PARAMS = 2_000_000
#: Longest spec list accepted (the output layer not counted).
MAX_LAYERS = 40
#: Input images: height and width 1..MAX_INPUT_SIDE, 1..MAX_CHANNELS channels.
MAX_INPUT_SIDE = 256
MAX_CHANNELS = 4
MAX_CLASSES = 1000

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softplus", "softsign", "elu", "selu", "gelu", "silu",
               "leaky_relu", "relu6", "hard_sigmoid", "linear", "softmax")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                "lecun_normal", "random_normal", "random_uniform", "orthogonal", "zeros", "ones")
PADDINGS = ("valid", "same")


class BuildError(ValueError):
    """A spec list Keras would refuse, or that the builder refuses (too big, out of range).

    ``index``: 1-based position of the layer at fault; 0 for the input shape, the number of
    classes or the list as a whole; ``len(specs) + 1`` for the output layer the builder adds.
    ``message``: one line for a student, starting with "Layer N (Kind):" when a layer is at fault.
    """

    def __init__(self, index: int, message: str):
        super().__init__(message)
        self.index = index
        self.message = message


# --- layer specs ----------------------------------------------------------------------------

def _int(default, lo: int, hi: int, optional: bool = False):
    return field(default=default, metadata={"type": "int", "range": (lo, hi), "optional": optional})


def _float(default, lo: float, hi: float, optional: bool = False, open_low: bool = False):
    return field(default=default, metadata={"type": "float", "range": (lo, hi), "optional": optional,
                                            "open_low": open_low})


def _choice(default, choices, optional: bool = False):
    return field(default=default, metadata={"type": "choice", "choices": tuple(choices),
                                            "optional": optional})


def _bool(default: bool):
    return field(default=default, metadata={"type": "bool"})


@dataclass(frozen=True)
class Conv2D:
    """``layers.Conv2D``: square kernels, the same stride and dilation along both axes."""
    filters: int = _int(32, 1, 128)
    kernel_size: int = _int(3, 1, 7)
    strides: int = _int(1, 1, 4)
    padding: str = _choice("valid", PADDINGS)
    dilation_rate: int = _int(1, 1, 4)
    activation: str | None = _choice(None, ACTIVATIONS, optional=True)
    use_bias: bool = _bool(True)
    kernel_initializer: str = _choice("glorot_uniform", INITIALIZERS)
    #: L2 factor of ``keras.regularizers.L2`` on the kernel, or None for no regularizer.
    kernel_regularizer: float | None = _float(None, 0.0, 1.0, optional=True, open_low=True)


@dataclass(frozen=True)
class MaxPooling2D:
    pool_size: int = _int(2, 1, 7)
    #: None: the same as pool_size (Keras's default).
    strides: int | None = _int(None, 1, 4, optional=True)
    padding: str = _choice("valid", PADDINGS)


@dataclass(frozen=True)
class AveragePooling2D:
    pool_size: int = _int(2, 1, 7)
    strides: int | None = _int(None, 1, 4, optional=True)
    padding: str = _choice("valid", PADDINGS)


@dataclass(frozen=True)
class BatchNormalization:
    pass


@dataclass(frozen=True)
class Activation:
    activation: str = _choice("relu", ACTIVATIONS)


@dataclass(frozen=True)
class Dropout:
    rate: float = _float(0.5, 0.0, 0.9)


@dataclass(frozen=True)
class Flatten:
    pass


@dataclass(frozen=True)
class GlobalAveragePooling2D:
    pass


@dataclass(frozen=True)
class Dense:
    units: int = _int(64, 1, 1024)
    activation: str | None = _choice(None, ACTIVATIONS, optional=True)


#: Layer kind (the Keras class name) -> its spec class.
KINDS: dict[str, type] = {cls.__name__: cls for cls in (
    Conv2D, MaxPooling2D, AveragePooling2D, BatchNormalization, Activation, Dropout, Flatten,
    GlobalAveragePooling2D, Dense)}
_NEEDS_MAP = (Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D)


def kind(spec) -> str:
    return type(spec).__name__


def to_dict(spec) -> dict:
    """``{"kind": "Conv2D", "filters": 32, ...}``; :func:`from_dict` reverses it."""
    return {"kind": kind(spec), **dataclasses.asdict(spec)}


def from_dict(d: dict):
    """A spec from :func:`to_dict`'s form (values are checked later, by ``validate``)."""
    d = dict(d)
    name = d.pop("kind", None)
    if name not in KINDS:
        raise ValueError(f"Unknown layer kind {name!r}; choose one of {', '.join(KINDS)}.")
    known = {f.name for f in dataclasses.fields(KINDS[name])}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"{name} has no setting {unknown[0]!r}; it has {', '.join(sorted(known)) or 'none'}.")
    return KINDS[name](**d)


# --- a short text form for links ---------------------------------------------------------------

_KIND_LETTERS = {"Conv2D": "C", "MaxPooling2D": "M", "AveragePooling2D": "A", "BatchNormalization": "B",
                 "Activation": "R", "Dropout": "D", "Flatten": "F", "GlobalAveragePooling2D": "G",
                 "Dense": "U"}
_FIELD_LETTERS = {"filters": "f", "kernel_size": "k", "strides": "s", "padding": "p", "dilation_rate": "d",
                  "activation": "a", "use_bias": "b", "kernel_initializer": "i", "kernel_regularizer": "l",
                  "pool_size": "k", "rate": "r", "units": "u"}
MAX_LINK_CHARS = 600


def to_link(specs) -> str:
    """The layers as short URL-safe text, non-default arguments only: ``C~f16~arelu_M_F``.

    Layers are joined by "_", arguments by "~"; each argument is a letter and its value
    (n for None, 1/0 for True/False; "_" in names becomes ".": leaky.relu, he.normal).
    :func:`from_link` reverses it.
    """
    tokens = []
    for spec in specs:
        parts = [_KIND_LETTERS[kind(spec)]]
        for f in dataclasses.fields(spec):
            value = getattr(spec, f.name)
            if value == f.default and type(value) is type(f.default):
                continue
            text = "n" if value is None else ("1" if value is True else "0" if value is False else str(value))
            parts.append(_FIELD_LETTERS[f.name] + text.replace("_", "."))
        tokens.append("~".join(parts))
    return "_".join(tokens)


def from_link(text: str) -> list:
    """Specs from :func:`to_link`'s text; ValueError with a short reason when it is not that.

    Values are converted by each field's declared type; ranges and the network's shape are for
    :func:`check` to judge, as for any other specs.
    """
    if not isinstance(text, str) or not text or len(text) > MAX_LINK_CHARS:
        raise ValueError(f"a network must be 1 to {MAX_LINK_CHARS} characters of layer codes")
    by_letter = {v: k for k, v in _KIND_LETTERS.items()}
    specs = []
    for position, token in enumerate(text.split("_"), start=1):
        parts = token.split("~")
        if parts[0] not in by_letter:
            raise ValueError(f"layer {position} has the unknown code {_short(parts[0])}")
        cls = KINDS[by_letter[parts[0]]]
        fields = {_FIELD_LETTERS[f.name]: f for f in dataclasses.fields(cls)}
        values = {}
        for part in parts[1:]:
            f = fields.get(part[:1])
            if f is None or f.name in values:
                raise ValueError(f"layer {position} ({cls.__name__}) has the unknown setting {_short(part)}")
            values[f.name] = _from_text(f, part[1:], position, cls.__name__)
        specs.append(cls(**values))
    if len(specs) > MAX_LAYERS:
        raise ValueError(f"a network has at most {MAX_LAYERS} layers, not {len(specs)}")
    return specs


def _from_text(f: dataclasses.Field, text: str, position: int, name: str):
    meta = f.metadata
    try:
        if text == "n" and meta.get("optional"):
            return None
        if meta["type"] == "bool":
            return {"1": True, "0": False}[text]
        if meta["type"] == "int":
            return int(text)
        if meta["type"] == "float":
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
        return text.replace(".", "_")
    except (KeyError, ValueError):
        raise ValueError(f"layer {position} ({name}): {_short(text)} is not a value for {f.name}") from None


# --- cheap checks: types, ranges, shapes and parameter counts by arithmetic -----------------

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


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _value_problem(f: dataclasses.Field, value) -> str | None:
    """Why ``value`` is not allowed for field ``f``, or None."""
    meta = f.metadata
    if value is None and meta.get("optional"):
        return None
    if meta["type"] == "bool":
        return None if isinstance(value, bool) else f"{f.name} must be True or False, not {_short(value)}"
    if meta["type"] == "choice":
        choices = meta["choices"]
        if isinstance(value, str) and value in choices:
            return None
        extra = " or None" if meta.get("optional") else ""
        return f"{f.name} must be one of {', '.join(choices)}{extra}, not {_short(value)}"
    lo, hi = meta["range"]
    extra = " (or None)" if meta.get("optional") else ""
    if meta["type"] == "int":
        if isinstance(value, numbers.Integral) and not isinstance(value, bool) and lo <= value <= hi:
            return None
        return f"{f.name} must be a whole number from {lo} to {hi}{extra}, not {_short(value)}"
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
          and (lo < value if meta.get("open_low") else lo <= value) and value <= hi)
    if ok:
        return None
    low = f"above {lo}" if meta.get("open_low") else f"from {lo}"
    return f"{f.name} must be a number {low} to {hi}{extra}, not {_short(value)}"


def _window_out(n: int, window: int, stride: int, padding: str) -> int:
    """Output length along one axis as Keras computes it (may be 0 or negative for "valid")."""
    if padding == "same":
        return -(-n // stride)
    return (n - window) // stride + 1


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
                            f"{MAX_INPUT_SIDE} and 1 to {MAX_CHANNELS} channels, not {_short(input_shape)}.")
    if (not isinstance(n_classes, numbers.Integral) or isinstance(n_classes, bool)
            or not 2 <= n_classes <= MAX_CLASSES):
        raise BuildError(0, f"The number of classes must be a whole number from 2 to {MAX_CLASSES}, "
                            f"not {_short(n_classes)}.")
    return specs, tuple(int(n) for n in shape), int(n_classes)


def _layer_plan(i: int, spec, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """(output shape, parameter count) of one checked spec on an input of ``shape``."""
    where = f"Layer {i} ({kind(spec)})"
    if isinstance(spec, _NEEDS_MAP) and len(shape) != 3:
        raise BuildError(i, f"{where} needs a feature map (height × width × channels) but gets a flat "
                            f"vector of {shape[0]} values: move it before Flatten.")
    if isinstance(spec, Conv2D):
        if spec.strides != 1 and spec.dilation_rate != 1:
            raise BuildError(i, f"{where}: Keras does not allow strides ≠ 1 together with dilation_rate "
                                f"≠ 1 in one Conv2D (strides={spec.strides}, dilation_rate="
                                f"{spec.dilation_rate}); set one of them to 1.")
        span = (spec.kernel_size - 1) * spec.dilation_rate + 1
        h, w = (_window_out(n, span, spec.strides, spec.padding) for n in shape[:2])
        if h < 1 or w < 1:
            raise BuildError(i, f"{where}: the feature map would shrink to {h} × {w} (0 or less): its "
                                f"{shape_text(shape[:2])} input is smaller than the kernel's span of "
                                f"{span} pixels. Use padding=\"same\", a smaller kernel or dilation, "
                                f"or less pooling before it.")
        params = spec.kernel_size ** 2 * shape[2] * spec.filters + (spec.filters if spec.use_bias else 0)
        return (h, w, spec.filters), params
    if isinstance(spec, (MaxPooling2D, AveragePooling2D)):
        stride = spec.strides if spec.strides is not None else spec.pool_size
        h, w = (_window_out(n, spec.pool_size, stride, spec.padding) for n in shape[:2])
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
            raise BuildError(i, f"Layer {i} is {_short(spec)}, not a layer spec; use one of "
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


# --- Keras --------------------------------------------------------------------------------

def _initializer(name: str, seed: int | None):
    init = keras.initializers.get(name)
    if seed is not None and "seed" in init.get_config():
        init = type(init).from_config({**init.get_config(), "seed": seed})
    return init


def _keras_layer(spec, name: str, seed: int | None):
    if isinstance(spec, Conv2D):
        reg = spec.kernel_regularizer
        return layers.Conv2D(spec.filters, spec.kernel_size, strides=spec.strides, padding=spec.padding,
                             dilation_rate=spec.dilation_rate, activation=spec.activation,
                             use_bias=spec.use_bias,
                             kernel_initializer=_initializer(spec.kernel_initializer, seed),
                             kernel_regularizer=None if reg is None else keras.regularizers.L2(reg),
                             name=name)
    if isinstance(spec, (MaxPooling2D, AveragePooling2D)):
        cls = getattr(layers, kind(spec))
        return cls(spec.pool_size, strides=spec.strides, padding=spec.padding, name=name)
    if isinstance(spec, Dense):
        return layers.Dense(spec.units, activation=spec.activation,
                            kernel_initializer=_initializer("glorot_uniform", seed), name=name)
    if isinstance(spec, Dropout):
        return layers.Dropout(spec.rate, seed=seed, name=name)
    if isinstance(spec, Activation):
        return layers.Activation(spec.activation, name=name)
    return getattr(layers, kind(spec))(name=name)   # BatchNormalization, Flatten, GlobalAveragePooling2D


def layer_names(specs) -> list[str]:
    """conv2d_1, conv2d_2, max_pooling2d_1, ...: Keras-like names numbered per kind from 1."""
    counts: dict[str, int] = {}
    names = []
    for spec in specs:
        base = {"Conv2D": "conv2d", "MaxPooling2D": "max_pooling2d",
                "AveragePooling2D": "average_pooling2d",
                "GlobalAveragePooling2D": "global_average_pooling2d",
                "BatchNormalization": "batch_normalization"}.get(kind(spec), kind(spec).lower())
        counts[base] = counts.get(base, 0) + 1
        names.append(f"{base}_{counts[base]}")
    return names


def build(specs, input_shape, n_classes: int, seed: int | None = None,
          max_params: int = MAX_PARAMS) -> keras.Model:
    """The Sequential model of ``specs`` plus the output ``Dense(n_classes, softmax)``.

    Runs :func:`check` first. ``seed`` makes the initial weights (and dropout masks) repeatable;
    each layer gets ``seed + position`` so layers differ. Nothing global is seeded.
    """
    check(specs, input_shape, n_classes, max_params)
    specs = [*specs, Dense(n_classes, "softmax")]
    model = keras.Sequential(name="built_cnn")
    model.add(keras.Input(shape=tuple(input_shape)))
    names = layer_names(specs[:-1]) + ["output"]
    for i, (spec, name) in enumerate(zip(specs, names), start=1):
        try:
            model.add(_keras_layer(spec, name, None if seed is None else seed + i))
        except ValueError as e:   # a case check() missed: still name the layer
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise BuildError(i, f"Layer {i} ({kind(spec)}): Keras refused it: {reason}") from e
    return model


def validate(specs, input_shape, n_classes: int, max_params: int = MAX_PARAMS) -> Summary:
    """Check ``specs`` (cheaply first), build the model and read its shapes and parameter counts.

    The rows are one per spec and then the output layer; shapes and counts are Keras's own
    (``layer.output.shape`` without the batch axis, ``layer.count_params()``).
    """
    check(specs, input_shape, n_classes, max_params)
    model = build(specs, input_shape, n_classes, max_params=max_params)
    kinds = [kind(s) for s in specs] + ["Dense"]
    rows = tuple(LayerRow(layer.name, k, tuple(int(n) for n in layer.output.shape[1:]),
                          int(layer.count_params()))
                 for layer, k in zip(model.layers, kinds))
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return Summary(rows, int(model.count_params()), int(trainable))


# --- code -------------------------------------------------------------------------------------

def _pair(n: int) -> str:
    return f"({n}, {n})"


def _arguments(spec) -> list[str]:
    """The arguments of the layer's call in Keras code: defining sizes always, others if not default."""
    args = []
    if isinstance(spec, Conv2D):
        args += [str(spec.filters), _pair(spec.kernel_size)]
    elif isinstance(spec, (MaxPooling2D, AveragePooling2D)):
        args.append(_pair(spec.pool_size))
    elif isinstance(spec, Dense):
        args.append(str(spec.units))
    elif isinstance(spec, Dropout):
        args.append(repr(float(spec.rate)))
    elif isinstance(spec, Activation):
        args.append(f'"{spec.activation}"')
    positional = {"filters", "kernel_size", "pool_size", "units", "rate"} | (
        {"activation"} if isinstance(spec, Activation) else set())
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if f.name in positional or value == f.default:
            continue
        if f.name in ("strides", "dilation_rate"):
            text = _pair(value)
        elif f.name == "kernel_regularizer":
            text = f"keras.regularizers.L2({float(value)!r})"
        elif isinstance(value, str):
            text = f'"{value}"'
        else:
            text = repr(value)
        args.append(f"{f.name}={text}")
    return args


def keras_code(specs, input_shape, n_classes: int) -> str:
    """The network as the lesson writes it: ``keras.Sequential()`` and one ``model.add`` per layer.

    Raises BuildError for the same problems as :func:`check` (with no parameter limit).
    """
    check(specs, input_shape, n_classes, max_params=math.inf)
    lines = ["import keras", "from keras import layers", "", "model = keras.Sequential()",
             f"model.add(keras.Input(shape={tuple(int(n) for n in input_shape)!r}))"]
    for spec in [*specs, Dense(n_classes, "softmax")]:
        lines.append(f"model.add(layers.{kind(spec)}({', '.join(_arguments(spec))}))")
    return "\n".join(lines) + "\n"


# --- presets ------------------------------------------------------------------------------------

def _conv_bn_relu(filters: int) -> tuple:
    """models._conv_block with batch norm: conv (no bias) -> batch norm -> ReLU."""
    return (Conv2D(filters, 3, padding="same", use_bias=False), BatchNormalization(), Activation("relu"))


_HEAD = (Flatten(), Dropout(0.3), Dense(128), Activation("relu"), Dropout(0.3))   # models._head

#: Ready-made networks (the output Dense(n_classes, softmax) is added by the builder).
#: digits_cnn, small_vgg and wide_vgg have the layers and parameter counts of cnnviz.models' networks.
PRESETS: dict[str, tuple] = {
    # Two small convolutions: about 13,000 parameters, past 98 % on MNIST in two epochs.
    "tiny": (Conv2D(16, 3, activation="relu"), MaxPooling2D(2),
             Conv2D(32, 3, activation="relu"), MaxPooling2D(2), Flatten()),
    "lenet5": (Conv2D(6, 5, padding="same", activation="tanh"), AveragePooling2D(2),
               Conv2D(16, 5, activation="tanh"), AveragePooling2D(2), Flatten(),
               Dense(120, "tanh"), Dense(84, "tanh")),
    "digits_cnn": (*_conv_bn_relu(32), *_conv_bn_relu(32), MaxPooling2D(2),
                   *_conv_bn_relu(64), *_conv_bn_relu(64), MaxPooling2D(2),
                   Conv2D(64, 3), Activation("relu"), *_HEAD),
    "small_vgg": (*_conv_bn_relu(32), *_conv_bn_relu(32), MaxPooling2D(2),
                  *_conv_bn_relu(64), *_conv_bn_relu(64), MaxPooling2D(2),
                  *_conv_bn_relu(64), *_conv_bn_relu(64), MaxPooling2D(2), *_HEAD),
    "wide_vgg": (*_conv_bn_relu(32), *_conv_bn_relu(32), MaxPooling2D(2),
                 *_conv_bn_relu(64), *_conv_bn_relu(64), MaxPooling2D(2),
                 *_conv_bn_relu(128), *_conv_bn_relu(128), MaxPooling2D(2), *_HEAD),
    # Eight sigmoid convolutions: the gradient reaching the first layers all but vanishes.
    "deep_sigmoid": (*[Conv2D(16, 3, padding="same", activation="sigmoid")] * 3, MaxPooling2D(2),
                     *[Conv2D(16, 3, padding="same", activation="sigmoid")] * 3, MaxPooling2D(2),
                     *[Conv2D(16, 3, padding="same", activation="sigmoid")] * 2, Flatten()),
}
