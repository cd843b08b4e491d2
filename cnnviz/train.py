"""Training loop, progress callbacks, model cards and evaluation.

``train()`` is what ``python -m cnnviz train`` runs. The model is written to a
temporary file and moved into place only when training has finished, so an
interrupted run never leaves a broken model where the good one was.
"""
from __future__ import annotations

import pathlib
import time
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from cnnviz import data as data_mod
from cnnviz import model_cards, models


class TrainingCancelled(RuntimeError):
    """A listener asked training to stop; nothing was written."""


@dataclass
class Context:
    """What listeners may look at once training begins (the data as the model sees it)."""
    model: keras.Model
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list
    steps_per_epoch: int
    total_steps: int
    data_description: str


class TrainingListener:
    """Subscribe to training progress; override what you need.

    A UI can show progress from these calls and stop training by returning a reason (any true
    value) from ``should_stop``; ``on_batch_end`` may block, which pauses training.
    """

    def on_train_begin(self, context: Context) -> None: ...

    def on_epoch_end(self, epoch: int, epochs: int, logs: dict) -> None: ...

    def on_batch_end(self, batch: int, batches: int, logs: dict) -> None: ...

    def on_train_end(self, step: int) -> None: ...

    def should_stop(self):
        return False


class _ListenerBridge(keras.callbacks.Callback):
    def __init__(self, listeners, epochs: int, batches: int, max_steps: int):
        super().__init__()
        self.listeners, self.epochs, self.batches = listeners, epochs, batches
        self.max_steps, self.step = max_steps, 0
        self.stop_reason = None

    def _check_stop(self):
        for listener in self.listeners:
            reason = listener.should_stop()
            if reason:
                self.stop_reason = reason if isinstance(reason, str) else "stopped"
        if self.stop_reason is None and self.step >= self.max_steps:
            self.stop_reason = "step limit"
        if self.stop_reason is not None:
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        for listener in self.listeners:
            listener.on_batch_end(batch, self.batches, dict(logs or {}))
        self._check_stop()

    def on_epoch_end(self, epoch, logs=None):
        for listener in self.listeners:
            listener.on_epoch_end(epoch, self.epochs, dict(logs or {}))
        self._check_stop()


OPTIMIZERS = ("adamw_cosine", "adam", "sgd")
#: TrainConfig.dataset for a person's own pictures (cfg.pictures; see cnnviz.own_pictures).
OWN = "own"


@dataclass
class TrainConfig:
    dataset: str
    epochs: int
    out: pathlib.Path
    arch: str | None = None          # a cnnviz.models architecture or a cnnviz.builder preset
    layers: list | None = None       # builder layer dicts (to_dict form); used instead of arch
    data: str | None = None
    starter_fallback: bool = False   # no full dataset: train on the shipped starter subset
    seed: int = 0
    limit: int | None = None
    batch_size: int = 128
    learning_rate: float = 2e-3
    optimizer: str = "adamw_cosine"  # AdamW with warm-up and cosine decay; or plain adam / sgd
    momentum: float = 0.9            # sgd only
    max_steps: int | None = None
    keep_if_stopped: bool = False    # a stopped run still evaluates and writes its model
    epoch_validation: bool = True
    validation_fraction: float = 0.1
    augment: bool = True
    verbose: int = 1
    command: str = ""
    listeners: list = field(default_factory=list)
    pictures: object = None          # an own_pictures.PictureSet, with dataset="own"
    transfer: bool = False           # own pictures: reuse the CIFAR-10 network's conv blocks, frozen
    held_out: float = 0.2            # own pictures: the part of each class held out (seeded)


def _augmenter(dataset: str, seed: int):
    """Random transforms applied to training batches only."""
    if dataset == OWN:
        from cnnviz.own_pictures import training as own
        return own.augmenter(seed)
    if dataset == "mnist":
        # Hand-drawn digits are shifted, tilted and sized differently from MNIST's.
        return keras.Sequential([
            keras.layers.RandomRotation(0.04, fill_mode="constant", seed=seed),
            keras.layers.RandomZoom(0.12, fill_mode="constant", seed=seed + 1),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 2),
        ])
    if dataset == "fashion_mnist":
        return keras.Sequential([
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomTranslation(0.07, 0.07, fill_mode="constant", seed=seed + 1),
        ])
    # cifar10: flips and random 32x32 crops of the image padded by 4 pixels.
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.ZeroPadding2D(4),
        keras.layers.RandomCrop(32, 32, seed=seed + 1),
    ])


def _pipeline(x, y, batch_size, seed, shuffle=False, augment=None):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        # Sequential map: parallel calls would draw the random transforms in a varying order.
        ds = ds.map(lambda a, b: (augment(a, training=True), b))
    return ds.prefetch(tf.data.AUTOTUNE)


def _load(cfg: TrainConfig):
    if cfg.starter_fallback:
        found = data_mod.load_for_training(cfg.dataset, cfg.data)
        return ((found.x_train, found.y_train), (found.x_test, found.y_test),
                list(found.class_names), found.description)
    (xtr, ytr), (xte, yte), names = data_mod.load_dataset(cfg.dataset, cfg.data)
    return (xtr, ytr), (xte, yte), names, f"{data_mod.TABLE[cfg.dataset].title}: {len(xtr):,} " \
        f"training and {len(xte):,} test images"


def _model(cfg: TrainConfig) -> tuple[keras.Model, str]:
    """The network to train and the name its card gives it."""
    from cnnviz import architectures, builder, layer_specs
    if cfg.dataset == OWN:
        from cnnviz.own_pictures import training as own
        n_classes = len(cfg.pictures.class_names)
        if cfg.transfer:
            return own.transfer_model(n_classes, cfg.seed), f"transfer from {own.TRANSFER_FROM}"
        shape = own.INPUT_SHAPE
    else:
        shape, n_classes = models.INPUT_SHAPES[cfg.dataset], len(data_mod.CLASS_NAMES[cfg.dataset])
    if cfg.layers is not None:
        specs = [layer_specs.from_dict(d) for d in cfg.layers]
        return builder.build(specs, shape, n_classes, seed=cfg.seed), "built in cnnviz"
    arch = cfg.arch or models.DEFAULT_ARCH.get(cfg.dataset, "tiny")
    if arch in models.ARCHITECTURES:   # the named networks first: their layers are named conv1, bn1, ...
        return models.ARCHITECTURES[arch](shape, n_classes), arch
    if arch in architectures.PRESETS:
        return builder.build(architectures.PRESETS[arch], shape, n_classes, seed=cfg.seed), arch
    raise ValueError(f"Unknown architecture {arch!r}; choose one of "
                     f"{', '.join(dict.fromkeys([*models.ARCHITECTURES, *architectures.PRESETS]))}.")


def _optimizer(cfg: TrainConfig, total_steps: int):
    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(cfg.learning_rate)
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(cfg.learning_rate, momentum=cfg.momentum)
    if cfg.optimizer != "adamw_cosine":
        raise ValueError(f"Unknown optimizer {cfg.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}.")
    schedule = keras.optimizers.schedules.CosineDecay(
        cfg.learning_rate * 0.1, decay_steps=total_steps, warmup_target=cfg.learning_rate,
        warmup_steps=min(total_steps, max(1, total_steps // 10)))
    return keras.optimizers.AdamW(schedule, weight_decay=5e-4)


def train(cfg: TrainConfig) -> dict:
    """Train, evaluate on the full test set, write model and card; return the card.

    The one training loop of cnnviz: ``python -m cnnviz train`` calls it directly and the
    /train page calls it in a worker process (cnnviz.live) with listeners that report progress.
    """
    model, card = fit(cfg)
    model_cards.write_model(model, cfg.out, card)
    return card


def _split(cfg: TrainConfig):
    """(x_train, y_train), (x_val, y_val), (x_test, y_test) as uint8 images, the class names, the
    data's description and, for own pictures, their split (else None).

    Own pictures have no third part: the held-out pictures are both what the live curves are
    measured on and what the card's figures are (the card says so)."""
    if cfg.dataset == OWN:
        from cnnviz.own_pictures import training as own
        split = own.split_data(cfg.pictures, cfg.held_out, cfg.seed)
        held = (split["x_held"], split["y_held"])
        return ((split["x_train"], split["y_train"]), held, held, list(cfg.pictures.class_names),
                split["description"], split)
    (xtr, ytr), (xte, yte), class_names, description = _load(cfg)
    order = np.random.default_rng(cfg.seed).permutation(len(xtr))
    if cfg.limit:
        order = order[: cfg.limit]
    n_val = max(1, int(len(order) * cfg.validation_fraction))
    val_idx, tr_idx = order[:n_val], order[n_val:]
    return ((xtr[tr_idx], ytr[tr_idx]), (xtr[val_idx], ytr[val_idx]), (xte, yte), class_names,
            description, None)


def fit(cfg: TrainConfig) -> tuple[keras.Model, dict]:
    """train() without writing anything: the trained model and its card (cfg.out names it)."""
    (xtr, y_train), (xva, y_val), (xte, yte), class_names, description, own_split = _split(cfg)
    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()  # same seed, same model
    x_train, x_val = model_cards.to_model_input(xtr), model_cards.to_model_input(xva)

    model, arch = _model(cfg)
    steps = int(np.ceil(len(x_train) / cfg.batch_size))
    total_steps = min(steps * cfg.epochs, cfg.max_steps or steps * cfg.epochs)
    model.compile(optimizer=_optimizer(cfg, total_steps),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    augment = _augmenter(cfg.dataset, cfg.seed) if cfg.augment else None
    bridge = _ListenerBridge(cfg.listeners, cfg.epochs, steps, total_steps)
    context = Context(model, x_train, y_train, x_val, y_val, model_cards.to_model_input(xte), yte,
                      class_names, steps, total_steps, description)
    for listener in cfg.listeners:
        listener.on_train_begin(context)
    started = time.time()
    history = model.fit(_pipeline(x_train, y_train, cfg.batch_size, cfg.seed, True, augment),
                        validation_data=(_pipeline(x_val, y_val, 500, cfg.seed)
                                         if cfg.epoch_validation else None),
                        epochs=cfg.epochs, callbacks=[bridge], verbose=cfg.verbose, shuffle=False)
    seconds = time.time() - started
    for listener in cfg.listeners:
        listener.on_train_end(bridge.step)
    reason = bridge.stop_reason
    if reason == "step limit" and total_steps == steps * cfg.epochs:
        reason = None   # the last step of the last epoch: a normal end
    if reason not in (None, "step limit") and not cfg.keep_if_stopped:
        raise TrainingCancelled("Training was stopped before the end; the old model is kept.")

    evaluation, probs = model_cards.evaluate(model, xte, yte, class_names, with_probabilities=True)
    extra = {}
    if own_split is not None:
        from cnnviz.own_pictures import training as own
        extra = own.held_out_extras(probs, own_split, cfg.pictures, cfg.transfer, cfg.held_out)
    card = model_cards.card(
        name=cfg.out.stem, dataset=cfg.dataset, class_names=class_names, arch=arch, model=model,
        epochs=cfg.epochs, batch_size=cfg.batch_size, seed=cfg.seed, train_samples=len(x_train),
        validation_samples=len(x_val), augmentation=cfg.augment, history=history.history,
        seconds=seconds, machine_text=model_cards.machine(), command=cfg.command,
        tensorflow_version=tf.__version__, optimizer=cfg.optimizer, learning_rate=cfg.learning_rate,
        steps=bridge.step, stop_reason=reason, data=description, **extra, evaluation=evaluation)
    return model, card
