"""Layer specs: the layers a student may stack, as small frozen dataclasses (TensorFlow-free).

A network is a list of layer specs, one per layer kind, with Keras's defaults and the ranges a
student may pick from. The builder always appends the classification layer itself:
``Dense(n_classes, activation="softmax")``; a spec list describes everything before it and must
end in a flat vector (after ``Flatten`` or ``GlobalAveragePooling2D``).

- spec_check: what Keras would refuse, shapes and parameter counts, by arithmetic alone
- spec_links: the short text of a network in a link; spec_code: the same network as Keras code
- architectures: ready-made networks; builder: specs -> a Keras model (imports TensorFlow)

Problems raise :class:`BuildError` whose ``index`` is the 1-based position of the layer at fault
(0: the input or the list as a whole; ``len(specs) + 1``: the output layer the builder adds).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


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
NEEDS_MAP = (Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D)


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


def short(value) -> str:
    """repr(value), cut to 40 characters (for one-line messages)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
