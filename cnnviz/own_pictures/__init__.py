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

__all__ = ["DECODE_SIDE", "Limits", "MAX_CLASSES", "MAX_NAME_CHARS", "MAX_PER_CLASS", "MAX_TOTAL",
           "MIN_CLASSES", "PictureError", "PictureSet", "SHAPES", "SIZE", "check_name", "read_files",
           "read_folder", "read_zip", "shapes", "to_picture"]
