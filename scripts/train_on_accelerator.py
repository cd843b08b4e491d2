"""Train a shipped CIFAR-10 model under any Keras backend (JAX or PyTorch on a GPU machine).

The accelerator machines have no TensorFlow, so ``python -m cnnviz train`` (tf.data) cannot run
there. This script follows the same recipe: the same architecture from ``cnnviz.models``, the same
10 % validation split by seed, AdamW with a warm-up then cosine decay, weight decay 5e-4,
horizontal flips and 32 x 32 crops of the image padded by 4 black pixels. The augmentation is done
in NumPy once per epoch instead of in tf.data. It writes the model and its card through
``cnnviz.model_cards``, exactly as ``python -m cnnviz train`` does; ``python -m cnnviz evaluate``
on a machine with TensorFlow then checks the card's figure.

    KERAS_BACKEND=jax python scripts/train_on_accelerator.py --data cifar10.npz \\
        --arch wide_vgg --epochs 60 --out pretrained/cifar10.keras

``--time-budget`` caps the training time: a short probe measures the seconds per epoch first and
the epoch count is lowered (before the schedule is built) when the budget would not allow it.
"""
from __future__ import annotations

import argparse
import pathlib
import shlex
import sys
import time

import keras
import numpy as np

from cnnviz import data, model_cards, models

PAD = 4


def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random horizontal flips and random crops of the image padded by PAD zeros, per image."""
    flip = rng.random(len(x)) < 0.5
    x = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
    padded = np.pad(x, ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)))
    dy = rng.integers(0, 2 * PAD + 1, len(x))
    dx = rng.integers(0, 2 * PAD + 1, len(x))
    out = np.empty_like(x)
    h, w = x.shape[1:3]
    for oy in range(2 * PAD + 1):
        for ox in range(2 * PAD + 1):
            sel = (dy == oy) & (dx == ox)
            out[sel] = padded[sel, oy:oy + h, ox:ox + w]
    return out


def compiled(arch: str, dataset: str, lr: float, steps: int, epochs: int) -> keras.Model:
    model = models.build(arch, dataset)
    schedule = keras.optimizers.schedules.CosineDecay(
        lr * 0.1, decay_steps=steps * epochs, warmup_target=lr,
        warmup_steps=min(steps, steps * epochs // 10))
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=5e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    return model


def seconds_per_epoch(args, x, y, steps: int) -> float:
    """Time 60 training steps after a compile run, scaled to a whole epoch."""
    probe = compiled(args.arch, args.dataset, args.lr, steps, args.epochs)
    n = args.batch_size * 60
    probe.fit(x[: args.batch_size * 5], y[: args.batch_size * 5], batch_size=args.batch_size,
              verbose=0)
    started = time.time()
    probe.fit(x[:n], y[:n], batch_size=args.batch_size, verbose=0)
    return (time.time() - started) / 60 * steps


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="cifar10", choices=["cifar10"])
    p.add_argument("--arch", default=models.DEFAULT_ARCH["cifar10"], choices=list(models.ARCHITECTURES))
    p.add_argument("--data", required=True, help="an .npz file or a directory holding cifar10.npz")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=pathlib.Path, required=True)
    p.add_argument("--limit", type=int, help="use the first N shuffled training images only")
    p.add_argument("--time-budget", type=float, help="seconds of training at most")
    p.add_argument("--machine", help="how to describe the machine in the card")
    argv = sys.argv[1:] if argv is None else argv
    args = p.parse_args(argv)

    (xtr, ytr), (xte, yte), class_names = data.load_dataset(args.dataset, args.data)
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(xtr))[: args.limit]
    n_val = max(1, int(len(order) * 0.1))
    val_idx, tr_idx = order[:n_val], order[n_val:]
    x_train, y_train = model_cards.to_model_input(xtr[tr_idx]), ytr[tr_idx]
    x_val, y_val = model_cards.to_model_input(xtr[val_idx]), ytr[val_idx]
    steps = int(np.ceil(len(x_train) / args.batch_size))

    epochs = args.epochs
    if args.time_budget:
        per_epoch = seconds_per_epoch(args, x_train, y_train, steps)
        epochs = max(1, min(epochs, int(args.time_budget / (per_epoch * 1.1))))
        print(f"about {per_epoch:.1f} s per epoch: training {epochs} epochs", flush=True)
        keras.utils.set_random_seed(args.seed)

    model = compiled(args.arch, args.dataset, args.lr, steps, epochs)
    history: dict[str, list] = {}
    started = time.time()
    for epoch in range(epochs):
        h = model.fit(augment(x_train, rng), y_train, batch_size=args.batch_size,
                      validation_data=(x_val, y_val), epochs=epoch + 1, initial_epoch=epoch,
                      shuffle=True, verbose=0)
        for k, v in h.history.items():
            history.setdefault(k, []).extend(v)
        print(f"epoch {epoch + 1}/{epochs} {time.time() - started:.0f} s "
              + " ".join(f"{k} {v[-1]:.4f}" for k, v in history.items()), flush=True)
    seconds = time.time() - started

    command = "python scripts/train_on_accelerator.py " + shlex.join(argv)
    card = model_cards.card(
        name=args.out.stem, dataset=args.dataset, class_names=class_names, arch=args.arch,
        model=model, epochs=epochs, batch_size=args.batch_size, seed=args.seed,
        train_samples=len(x_train), validation_samples=len(x_val), augmentation=True,
        history=history, seconds=seconds, machine_text=args.machine or model_cards.machine(),
        command=f"KERAS_BACKEND={keras.backend.backend()} {command}",
        keras_backend=keras.backend.backend(),
        evaluation=model_cards.evaluate(model, xte, yte, class_names))
    model_cards.write_model(model, args.out, card)
    print(f"wrote {args.out}: test accuracy {card['test_accuracy']:.2%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
