"""Your own pictures (issue N): a few labelled pictures per class, from a zip, a folder, files or
arrays, kept in memory, to train a network on (cnnviz.train, cnnviz.live with dataset="own").

    >>> from cnnviz import own_pictures
    >>> pictures, note = own_pictures.read_folder("photos/")       # one folder per class
    >>> model, card = own_pictures.train_on(pictures, transfer=True)

UI-free; importing this package does not import TensorFlow (train_on does, when called).
"""
from cnnviz.own_pictures.archive import DECODE_SIDE, Limits, read_files, read_folder, read_zip
from cnnviz.own_pictures.generated import SHAPES, shapes
from cnnviz.own_pictures.picture_set import (MAX_CLASSES, MAX_NAME_CHARS, MAX_PER_CLASS, MAX_TOTAL,
                                             MIN_CLASSES, SIZE, PictureError, PictureSet, check_name,
                                             to_picture)

#: Names from own_pictures.training, imported (with TensorFlow) when first used.
_TRAINING = ("DATASET", "TRANSFER_FROM", "defaults", "train_on", "transfer_model")

__all__ = [*_TRAINING, "DECODE_SIDE", "Limits", "MAX_CLASSES", "MAX_NAME_CHARS", "MAX_PER_CLASS", "MAX_TOTAL",
           "MIN_CLASSES", "PictureError", "PictureSet", "SHAPES", "SIZE", "check_name", "read_files",
           "read_folder", "read_zip", "shapes", "to_picture"]


def __getattr__(name: str):
    if name in _TRAINING:
        from cnnviz.own_pictures import training
        return getattr(training, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
