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


class TrainingListener:
    """Subscribe to training progress; override what you need.

    A UI can show progress from these calls and stop training by returning
    True from ``should_stop``.
    """

    def on_epoch_end(self, epoch: int, epochs: int, logs: dict) -> None: ...

    def on_batch_end(self, batch: int, batches: int, logs: dict) -> None: ...

    def should_stop(self) -> bool:
        return False


class _ListenerBridge(keras.callbacks.Callback):
    def __init__(self, listeners, epochs: int, batches: int):
        super().__init__()
        self.listeners, self.epochs, self.batches = listeners, epochs, batches
        self.cancelled = False

    def _check_stop(self):
        if any(listener.should_stop() for listener in self.listeners):
            self.cancelled = True
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        for listener in self.listeners:
            listener.on_batch_end(batch, self.batches, dict(logs or {}))
        self._check_stop()

    def on_epoch_end(self, epoch, logs=None):
        for listener in self.listeners:
            listener.on_epoch_end(epoch, self.epochs, dict(logs or {}))
        self._check_stop()


@dataclass
class TrainConfig:
    dataset: str
    epochs: int
    out: pathlib.Path
    arch: str | None = None
    data: str | None = None
    seed: int = 0
    limit: int | None = None
    batch_size: int = 128
    learning_rate: float = 2e-3
    validation_fraction: float = 0.1
    augment: bool = True
    verbose: int = 1
    command: str = ""
    listeners: list = field(default_factory=list)


def _augmenter(dataset: str, seed: int):
    """Random transforms applied to training batches only."""
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


def _pipeline(x, y, batch_size, seed, augment=None):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if augment is not None:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        # Sequential map: parallel calls would draw the random transforms in a varying order.
        ds = ds.map(lambda a, b: (augment(a, training=True), b))
    return ds.prefetch(tf.data.AUTOTUNE)


def train(cfg: TrainConfig) -> dict:
    """Train, evaluate on the full test set, write model and card; return the card."""
    arch = cfg.arch or models.DEFAULT_ARCH[cfg.dataset]
    (xtr, ytr), (xte, yte), class_names = data_mod.load_dataset(cfg.dataset, cfg.data)
    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()  # same seed, same model
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(len(xtr))
    if cfg.limit:
        order = order[: cfg.limit]
    n_val = max(1, int(len(order) * cfg.validation_fraction))
    val_idx, tr_idx = order[:n_val], order[n_val:]
    x_train, y_train = model_cards.to_model_input(xtr[tr_idx]), ytr[tr_idx]
    x_val, y_val = model_cards.to_model_input(xtr[val_idx]), ytr[val_idx]

    model = models.build(arch, cfg.dataset)
    steps = int(np.ceil(len(x_train) / cfg.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(
        cfg.learning_rate * 0.1, decay_steps=steps * cfg.epochs, warmup_target=cfg.learning_rate,
        warmup_steps=min(steps, steps * cfg.epochs // 10))
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=5e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy"])
    augment = _augmenter(cfg.dataset, cfg.seed) if cfg.augment else None
    bridge = _ListenerBridge(cfg.listeners, cfg.epochs, steps)
    started = time.time()
    history = model.fit(_pipeline(x_train, y_train, cfg.batch_size, cfg.seed, augment),
                        validation_data=_pipeline(x_val, y_val, 500, cfg.seed),
                        epochs=cfg.epochs, callbacks=[bridge], verbose=cfg.verbose, shuffle=False)
    seconds = time.time() - started
    if bridge.cancelled:
        raise TrainingCancelled("Training was stopped before the end; the old model is kept.")

    card = model_cards.card(
        name=cfg.out.stem, dataset=cfg.dataset, class_names=class_names, arch=arch, model=model,
        epochs=cfg.epochs, batch_size=cfg.batch_size, seed=cfg.seed, train_samples=len(x_train),
        validation_samples=len(x_val), augmentation=cfg.augment, history=history.history,
        seconds=seconds, machine_text=model_cards.machine(), command=cfg.command,
        tensorflow_version=tf.__version__,
        evaluation=model_cards.evaluate(model, xte, yte, class_names))
    model_cards.write_model(model, cfg.out, card)
    return card
