"""A network's layer specs as short URL-safe text for links, and back (TensorFlow-free).
"""
from __future__ import annotations

import dataclasses
import math

from cnnviz.layer_specs import KINDS, MAX_LAYERS, kind, short


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
            raise ValueError(f"layer {position} has the unknown code {short(parts[0])}")
        cls = KINDS[by_letter[parts[0]]]
        fields = {_FIELD_LETTERS[f.name]: f for f in dataclasses.fields(cls)}
        values = {}
        for part in parts[1:]:
            f = fields.get(part[:1])
            if f is None or f.name in values:
                raise ValueError(f"layer {position} ({cls.__name__}) has the unknown setting {short(part)}")
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
        raise ValueError(f"layer {position} ({name}): {short(text)} is not a value for {f.name}") from None
