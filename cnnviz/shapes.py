"""Tensor shapes as Keras sees them: the batch axis first, then the data in channels_last or
channels_first order (the lesson's "Input shape / Output shape").

    >>> batch_shape((28, 28, 1))                      # one grey picture for Conv2D
    (1, 28, 28, 1)
    >>> batch_shape((28, 28, 1), "channels_first")
    (1, 1, 28, 28)
    >>> axis_names(3, "channels_first")
    ('batch_size', 'channels', 'rows', 'cols')

Conv1D's tensors are (batch_size, steps, input_dim), or (batch_size, input_dim, steps) with
channels_first. No TensorFlow here: moving the channel axis is all there is to it.
"""
from __future__ import annotations

import numpy as np

DATA_FORMATS = ("channels_last", "channels_first")
_NAMES = {2: ("steps", "input_dim"), 3: ("rows", "cols", "channels")}


def _check(ndim: int, data_format: str) -> None:
    if data_format not in DATA_FORMATS:
        raise ValueError(f"data_format must be one of {', '.join(DATA_FORMATS)}, not {data_format!r}.")
    if ndim not in _NAMES:
        raise ValueError(f"expected one sample with 2 (steps, input_dim) or 3 (rows, cols, channels) "
                         f"axes, got {ndim}.")


def axis_names(ndim: int, data_format: str = "channels_last") -> tuple[str, ...]:
    """The names of a batched tensor's axes for one sample of `ndim` axes (channels last)."""
    _check(ndim, data_format)
    names = _NAMES[ndim]
    if data_format == "channels_first":
        names = (names[-1], *names[:-1])
    return ("batch_size", *names)


def batch_shape(shape, data_format: str = "channels_last", batch: int | None = 1) -> tuple:
    """One sample's channels-last shape as the batched tensor's shape in `data_format`
    (batch None: Keras's "any number", as model.summary() prints it)."""
    shape = tuple(int(n) for n in shape)
    _check(len(shape), data_format)
    if data_format == "channels_first":
        shape = (shape[-1], *shape[:-1])
    return (batch, *shape)


def layout(sample: np.ndarray, data_format: str = "channels_last") -> np.ndarray:
    """One channels-last sample (steps x dim, or rows x cols x channels) as the batched array
    Keras takes in `data_format`: the same numbers, the channel axis moved."""
    x = np.asarray(sample)
    _check(x.ndim, data_format)
    x = x[None]
    return np.moveaxis(x, -1, 1) if data_format == "channels_first" else x


def shape_text(shape, data_format: str = "channels_last", batch: int | None = 1) -> str:
    """'(batch_size, rows, cols, channels) = (1, 28, 28, 1)'."""
    names = axis_names(len(shape), data_format)
    values = batch_shape(shape, data_format, batch)
    return f"({', '.join(names)}) = ({', '.join('None' if v is None else str(v) for v in values)})"
