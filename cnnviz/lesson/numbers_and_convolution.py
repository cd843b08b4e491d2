"""Questions of steps 1 and 2: the image as numbers, convolution."""
from __future__ import annotations

import random

import numpy as np

from cnnviz import conv_arithmetic, kernels, samples
from cnnviz.lesson.question_types import (CHOICE, DECIMAL, NUMBER, WHOLE, FeatureMaps, Grid, Grids, fmt,
                                           grid, signed)


# ---- step 1: the image as numbers

def _image_size(rng: random.Random) -> dict:
    colour = rng.random() < 0.6
    h, w = rng.choice([(28, 28), (32, 32), (64, 64), (96, 96), (100, 150), (120, 80),
                       (224, 224), (480, 480), (48, 64), (256, 256), (16, 16), (40, 30), (60, 80),
                       (72, 72), (128, 128), (150, 200), (200, 100), (300, 400), (36, 48), (50, 50)])
    c = 3 if colour else 1
    what = "colour photo" if colour else "grey picture"
    shape = f"{h} × {w} × {c}" if colour else f"{h} × {w}"
    answer = h * w * c
    steps = f"{h} × {w} × {c} = **{fmt(answer)}**"
    return dict(
        text=f"A {what} is **{h} pixels high and {w} pixels wide**. How many numbers does "
             f"a network receive for it?",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("height", h), ("width", w), ("channels", c)),
        explanation=("A colour pixel is three numbers (red, green, blue), so the picture is "
                     f"a {shape} array: height × width × channels = {steps}." if colour else
                     "A grey pixel is one number, its brightness, so the picture is a "
                     f"{shape} grid: height × width = {h} × {w} = **{fmt(answer)}**."),
        why=f"The array is {shape}: one number per pixel" + (" and colour channel." if colour else "."))


def _pixel_value(rng: random.Random) -> dict:
    v = rng.choice([0, 255] + list(range(5, 255, 5)) * 2)
    answer = v / 255
    return dict(
        text=f"A pixel has the value **{v}** (0 is black, 255 is white). The network gets pixel "
             "values divided by 255. What value does it get for this pixel?",
        kind=NUMBER, answer=answer, hint=DECIMAL, facts=(("pixel", v),),
        explanation=f"Divide by 255: {v} / 255 = **{fmt(answer)}**. Black stays 0, white becomes 1.",
        why=f"{v} / 255 = {fmt(answer)}: the values now run from 0 (black) to 1 (white).")


# ---- step 2: convolution

SOBEL_SAMPLES = ("shapes", "mnist-3", "mnist-8", "mnist-5", "mnist-2", "mnist-0", "mnist-7",
                 "fashion-trouser", "fashion-bag", "fashion-dress", "fashion-t-shirt-top")
SOBEL_DISTRACTORS = ("box blur", "outline (Laplacian)", "sharpen")
LOOKS = {"Sobel x": "Sobel x (vertical edges)", "Sobel y": "Sobel y (horizontal edges)",
         "box blur": "a box blur (a softened copy)", "outline (Laplacian)": "the outline kernel "
         "(edges in every direction)", "sharpen": "sharpen (the picture with crisper edges)"}
WINDOW_KERNELS = ("Sobel x", "Sobel y", "sharpen", "outline (Laplacian)", "emboss", "Prewitt x",
                  "Prewitt y")


def _output_size(rng: random.Random) -> dict:
    n = rng.choice([28, 32, 27, 31, 64, 50, 100, 224, 15, 20, 45, 63])
    k = rng.choice([3, 5, 7])
    s = rng.choice([1, 2, 2, 3])
    padding = rng.choice(["valid", "same"] if s > 1 else ["valid", "valid", "same"])
    answer = conv_arithmetic.output_size(n, k, s, padding)
    if padding == "valid":
        exact = (n - k) / s
        floor = "" if exact.is_integer() else f" = ⌊{exact:.4g}⌋ + 1"
        explanation = (f"With *valid* padding nothing is added (p = 0), so the output side is "
                       f"⌊(n + 2·0 − k) / s⌋ + 1 = ⌊({n} − {k}) / {s}⌋ + 1{floor} = **{answer}**.")
        why = (f"The kernel fits ⌊({n} − {k}) / {s}⌋ + 1 = {answer} times along each side, "
               "moving by the stride.")
    else:
        exact = n / s
        ceil = "" if exact.is_integer() else f" = ⌈{exact:.4g}⌉"
        explanation = (f"With *same* padding Keras adds just enough zeros that the output side "
                       f"depends only on the stride: ⌈n / s⌉ = ⌈{n} / {s}⌉{ceil} = **{answer}**. "
                       f"The kernel size ({k}) does not matter.")
        why = f"Same padding gives ⌈{n} / {s}⌉ = {answer}, whatever the kernel size."
    return dict(
        text=f"An input of **{n} × {n}** pixels is convolved with a **{k} × {k}** kernel, "
             f"stride **{s}**, **{padding}** padding. How many pixels wide is the feature map?",
        kind=NUMBER, answer=answer, hint=WHOLE, explanation=explanation, why=why, side=True,
        facts=(("input", n), ("kernel", k), ("stride", s), ("padding", padding)))


def _which_sobel(rng: random.Random) -> dict:
    sample = rng.choice(SOBEL_SAMPLES)
    presets = ["Sobel x", "Sobel y", *rng.sample(SOBEL_DISTRACTORS, 2)]
    rng.shuffle(presets)
    labels = tuple(f"Map {c}" for c in "ABCD")
    answer = labels[presets.index("Sobel x")]
    others = "; ".join(f"{label}: {LOOKS[p]}" for label, p in zip(labels, presets) if p != "Sobel x")
    title = samples.SAMPLES[sample].title if sample in samples.SAMPLES else sample
    return dict(
        text=f"The picture *{title}* was convolved with four different kernels. **Which feature "
             "map came from the Sobel x kernel** (−1 0 1 / −2 0 2 / −1 0 1)? Red is positive, "
             "blue negative, white 0.",
        kind=CHOICE, answer=answer, choices=labels, facts=(("sample", sample),),
        visual=FeatureMaps(sample, tuple(zip(labels, presets))),
        explanation=("Sobel x subtracts the pixels on the left from the pixels on the right, so "
                     "it is large where brightness changes from left to right: on **vertical "
                     "edges**, with opposite colours on the two sides of a stroke, and 0 on flat "
                     f"areas and on horizontal edges. That is **{answer}**. The others: {others}."),
        why="Only vertical edges light up, red on one side of a stroke and blue on the other.",
        check_link=("convolution", (("image", sample), ("kernel", "sobel-x"))))


def _window_value(rng: random.Random) -> dict:
    name = rng.choice(WINDOW_KERNELS)
    kernel = kernels.PRESETS[name]
    patch = np.array([[rng.randint(0, 5) for _ in range(3)] for _ in range(3)], dtype=float)
    answer = float(kernels.convolve(patch, kernel)[0, 0])
    answer = round(answer, 6) + 0.0
    terms = [f"{signed(p)}·{signed(w)}" for p, w in zip(patch.ravel(), kernel.ravel()) if w != 0]
    return dict(
        text=f"The **{name}** kernel lies on the 3 × 3 patch of pixels below, as it is: a CNN "
             "does not flip the kernel (each weight meets the pixel at the same place). What value "
             "does the convolution write into the feature map at this position?",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("kernel", name),),
        visual=Grids((Grid("pixels under the kernel", grid(patch)), Grid(f"kernel: {name}", grid(kernel)))),
        explanation=("Multiply each pixel by the weight at the same place and add everything "
                     "up (weights of 0 add nothing): " + " + ".join(terms)
                     + f" = **{fmt(answer)}**."),
        why="Pixel times weight, cell by cell, all added up: that is one value of the feature map.")


# Each step's question makers; one listed twice is drawn twice as often.
NUMBERS = (_image_size, _image_size, _pixel_value)
CONVOLUTION = (_output_size, _output_size, _which_sobel, _window_value)
