"""Questions of steps 6 to 8: fully connected layers, a whole network, training; and their arithmetic."""
from __future__ import annotations

import random

import numpy as np

from cnnviz import conv_arithmetic, pooling
from cnnviz.lesson.question_types import CHOICE, NUMBER, WHOLE, Curves, Run, fmt


# ---- step 6: fully connected

def _dense_params(rng: random.Random) -> dict:
    h = rng.choice([2, 3, 4, 5, 6, 7])
    c = rng.choice([8, 16, 32, 64])
    u = rng.choice([10, 16, 32, 64, 128])
    n = h * h * c
    answer = (n + 1) * u
    return dict(
        text=f"A **{h} × {h} × {c}** feature map is flattened and fed to **Dense({u})**. How "
             "many parameters (weights and biases) does this Dense layer have?",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("map", (h, h, c)), ("units", u)),
        explanation=(f"Flatten gives {h} × {h} × {c} = {fmt(n)} numbers. Each of the {u} units "
                     f"has one weight per number plus one bias: ({fmt(n)} + 1) × {u} = "
                     f"**{fmt(answer)}**."),
        why=f"({fmt(n)} inputs + 1 bias) × {u} units = {fmt(answer)}.")


def _two_dense(rng: random.Random) -> dict:
    n, source = rng.choice([(784, "a flattened 28 × 28 grey digit"), (400, "a flattened 5 × 5 × 16 map"),
                            (256, "a flattened 4 × 4 × 16 map"), (3072, "a flattened 32 × 32 × 3 photo"),
                            (1600, "a flattened 5 × 5 × 64 map")])
    h = rng.choice([16, 32, 64, 128])
    out = 10
    first, second = (n + 1) * h, (h + 1) * out
    answer = first + second
    return dict(
        text=f"**{fmt(n)} numbers** ({source}) go into **Dense({h})**, and its output into "
             f"**Dense({out})**. How many parameters do the two layers have together?",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("inputs", n), ("units", (h, out))),
        explanation=(f"Each unit has a weight per input plus a bias. Dense({h}): ({fmt(n)} + 1) "
                     f"× {h} = {fmt(first)}. Dense({out}) gets the {h} outputs: ({h} + 1) × "
                     f"{out} = {fmt(second)}. Together **{fmt(answer)}**."),
        why=f"{fmt(first)} + {fmt(second)} = {fmt(answer)}: the first Dense layer holds almost all of them.")


# ---- step 7: a whole network

def flatten_size(input_shape: tuple[int, int, int], layers) -> tuple[list[tuple[int, int, int]], int]:
    """Shapes after each layer of a small stack and the length after Flatten.

    layers: ("conv", filters, kernel, padding) or ("pool", size) items, strides 1 for convolutions
    and the pool size for pooling (Keras's defaults). Raises ValueError when a map would vanish.
    """
    h, w, c = input_shape
    shapes = []
    for layer in layers:
        if layer[0] == "conv":
            _, f, k, padding = layer
            h, w, c = conv_arithmetic.output_size(h, k, 1, padding), conv_arithmetic.output_size(w, k, 1, padding), f
        else:
            h, w = pooling.output_shape((h, w), layer[1], None, "valid")
        shapes.append((h, w, c))
    return shapes, h * w * c


def _network_link(layers) -> str:
    """The stack in spec_links.to_link's form (defaults left out), then Flatten."""
    tokens = []
    for layer in layers:
        if layer[0] == "conv":
            _, f, k, padding = layer
            parts = ["C"] + ([f"f{f}"] if f != 32 else []) + ([f"k{k}"] if k != 3 else []) \
                + ([f"p{padding}"] if padding != "valid" else []) + ["arelu"]
            tokens.append("~".join(parts))
        else:
            tokens.append("M" if layer[1] == 2 else f"M~k{layer[1]}")
    return "_".join(tokens + ["F"])


def _network_shape(rng: random.Random) -> dict:
    data, input_shape = rng.choice([("mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))])
    f1, f2 = rng.choice([(8, 16), (16, 32), (32, 64), (8, 32), (16, 16)])
    layers = [("conv", f1, rng.choice([3, 5]), rng.choice(["valid", "same"])), ("pool", 2),
              ("conv", f2, 3, rng.choice(["valid", "same"])), ("pool", 2)]
    shapes, answer = flatten_size(input_shape, layers)
    h, w, c = input_shape
    lines, chain = [], [f"{h} × {w} × {c}"]
    for layer, (oh, ow, oc) in zip(layers, shapes):
        if layer[0] == "conv":
            _, f, k, padding = layer
            lines.append(f"- `Conv2D({f}, {k}, padding=\"{padding}\", activation=\"relu\")`")
            rule = (f"⌈{h} / 1⌉ = {oh} (same)" if padding == "same" else
                    f"{h} − {k} + 1 = {oh} (valid)")
            chain.append(f"Conv2D({f}, {k}): {rule}, {f} channels → {oh} × {ow} × {oc}")
        else:
            lines.append(f"- `MaxPooling2D({layer[1]})`")
            chain.append(f"MaxPooling2D(2): ⌊{h} / 2⌋ = {oh} → {oh} × {ow} × {oc}")
        h, w = oh, ow
    lines.append("- `Flatten()`")
    fh, fw, fc = shapes[-1]
    return dict(
        text=f"A **{input_shape[0]} × {input_shape[1]} × {input_shape[2]}** picture goes through "
             "this stack (stride 1 for the convolutions):\n\n" + "\n".join(lines)
             + "\n\nHow many numbers come out of Flatten?",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("input", input_shape), ("layers", tuple(layers))),
        explanation=("Follow the shape layer by layer: " + "; ".join(chain)
                     + f"; Flatten: {fh} × {fw} × {fc} = **{fmt(answer)}**."),
        why=f"The last map is {fh} × {fw} × {fc}, and Flatten lays its {fmt(answer)} values in a row.",
        check_link=("train", (("data", data), ("net", _network_link(layers)))))


def _conv_params(rng: random.Random) -> dict:
    c = rng.choice([1, 3, 8, 16, 32])
    f = rng.choice([8, 16, 32, 64])
    k = rng.choice([3, 5])
    side = rng.choice([28, 32, 14, 64])
    answer = (k * k * c + 1) * f
    return dict(
        text=f"A **{side} × {side} × {c}** map goes into **Conv2D({f}, {k})** ({f} filters of "
             f"{k} × {k}). How many parameters (weights and biases) does this layer have?",
        kind=NUMBER, answer=answer, hint=WHOLE,
        facts=(("input", (side, side, c)), ("filters", f), ("kernel", k)),
        explanation=(f"Each of the {f} filters has a {k} × {k} grid of weights for each of the "
                     f"{c} input channels, plus one bias: ({k} · {k} · {c} + 1) × {f} = "
                     f"**{fmt(answer)}**. The {side} × {side} size does not matter: the same "
                     "weights slide over every position."),
        why=f"({k}·{k}·{c} + 1) × {f} = {fmt(answer)}; the picture's size plays no part.")


# ---- step 8: training

def steps_per_epoch(n: int, batch: int) -> int:
    """Weight updates in one epoch: one per batch, the last batch taking what is left."""
    n = conv_arithmetic.check_int("number of pictures", n, 1)
    batch = conv_arithmetic.check_int("batch size", batch, 1)
    return -(-n // batch)


def _steps(rng: random.Random) -> dict:
    n, what = rng.choice([(60_000, "MNIST's training pictures"), (50_000, "CIFAR-10's training pictures"),
                          (48_000, "MNIST's pictures less 20 % kept for validation"),
                          (5_000, "the starter set of digits"), (10_000, ""), (12_500, ""),
                          (2_500, "the starter set of photos")])
    b = rng.choice([16, 32, 64, 128, 256])
    epochs = rng.choice([1, 1, 2, 3, 5])
    per_epoch = steps_per_epoch(n, b)
    answer = per_epoch * epochs
    exact = n / b
    ceil = f"⌈{fmt(n)} / {b}⌉ = {fmt(per_epoch)}" if not exact.is_integer() else \
        f"{fmt(n)} / {b} = {fmt(per_epoch)} exactly"
    span = "one epoch" if epochs == 1 else f"**{epochs} epochs**"
    return dict(
        text=f"Training uses **{fmt(n)}** pictures" + (f" ({what})" if what else "")
             + f" in batches of **{b}**. How many "
             f"steps (weight updates) does the optimizer make in {span}? As in Keras, the last "
             "batch of an epoch may be smaller, and it counts as a step too.",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("pictures", n), ("batch", b), ("epochs", epochs)),
        explanation=("One step per batch, and the last batch of an epoch takes whatever is "
                     f"left, even if it is smaller: {ceil} steps per epoch"
                     + (f", × {epochs} epochs = **{fmt(answer)}**." if epochs > 1 else
                        f" = **{fmt(answer)}**.")),
        why=f"{ceil} per epoch" + (f", {epochs} times." if epochs > 1 else "."))


def _curve(epochs: int, start: float, end: float, speed: float) -> np.ndarray:
    t = np.arange(epochs, dtype=float)
    return end + (start - end) * np.exp(-speed * t)


def _overfit(rng: random.Random) -> dict:
    epochs = 15
    labels = ("Run A", "Run B", "Run C")
    kinds = ["overfits", "good", "slow"]
    rng.shuffle(kinds)
    runs = []
    for label, kind in zip(labels, kinds):
        wobble = np.array([rng.uniform(-0.004, 0.004) for _ in range(epochs)])
        if kind == "overfits":
            turn = rng.randint(3, 7)
            train = _curve(epochs, rng.uniform(1.6, 2.2), 0.02, rng.uniform(0.35, 0.5))
            val = _curve(epochs, train[0] + 0.05, train[turn] + 0.12, 0.6)
            t = np.arange(epochs)
            val = val + np.where(t > turn, (t - turn) * rng.uniform(0.05, 0.09), 0.0) + wobble
        elif kind == "good":
            train = _curve(epochs, rng.uniform(1.6, 2.2), rng.uniform(0.15, 0.25), rng.uniform(0.3, 0.45))
            val = train + rng.uniform(0.03, 0.07) + np.abs(wobble)
            val = np.minimum.accumulate(val)
        else:
            train = _curve(epochs, rng.uniform(2.0, 2.3), rng.uniform(0.6, 0.9), rng.uniform(0.08, 0.14))
            val = np.minimum.accumulate(train + rng.uniform(0.02, 0.06) + np.abs(wobble))
        runs.append(Run(label, tuple(round(float(v), 4) for v in train),
                        tuple(round(float(v), 4) for v in val)))
    answer = labels[kinds.index("overfits")]
    bad = runs[kinds.index("overfits")]
    best = int(np.argmin(bad.validation)) + 1
    return dict(
        text="Three networks were trained for 15 epochs; each chart shows the training and the "
             "validation loss after every epoch. **Which run overfits?**",
        kind=CHOICE, answer=answer, choices=labels, visual=Curves(tuple(runs)),
        facts=(("best_epoch", best),),
        explanation=(f"In **{answer}** the training loss keeps falling, but the validation loss "
                     f"(pictures the network never trains on) is lowest after epoch {best} and "
                     "then climbs: from there on the network learns its training pictures by "
                     "heart instead of what makes a digit a digit. Stopping at that epoch, "
                     "dropout or more data would help. In the other runs both losses keep "
                     "falling (one of them just slowly)."),
        why=f"Training loss down, validation loss up after epoch {best}: memorising, not learning.")


# Each step's question makers; one listed twice is drawn twice as often.
DENSE = (_dense_params, _dense_params, _two_dense)
NETWORK = (_network_shape, _network_shape, _conv_params)
TRAINING = (_steps, _overfit)
