"""The training worker process of cnnviz.live: it imports TensorFlow, runs one job with
cnnviz.train.train and reports through its pipe.

The reporter measures at fixed steps (so the same seed gives the same curves): validation loss
and accuracy on the first VALIDATION_IMAGES held-out images, each layer's gradient size on
GRADIENT_IMAGES training images, the first convolution's kernels and the answers on
GALLERY_IMAGES test images; it sends what is new every TICK_SECONDS, blocks while paused and
stops training when told to or at the job's time limit.
"""
from __future__ import annotations

import os
import pathlib
import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cnnviz.live import JobSettings, Limits

#: How often a worker sends what it has (seconds); the page redraws at about the same rate.
TICK_SECONDS = 0.25
#: Measurements (validation, gradients, kernels) per run, at evenly spaced steps.
MEASUREMENTS = 40
VALIDATION_IMAGES = 1000
GRADIENT_IMAGES = 128
GALLERY_IMAGES = 16
#: Own pictures: fewer measurements and gradient images (a frozen CIFAR-10 network in front makes
#: each pass costly, and a run of 15 epochs of 5 steps would otherwise measure at every step).
OWN_MEASUREMENTS = 20
OWN_GRADIENT_IMAGES = 32


def limit_threads(threads: int) -> None:
    """TensorFlow on `threads` cores (before it runs anything): the rest stay with the web server."""
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def worker_main(conn, stop, pause, limits: Limits) -> None:
    try:
        os.nice(10)   # the web server answers visitors first
    except OSError:
        pass
    limit_threads(limits.threads)   # warm: a job starts without the 7 s import
    from cnnviz import train  # noqa: F401
    conn.send({"kind": "ready"})
    try:
        job = conn.recv()
    except (EOFError, OSError):
        return
    settings, out_dir = job
    try:
        _run_job(settings, pathlib.Path(out_dir), conn, stop, pause, limits)
    except Exception as e:  # any failure becomes one line on the page
        from cnnviz import data, layer_specs
        if isinstance(e, (data.DataError, layer_specs.BuildError)):
            text = str(e)
        else:
            text = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
        conn.send({"kind": "failed", "message": text[:400]})
    finally:
        conn.close()


def _run_job(settings: JobSettings, out_dir: pathlib.Path, conn, stop, pause, limits: Limits):
    from cnnviz import train
    reporter = _Reporter(conn, stop, pause, limits, settings)
    config = train.TrainConfig(
        dataset=settings.dataset, epochs=settings.epochs, out=out_dir / "trained.keras",
        layers=list(settings.layers), data=settings.data, starter_fallback=True, seed=settings.seed,
        batch_size=settings.batch_size, learning_rate=settings.learning_rate,
        optimizer=settings.optimizer, max_steps=limits.max_steps, keep_if_stopped=True,
        epoch_validation=False, augment=settings.augment, verbose=0,
        command="trained on the cnnviz /train page", listeners=[reporter],
        pictures=settings.pictures, transfer=settings.transfer, held_out=settings.held_out)
    card = train.train(config)
    conn.send({"kind": "finished", "card": card, "model_file": str(config.out)})


class _Reporter:
    """The worker's listener: measures at fixed steps, sends what is new every tick, obeys Stop."""

    def __init__(self, conn, stop, pause, limits: Limits, settings: JobSettings):
        self.conn, self.stop, self.pause, self.limits, self.settings = conn, stop, pause, limits, settings
        self.step, self.epoch, self.paused_for = 0, 0, 0.0
        self.loss, self.accuracy, self.measured, self.snapshots, self.tests = [], [], [], [], []
        self.last_sent = 0.0

    # --- set-up: fixed data for measurements, one compiled function each
    def on_train_begin(self, ctx) -> None:
        import keras
        import tensorflow as tf
        self.ctx, model = ctx, ctx.model
        self.started = time.monotonic()
        own = self.settings.dataset == "own"     # a few pictures, many epochs: measure less often
        self.every = max(1, ctx.total_steps // (OWN_MEASUREMENTS if own else MEASUREMENTS))
        grad_images = OWN_GRADIENT_IMAGES if own else GRADIENT_IMAGES
        self.x_val, self.y_val = ctx.x_val[:VALIDATION_IMAGES], ctx.y_val[:VALIDATION_IMAGES]
        self.x_grad, self.y_grad = ctx.x_train[:grad_images], ctx.y_train[:grad_images]
        order = np.random.default_rng(self.settings.seed).permutation(len(ctx.x_test))
        self.gallery_idx = np.sort(order[:GALLERY_IMAGES])
        self.x_measure = np.concatenate([self.x_val, ctx.x_test[self.gallery_idx]])
        # Frozen layers (transfer) do not learn: no gradient size for them (info["frozen"] names them).
        self.kernel_layers = [layer for layer in model.layers
                              if getattr(layer, "kernel", None) is not None and layer.trainable]
        self.first_conv = next((layer for layer in model.layers if getattr(layer, "kernel", None) is not None
                                and len(layer.kernel.shape) == 4), None)
        loss_fn = keras.losses.SparseCategoricalCrossentropy()
        kernels = [layer.kernel for layer in self.kernel_layers]

        @tf.function
        def probabilities(x):
            return model(x, training=False)

        @tf.function
        def gradient_sizes(x, y):
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=False))
            grads = tape.gradient(loss, kernels)
            return [tf.sqrt(tf.reduce_mean(tf.square(g))) for g in grads]

        self.probabilities, self.gradient_sizes = probabilities, gradient_sizes
        self.conn.send({"kind": "started", "info": {
            "total_steps": ctx.total_steps, "steps_per_epoch": ctx.steps_per_epoch,
            "epochs": self.settings.epochs, "train_images": len(ctx.x_train),
            "validation_images": len(self.x_val), "test_images": len(ctx.x_test),
            "data": ctx.data_description, "class_names": list(ctx.class_names),
            "parameters": int(model.count_params()),
            "layers": [layer.name for layer in self.kernel_layers],
            "first_conv": self.first_conv.name if self.first_conv is not None else None,
            "gallery_images": ctx.x_test[self.gallery_idx], "gallery_labels": ctx.y_test[self.gallery_idx],
            "frozen": [layer.name for layer in model.layers if layer.weights and not layer.trainable],
            **self._own_pictures_info(ctx),
        }})
        self._measure()
        self._send(force=True)

    def _own_pictures_info(self, ctx) -> dict:
        """Own pictures: the held-out pictures (uint8, in the card's "held_out" order) and their
        labels, so the page can show the wrong ones without keeping the set itself."""
        if self.settings.dataset != "own":
            return {}
        return {"held_out_images": np.clip(np.rint(ctx.x_test * 255), 0, 255).astype(np.uint8),
                "held_out_labels": np.asarray(ctx.y_test), "transfer": bool(self.settings.transfer)}

    def _running_seconds(self) -> float:
        return time.monotonic() - self.started - self.paused_for

    def _measure(self) -> None:
        # One call for the validation images and the gallery: one traced graph, one pass.
        probs = np.asarray(self.probabilities(self.x_measure))
        val, shown = probs[: len(self.y_val)], probs[len(self.y_val):]
        picked = np.clip(val[np.arange(len(self.y_val)), self.y_val], 1e-7, 1.0)
        val_loss = float(-np.mean(np.log(picked)))
        val_acc = float(np.mean(val.argmax(axis=1) == self.y_val))
        sizes = [float(g) for g in self.gradient_sizes(self.x_grad, self.y_grad)]
        grads = {layer.name: g for layer, g in zip(self.kernel_layers, sizes)}
        self.measured.append((self.step, val_loss, val_acc, grads))
        self.measured_step = self.step
        if self.first_conv is not None:
            self.snapshots.append((self.step, np.asarray(self.first_conv.kernel, dtype=np.float32)))
        self.gallery = (self.step, shown.argmax(axis=1), shown.max(axis=1))

    def _send(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_sent < TICK_SECONDS:
            return
        self.last_sent = now
        self.conn.send({"kind": "progress", "step": self.step, "epoch": self.epoch,
                        "seconds": self._running_seconds(), "loss": self.loss, "accuracy": self.accuracy,
                        "measured": self.measured, "snapshots": self.snapshots, "tests": self.tests,
                        "gallery": self.gallery})
        self.loss, self.accuracy, self.measured, self.snapshots, self.tests = [], [], [], [], []

    # --- called by the training loop
    def on_batch_end(self, batch, batches, logs) -> None:
        self.step += 1
        self.loss.append(float(logs.get("loss", np.nan)))
        self.accuracy.append(float(logs.get("accuracy", np.nan)))
        if self.step % self.every == 0:
            self._measure()
        self._send()
        if self.pause.is_set():
            self._send(force=True)
            began = time.monotonic()
            while self.pause.is_set() and not self.stop.is_set():
                time.sleep(0.05)
            self.paused_for += time.monotonic() - began

    def on_epoch_end(self, epoch, epochs, logs) -> None:
        self.epoch = epoch + 1
        if self.settings.test_each_epoch:
            began = time.monotonic()
            probs = np.asarray(self.ctx.model.predict(self.ctx.x_test, batch_size=1000, verbose=0))
            accuracy = float(np.mean(probs.argmax(axis=1) == self.ctx.y_test))
            took = time.monotonic() - began
            self.tests.append((self.epoch, self.step, self._running_seconds(), accuracy, took))
        self._send(force=True)

    def on_train_end(self, step) -> None:
        if self.measured_step != self.step:
            self._measure()
        self._send(force=True)

    def should_stop(self):
        if self.stop.is_set():
            return "stopped"
        if self._running_seconds() > self.limits.max_seconds:
            return "time limit"
        return False
