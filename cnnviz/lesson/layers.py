"""Questions of steps 3 to 5: activation, pooling, dropout."""
from __future__ import annotations

import random

import numpy as np

from cnnviz import activations, pooling
from cnnviz.lesson.question_types import DECIMAL, NUMBER, WHOLE, Grid, Grids, fmt, grid, signed


# ---- step 3: activation

def _relu_row(rng: random.Random) -> dict:
    while True:
        row = [rng.randint(-9, 9) for _ in range(6)]
        if any(v < 0 for v in row) and any(v > 0 for v in row):
            break
    after = activations.relu(np.array(row, dtype=float))
    answer = float(after.sum())
    kept = [v for v in row if v > 0]
    zeroed = [v for v in row if v < 0]
    shown = ", ".join(fmt(v).replace("-", "−") for v in row)
    return dict(
        text=f"One row of a feature map holds **{shown}**. ReLU is applied to every value. "
             "What is the sum of the row afterwards?",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("row", tuple(row)),),
        explanation=(f"ReLU(x) = max(0, x) keeps {', '.join(fmt(v) for v in kept)} and turns "
                     f"{', '.join(fmt(v).replace('-', '−') for v in zeroed)} into 0, so the sum is "
                     + " + ".join(fmt(v) for v in kept) + f" = **{fmt(answer)}**."),
        why="ReLU passes positive values unchanged and turns the rest into 0.")


SLOPE_POINTS = {"sigmoid": (0, 0, 0.5, -0.5, 1, -1, 1.5, -1.5, 2, -2, 3, -3),
                "tanh": (0, 0.5, -0.5, 1, -1, 1.5, -1.5, 2, -2)}


def _slope(rng: random.Random) -> dict:
    fn = rng.choice(["sigmoid", "sigmoid", "tanh", "relu", "relu"])
    if fn == "relu":
        x = rng.choice([-1, 1]) * rng.randint(1, 9)
    else:
        x = rng.choice(SLOPE_POINTS[fn])
    value = float(activations.get(fn)[0](np.array(float(x))))
    answer = float(activations.get(fn)[1](np.array(float(x)))) + 0.0
    label = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU"}[fn]
    shown = fmt(x).replace("-", "−")
    given = round(value, 4)                 # the value the question gives, as a student would use it
    v = fmt(given)
    approx = "=" if given == value else "≈"   # the key is Keras's slope, not the rounded value's
    method = {
        "sigmoid": (f"sigmoid′(x) = σ(x) · (1 − σ(x)), and σ({shown}) = {v}, so the slope is "
                    f"{v} · {fmt(1 - given)} {approx} **{fmt(answer)}**. Sigmoid is steepest at 0 "
                    "(0.5 · 0.5 = 0.25): every sigmoid layer multiplies the gradient by 0.25 or less."),
        "tanh": (f"tanh′(x) = 1 − tanh²(x), and tanh({shown}) = {v}, so the slope is "
                 f"1 − {signed(given)}² {approx} **{fmt(answer)}**. tanh is steepest at 0, where the slope is 1."),
        "relu": (f"ReLU(x) = x for positive x: a line of slope 1, so ReLU′({shown}) = **1**, and "
                 "the gradient passes through unchanged." if x > 0 else
                 f"ReLU(x) = 0 for negative x: a flat line, so ReLU′({shown}) = **0**; no "
                 "gradient flows back through this value."),
    }[fn]
    why = {"sigmoid": f"σ({shown})·(1 − σ({shown})) = {fmt(answer)}; at most 0.25, at x = 0.",
           "tanh": f"1 − tanh²({shown}) = {fmt(answer)}; at most 1, at x = 0.",
           "relu": "ReLU is a line of slope 1 on the positive side." if x > 0 else
                   "ReLU is flat (slope 0) on the negative side."}[fn]
    known = {"sigmoid": f" (σ({shown}) = {v})", "tanh": f" (tanh({shown}) = {v})", "relu": ""}[fn]
    return dict(text=f"What is the slope (the derivative) **{label}′({shown})**{known}?",
                kind=NUMBER, answer=answer, hint=DECIMAL,
                explanation=method, why=why, facts=(("function", fn), ("x", x), ("given", given)))


def _vanishing(rng: random.Random) -> dict:
    n = rng.randint(2, 7)
    ask = rng.choice(["fraction", "factor"])
    top = float(activations.d_sigmoid(np.array(0.0)))      # 0.25, the largest slope of sigmoid
    left = top ** n
    factor = round(1 / left)
    product = f"0.25^{n} = {' · '.join(['0.25'] * min(n, 3))}{' · …' if n > 3 else ''}"
    intro = ("On the way back, every sigmoid layer multiplies the gradient by its slope, which "
             f"is at most 0.25. Through **{n} sigmoid layers**, ")
    if ask == "fraction":
        answer = left
        text = intro + "at most what fraction of the gradient is left?"
        result = f"{product} = **{answer:g}** (1/{fmt(factor)})"
        hint = DECIMAL
    else:
        answer = float(factor)
        text = intro + "by at least what factor does the gradient shrink?"
        result = f"{product} = 1/{fmt(factor)}: it shrinks by a factor of 4^{n} = **{fmt(factor)}**"
        hint = WHOLE
    return dict(
        text=text, kind=NUMBER, answer=answer, hint=hint, facts=(("layers", n), ("ask", ask)),
        explanation=(f"The largest slope of sigmoid is σ′(0) = 0.25, and the {n} layers multiply: "
                     f"{result}. This is the vanishing gradient: the first layers hardly learn."),
        why=f"0.25^{n} = 1/{fmt(factor)}: the gradient shrinks fast, which is why ReLU replaced sigmoid.")


# ---- step 4: pooling

CORNERS = {(0, 0): "top-left", (0, 1): "top-right", (1, 0): "bottom-left", (1, 1): "bottom-right"}


def _pool_value(rng: random.Random) -> dict:
    mode = rng.choice(["max", "max", "avg"])
    fmap = np.array([[rng.randint(-3, 9) for _ in range(4)] for _ in range(4)], dtype=float)
    (r, c), where = rng.choice(list(CORNERS.items()))
    result = pooling.pool2d(fmap, 2, 2, "valid", mode)
    answer = float(result.output[r, c])
    cells = fmap[2 * r:2 * r + 2, 2 * c:2 * c + 2].ravel()
    listed = ", ".join(fmt(v).replace("-", "−") for v in cells)
    rows, cols = f"rows {2 * r + 1}–{2 * r + 2}", f"columns {2 * c + 1}–{2 * c + 2}"
    if mode == "max":
        how = f"max({listed}) = **{fmt(answer)}**"
        why = "Max pooling keeps the largest of the four values in each 2 × 2 window."
    else:
        how = (f"({' + '.join(signed(v) for v in cells)}) / 4 = {fmt(cells.sum())} / 4 = "
               f"**{fmt(answer)}**")
        why = "Average pooling keeps the mean of the four values in each 2 × 2 window."
    name = "max" if mode == "max" else "average"
    return dict(
        text=f"The 4 × 4 feature map below goes through **{name} pooling, 2 × 2 windows, "
             f"stride 2** (the thick lines show the windows). What is the **{where}** value of "
             "the pooled 2 × 2 map?",
        kind=NUMBER, answer=answer,
        hint=WHOLE if mode == "max" else DECIMAL, facts=(("mode", mode), ("cell", (r, c))),
        visual=Grids((Grid("feature map", grid(fmap), block=2),)),
        explanation=f"The {where} window covers {rows} and {cols}: {how}.", why=why)


def _pool_size(rng: random.Random) -> dict:
    n = rng.choice([7, 9, 13, 15, 24, 26, 27, 28, 31, 32, 55, 64])
    k = rng.choice([2, 2, 3])
    s = rng.choice([k, k, 2, 1])
    channels = rng.choice([8, 16, 32, 64])
    oh, _ = pooling.output_shape((n, n), k, s, "valid")
    stride_text = "" if s == k else f", strides={s}"
    exact = (n - k) / s
    floor = "" if exact.is_integer() else f" = ⌊{exact:.4g}⌋ + 1"
    return dict(
        text=f"A **{n} × {n} × {channels}** feature map goes through "
             f"**MaxPooling2D(pool_size={k}{stride_text})** (valid padding"
             + (", the stride is the window size" if s == k else "") + "). How many pixels wide "
             "is the pooled map?",
        kind=NUMBER, answer=oh, hint=WHOLE, side=True,
        facts=(("input", n), ("pool", k), ("stride", s), ("channels", channels)),
        explanation=(f"Windows of {k} moving by {s}, and only whole windows count: "
                     f"⌊({n} − {k}) / {s}⌋ + 1{floor} = **{oh}**. The map is then {oh} × {oh} × "
                     f"{channels}: pooling never changes the number of channels."),
        why=f"⌊({n} − {k}) / {s}⌋ + 1 = {oh}, the same arithmetic as a valid convolution.")


# ---- step 5: dropout

def _dropout_zeroed(rng: random.Random) -> dict:
    while True:
        r = rng.choice([0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75])
        n = rng.choice([8, 10, 12, 16, 20, 40, 60, 64, 100, 128, 200, 256])
        if float(n * r).is_integer():
            break
    answer = n * r
    return dict(
        text=f"A Dropout layer with **rate {r:g}** receives **{n} values** during training. "
             "On average, how many of them does it set to 0 at each step?",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("rate", r), ("units", n)),
        explanation=(f"Each value is dropped on its own with probability {r:g}, so on average "
                     f"{n} × {r:g} = **{fmt(answer)}** are zeroed. At any one step it can be a "
                     "few more or fewer: the mask is drawn at random every time."),
        why=f"{n} × {r:g} = {fmt(answer)}: the rate is the share of values dropped, on average.")


def _dropout_scale(rng: random.Random) -> dict:
    r = rng.choice([0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9])
    scale = 1 / (1 - r)
    v = rng.choice([None, None, 0.3, 0.6, 0.9, 1.2, 1.8, 2.4, 3])
    rule = f"Keras scales the kept values by 1 / (1 − rate) = 1 / (1 − {r:g}) = 1 / {1 - r:g} = "
    keeps = (f"A share {r:g} of the values becomes 0 and the rest grow by that factor, so the "
             "expected total is what it was without dropout, and nothing needs to change at inference.")
    if v is None:
        return dict(
            text=f"A Keras Dropout layer with **rate {r:g}** is training. By how much does it "
                 "multiply the values it keeps?",
            kind=NUMBER, answer=scale, hint=DECIMAL, facts=(("rate", r), ("value", 1.0)),
            explanation=f"{rule}**{fmt(scale)}**. {keeps}",
            why=f"1 / (1 − {r:g}) = {fmt(scale)} keeps the expected total of the values unchanged.")
    answer = v * scale
    return dict(
        text=f"A Keras Dropout layer with **rate {r:g}** is training. A value of **{fmt(v)}** goes "
             "in and is kept (not dropped). What comes out?",
        kind=NUMBER, answer=answer, hint=DECIMAL, facts=(("rate", r), ("value", v)),
        explanation=f"{rule}{fmt(scale)}, so {fmt(v)} becomes {fmt(v)} × {fmt(scale)} = **{fmt(answer)}**. {keeps}",
        why=f"{fmt(v)} / (1 − {r:g}) = {fmt(answer)}: kept values grow so the expected total stays the same.")


def _dropout_inference(rng: random.Random) -> dict:
    r = rng.choice([0.2, 0.25, 0.3, 0.4, 0.5])
    v = rng.choice([0.4, 0.6, 0.8, 1.2, 1.5, 2, 2.4, 3, 3.5, 4.2, 5, 6])
    trained = v / (1 - r)
    return dict(
        text=f"A network with a **Dropout({r:g})** layer has finished training and is now used to "
             f"predict (inference, `training=False`). A value of **{fmt(v)}** goes into the dropout "
             "layer. What comes out?",
        kind=NUMBER, answer=float(v), hint=DECIMAL, facts=(("rate", r), ("value", v)),
        explanation=("Dropout only acts while training: there it zeroes a share "
                     f"{r:g} of the values and scales the others by 1 / (1 − {r:g}), so a kept "
                     f"{fmt(v)} became {fmt(trained)}. At inference Keras's Dropout layer passes "
                     f"every value through unchanged: **{fmt(v)}** comes out, nothing is dropped "
                     "or scaled, and the same picture always gets the same answer."),
        why="Dropout is switched off at inference: every value passes unchanged.")


# Each step's question makers; one listed twice is drawn twice as often.
ACTIVATION = (_relu_row, _slope, _vanishing)
POOLING = (_pool_value, _pool_value, _pool_size)
DROPOUT = (_dropout_zeroed, _dropout_scale, _dropout_inference)
