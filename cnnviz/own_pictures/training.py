"""Training on your own pictures: the data split, the transfer network, the card's extras, and
train_on, the notebook function. The loop itself is cnnviz.train's (dataset="own").

    >>> from cnnviz.own_pictures import train_on
    >>> model, card = train_on("photos/", transfer=True)                 # one folder per class
    >>> model, card = train_on(images, labels=y, class_names=["cup", "pen"])
    >>> card["per_class_accuracy"], card["confusion_matrix"], card["wrong"]

From scratch, the network is the builder's (layer specs, default: the /train page's "tiny"), with a
32 x 32 x 3 input and one output per class. With transfer=True the shipped CIFAR-10 network's
convolution blocks (conv1 ... pool3, with their batch normalisation) are reused, frozen, and only a
new head (dropout and one dense layer) learns.

Imports TensorFlow/Keras.
"""
from __future__ import annotations

import pathlib

import keras
import numpy as np

from cnnviz import model_cards, models
from cnnviz.own_pictures.picture_set import SIZE, PictureError, PictureSet

__all__ = ["DATASET", "INPUT_SHAPE", "TRANSFER_FROM", "defaults", "held_out_extras", "split_data",
           "train_on", "transfer_model"]

#: TrainConfig.dataset / JobSettings.dataset / the card's "dataset" for own pictures.
DATASET = "own"
INPUT_SHAPE = (SIZE, SIZE, 3)
#: The shipped network whose convolution blocks transfer reuses, and the last layer taken.
TRANSFER_FROM, TRANSFER_UNTIL = "cifar10", "pool3"
#: The most wrong held-out pictures listed on the card (the surest first).
MAX_WRONG = 50

# Measured on the generated shapes (3 x 60, seeds 0-2): transfer reached 97 % held out by epochs
# 8, 5 and 20; augmentation made each epoch about twice as slow on two cores for no gain there, so
# it starts off (real photos may gain from it: the page's switch).
_DEFAULTS = {
    False: {"epochs": 30, "batch_size": 32, "learning_rate": 3e-3, "optimizer": "adam", "augment": False},
    True: {"epochs": 20, "batch_size": 32, "learning_rate": 3e-3, "optimizer": "adam", "augment": False},
}


def defaults(transfer: bool) -> dict:
    """Settings that train a few dozen pictures per class in seconds (epochs, batch_size,
    learning_rate, optimizer, augment): what the /train page and train_on start from."""
    return dict(_DEFAULTS[bool(transfer)])


# --------------------------------------------------------------------------- data

def split_data(pictures: PictureSet, held_out: float, seed: int) -> dict:
    """The set's stratified seeded split as arrays: x_train, y_train, x_held, y_held (uint8 images),
    train_index, held_index (into the set) and a one-line description."""
    if not isinstance(pictures, PictureSet):
        raise PictureError("Training on your own pictures needs a PictureSet (pictures=...).")
    train_index, held_index = pictures.split(held_out, seed)
    n = len(pictures.class_names)
    description = (f"Your own pictures: {n} classes, {len(train_index)} to learn from and "
                   f"{len(held_index)} held out ({held_out:.0%} of each class, seed {seed})")
    return {"x_train": pictures.images[train_index], "y_train": pictures.labels[train_index],
            "x_held": pictures.images[held_index], "y_held": pictures.labels[held_index],
            "train_index": train_index, "held_index": held_index, "description": description}


def augmenter(seed: int) -> keras.Sequential:
    """Flips and small shifts (a tenth of the side), on training batches only."""
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed + 1),
    ])


# --------------------------------------------------------------------------- the networks

def transfer_model(n_classes: int, seed: int = 0) -> keras.Model:
    """The shipped CIFAR-10 network up to TRANSFER_UNTIL, frozen, then a new head that learns:
    flatten, dropout1, logits (n_classes), softmax. Layer names as the explorer knows them."""
    base = models.load_pretrained(TRANSFER_FROM)
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = inputs
    for layer in base.layers[1:]:
        layer.trainable = False          # batch normalisation then runs in inference mode too
        x = layer(x)
        if layer.name == TRANSFER_UNTIL:
            break
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(0.3, seed=seed, name="dropout1")(x)
    x = keras.layers.Dense(n_classes, kernel_initializer=keras.initializers.GlorotUniform(seed),
                           name="logits")(x)
    return keras.Model(inputs, keras.layers.Softmax(name="softmax")(x), name="transfer_from_cifar10")


def frozen_layers(model: keras.Model) -> list[str]:
    """The names of the layers with weights that do not learn."""
    return [layer.name for layer in model.layers if layer.weights and not layer.trainable]


# --------------------------------------------------------------------------- the card

def held_out_extras(probs: np.ndarray, data: dict, pictures: PictureSet, transfer: bool,
                    held_out: float) -> dict:
    """What the card adds for own pictures: the split's counts, transfer or scratch, and the
    held-out pictures the network gets wrong (surest first), from its probabilities on them."""
    names = pictures.class_names
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != data["y_held"])
    wrong = wrong[np.argsort(-probs[wrong, predicted[wrong]], kind="stable")][:MAX_WRONG]
    count = lambda labels: {name: int(np.sum(labels == c)) for c, name in enumerate(names)}   # noqa: E731
    return {
        "transfer": bool(transfer),
        "transfer_from": TRANSFER_FROM if transfer else None,
        "held_out_fraction": float(held_out),
        "held_out": count(data["y_held"]),
        "learned_from": count(data["y_train"]),
        "held_out_index": [int(i) for i in data["held_index"]],
        "wrong": [{"held_out": int(k), "index": int(data["held_index"][k]),
                   "true": names[int(data["y_held"][k])], "predicted": names[int(predicted[k])],
                   "probability": round(float(probs[k, predicted[k]]), 4)} for k in wrong],
        "wrong_count": int(np.sum(predicted != data["y_held"])),
    }


# --------------------------------------------------------------------------- notebooks

def train_on(folder_or_arrays, labels=None, class_names=None, transfer: bool = False, layers=None,
             held_out: float = 0.2, augment: bool | None = None, seed: int = 0, epochs: int | None = None,
             batch_size: int | None = None, learning_rate: float | None = None, out=None,
             listeners=(), verbose: int = 0) -> tuple[keras.Model, dict]:
    """Train on your own pictures; return (the trained model, its card).

    folder_or_arrays: a folder holding one folder per class, a PictureSet, or images (a list or
    array, any size each) with `labels` (class indices) and optionally `class_names`. layers:
    builder layer dicts or specs (default: the "tiny" preset); ignored with transfer=True. out: a
    .keras path to also write the model and its card (.json) to; otherwise nothing is written.
    """
    from cnnviz import architectures, layer_specs, train
    from cnnviz.own_pictures.archive import read_folder
    if isinstance(folder_or_arrays, PictureSet):
        pictures = folder_or_arrays
    elif isinstance(folder_or_arrays, (str, pathlib.Path)):
        pictures, _ = read_folder(folder_or_arrays)
    else:
        if labels is None:
            raise PictureError("Give the labels of the pictures (labels=...), one class index each.")
        pictures, _ = PictureSet.from_arrays(folder_or_arrays, labels, class_names)
    pictures.check_trainable()
    specs = architectures.PRESETS["tiny"] if layers is None else layers
    dicts = [s if isinstance(s, dict) else layer_specs.to_dict(s) for s in specs]
    chosen = {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate, "augment": augment}
    settings = {**defaults(transfer), **{k: v for k, v in chosen.items() if v is not None}}
    path = pathlib.Path(out if out is not None else "own_pictures.keras")    # names the card
    config = train.TrainConfig(dataset=DATASET, out=path, layers=dicts, pictures=pictures,
                               transfer=transfer, held_out=held_out, seed=seed, verbose=verbose,
                               listeners=list(listeners), command="cnnviz.own_pictures.train_on",
                               **settings)
    model, card = train.fit(config)
    if out is not None:
        model_cards.write_model(model, path, card)
    return model, card
