"""The names of Keras's private package `keras.src` that .keras files carry (written for Keras 3.15).

A .keras file names the Python module of every object in it. Keras 3 writes public names where
it has them (`keras.layers`, `keras.initializers`), but a functional model as
`keras.src.models.functional`, and files from earlier Keras 3 versions name the private modules
where the classes live (`keras.src.layers.convolutional.conv2d`). model_files.py reads these
names as data, before and without importing Keras, so the names it accepts live here; check()
(at start-up, where Keras is loaded: ui/model_cache.py) makes sure the installed Keras writes
names they accept.
"""
from __future__ import annotations

import functools

from cnnviz.compat import Library

WRITTEN_FOR = "3.15"
PRIVATE = "keras.src"

MODEL_MODULES = frozenset({"keras", "keras.models", f"{PRIVATE}.models", f"{PRIVATE}.models.model",
                           f"{PRIVATE}.models.functional", f"{PRIVATE}.models.sequential"})
"""Where Keras says a model class (Sequential, Functional, Model) lives."""


def is_layers_module(module) -> bool:
    """`keras.layers`, or a module of Keras's private layers package."""
    return module == "keras.layers" or (isinstance(module, str) and module.startswith(f"{PRIVATE}.layers."))


def is_family_module(module, family: str) -> bool:
    """A module of keras.<family> (initializers, regularizers, constraints, dtype_policies)."""
    return isinstance(module, str) and (
        module in (f"keras.{family}", f"{PRIVATE}.{family}")
        or module.startswith(f"{PRIVATE}.{family}.")
        or (family == "dtype_policies" and module == "keras"))


@functools.cache
def check(serialize=None, version: str | None = None) -> Library:
    """Raise InternalsChanged unless the names Keras writes for a model, a layer and each family
    of objects are ones this module accepts. serialize: keras.saving.serialize_keras_object."""
    import keras

    keras_library = Library.found("keras", WRITTEN_FOR, "keras_internals", version or keras.__version__)
    serialize = serialize or keras.saving.serialize_keras_object
    # Named, so that Keras's counters for automatic names ("dense_1", ...) are left as they were.
    x = keras.Input((2,), name="cnnviz_check_input")
    functional = keras.Model(x, keras.layers.Dense(1, name="cnnviz_check_dense")(x), name="cnnviz_check")
    sequential = keras.Sequential([keras.Input((2,), name="cnnviz_check_input"),
                                   keras.layers.Dense(1, name="cnnviz_check_dense")], name="cnnviz_check")
    written = {
        "a functional model": (functional, MODEL_MODULES.__contains__),
        "a Sequential model": (sequential, MODEL_MODULES.__contains__),
        "a Dense layer": (keras.layers.Dense(1, name="cnnviz_check_dense"), is_layers_module),
        "an initializer": (keras.initializers.GlorotUniform(), lambda m: is_family_module(m, "initializers")),
        "a regularizer": (keras.regularizers.L2(), lambda m: is_family_module(m, "regularizers")),
        "a constraint": (keras.constraints.MaxNorm(), lambda m: is_family_module(m, "constraints")),
        "a dtype policy": (keras.DTypePolicy("float32"), lambda m: is_family_module(m, "dtype_policies")),
    }
    for what, (obj, accepted) in written.items():
        module = serialize(obj).get("module")
        keras_library.require(accepted(module), f"module name for {what} that cnnviz accepts in a .keras "
                                                f"file (it writes {module!r})")
    return keras_library
