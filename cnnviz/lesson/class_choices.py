"""A lesson question as a class poll: a few choices, the right one, and why each wrong one is wrong.

The lesson asks most questions as a number to type; a class answers on phones by tapping one of
a few choices instead. The wrong choices are the mistakes students really make on each kind of
question (forgetting the +1 of the output size, the bias of a Dense layer, ReLU's zeros, ...),
computed from the question's own facts, each with one line saying what went wrong. A kind of
question without its own mistakes gets near misses, said to be slips in the arithmetic.

    >>> from cnnviz.lesson import class_choices, questions
    >>> poll = class_choices.from_question(questions.question(2, 4821))
    >>> poll.choices[poll.right]
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cnnviz import activations, conv_arithmetic, kernels, pooling
from cnnviz.lesson import networks
from cnnviz.lesson import numbers_and_convolution as nc
from cnnviz.lesson.question_types import CHOICE, FeatureMaps, Question, fmt

MAX_CHOICES = 4
SLIP = "a slip in the arithmetic: see the method"

Mistake = tuple[float, str]          # (the wrong value, why it is wrong)


@dataclass(frozen=True)
class ClassPoll:
    prompt: str                      # Markdown
    choices: tuple[str, ...]
    right: int                       # index into choices
    why_wrong: tuple[str, ...]       # per choice; "" for the right one
    explanation: str = ""            # the method, worked through (shown at the reveal)


def _facts(q: Question) -> dict:
    return dict(q.facts)


# --------------------------------------------------------------------------- each kind's mistakes

def _image_size(q, f) -> list[Mistake]:
    h, w, c = f["height"], f["width"], f["channels"]
    out = [(h + w, "adds height and width; a grid holds height × width numbers")]
    if c == 3:
        out.append((h * w, "counts pixels, but a colour pixel is three numbers (red, green, blue)"))
    else:
        out.append((h * w * 3, "counts three colours, but a grey pixel is one number"))
    out.append((h * w * c * 8, "counts bits; the network gets one number per pixel and channel"))
    return out


def _pixel_value(q, f) -> list[Mistake]:
    v = f["pixel"]
    return [(v / 256, "divides by 256; the largest value, 255, must become 1"),
            (1 - v / 255, "turns the scale around; 0 stays black (0) and 255 becomes 1"),
            (v / 100, "reads it as a percentage; the scale runs to 255")]


def _output_size(q, f) -> list[Mistake]:
    n, k, s, padding = f["input"], f["kernel"], f["stride"], f["padding"]
    other = "same" if padding == "valid" else "valid"
    out = [(conv_arithmetic.output_size(n, k, s, other), f"is the size with {other} padding, not {padding}")]
    if padding == "valid":
        out.append(((n - k) // s, "forgets the + 1: the kernel's first position counts too"))
    if s > 1:
        out.append((conv_arithmetic.output_size(n, k, 1, padding), f"ignores the stride of {s}"))
    else:
        out.append((n, "keeps the input size; only same padding does that"))
    return out


def _window_value(q, f) -> list[Mistake]:
    patch = np.asarray(q.visual.grids[0].values, dtype=float)
    kernel = kernels.PRESETS[f["kernel"]]
    flipped = float(np.sum(patch * kernel[::-1, ::-1]))
    return [(flipped, "flips the kernel, as mathematicians' convolution does; a CNN does not"),
            (float(patch.sum()), "adds the pixels without multiplying by the weights"),
            (float(patch[1, 1] * kernel[1, 1]), "uses only the centre pixel and weight")]


def _relu_row(q, f) -> list[Mistake]:
    row = np.array(f["row"], dtype=float)
    return [(float(row.sum()), "adds the row as it was, without ReLU"),
            (float(np.abs(row).sum()), "makes negatives positive; ReLU turns them into 0"),
            (float(row[row < 0].sum()), "keeps the negative values; ReLU keeps the positive ones")]


def _slope(q, f) -> list[Mistake]:
    fn, x, given = f["function"], f["x"], f["given"]
    if fn == "relu":
        return [(0.0 if x > 0 else 1.0, "has the two sides of ReLU the wrong way round"),
                (float(max(x, 0)), "gives ReLU's value, not its slope")]
    value = float(activations.get(fn)[0](np.array(float(x))))
    steepest = {"sigmoid": 0.25, "tanh": 1.0}[fn]
    return [(given, f"gives {fn}({fmt(x)}) itself, not its slope"),
            (steepest, f"is the slope at 0, where {fn} is steepest"),
            (1 - value if fn == "sigmoid" else 1 - abs(value), "forgets to multiply (or square) in the slope's formula")]


def _vanishing(q, f) -> list[Mistake]:
    n, ask = f["layers"], f["ask"]
    if ask == "fraction":
        return [(0.25 * n, "adds the 0.25s; the layers multiply the gradient"),
                (0.5 ** n, "uses σ(0) = 0.5, the value, not the slope 0.25"),
                (0.25, "counts one layer; each of them multiplies again")]
    return [(4.0 * n, "adds the 4s; the layers multiply"),
            (2.0 ** n, "uses σ(0) = 0.5, the value, not the slope 0.25"),
            (4.0, "counts one layer; each of them multiplies again")]


def _pool_value(q, f) -> list[Mistake]:
    fmap = np.asarray(q.visual.grids[0].values, dtype=float)
    r, c = f["cell"]
    window = fmap[2 * r:2 * r + 2, 2 * c:2 * c + 2]
    if f["mode"] == "max":
        out = [(float(window.mean()), "is the mean, average pooling; max pooling keeps the largest"),
               (float(fmap.max()), "is the largest of the whole map, not of this window")]
    else:
        out = [(float(window.max()), "is the largest, max pooling; average pooling keeps the mean"),
               (float(window.sum()), "adds the four values without dividing by 4")]
    other = pooling.pool2d(fmap, 2, 2, "valid", f["mode"]).output[1 - r, 1 - c]
    return out + [(float(other), "is the value of the opposite corner's window")]


def _pool_size(q, f) -> list[Mistake]:
    n, k, s = f["input"], f["pool"], f["stride"]
    return [(math.ceil(n / s), "rounds up, as same padding would; valid keeps only whole windows"),
            (n - k + 1, "ignores the stride") if s > 1 else (n // k, "divides by the window size; the stride is 1"),
            ((n - k) // s, "forgets the + 1 for the first window")]


def _dropout_zeroed(q, f) -> list[Mistake]:
    r, n = f["rate"], f["units"]
    return [(n * (1 - r), "counts the values kept; the rate is the share dropped"),
            (n / (1 - r), "uses the scale of the kept values"),
            (0.0, "thinks dropout drops nothing on average; it drops a share r at every step")]


def _dropout_scale(q, f) -> list[Mistake]:
    r, v = f["rate"], f["value"]
    return [(v * (1 - r), "shrinks the value; Keras makes kept values larger, by 1 / (1 − rate)"),
            (v, "forgets the scaling of the kept values"),
            (v / r, "divides by the rate; the scale is 1 / (1 − rate)")]


def _dropout_inference(q, f) -> list[Mistake]:
    r, v = f["rate"], f["value"]
    return [(v / (1 - r), "scales as in training; at inference dropout does nothing"),
            (v * (1 - r), "shrinks the value; at inference dropout does nothing"),
            (0.0, "drops it; at inference nothing is dropped")]


def _dense_params(q, f) -> list[Mistake]:
    (h, _, c), u = f["map"], f["units"]
    n = h * h * c
    return [(n * u, "forgets the bias of each unit"),
            ((h * h + 1) * u, "forgets the channels when flattening"),
            (n + u, "adds inputs and units; every unit has a weight for every input")]


def _two_dense(q, f) -> list[Mistake]:
    n, (h, out) = f["inputs"], f["units"]
    return [(n * h + h * out, "forgets the biases"),
            ((n + 1) * h, "counts only the first Dense layer"),
            ((n + 1) * out, "connects the input straight to the last layer")]


def _network_shape(q, f) -> list[Mistake]:
    input_shape, layers = f["input"], f["layers"]
    same = tuple(("conv", *l[1:3], "same") if l[0] == "conv" else l for l in layers)
    first_filters = tuple((l[0], layers[0][1], *l[2:]) if l[0] == "conv" else l for l in layers)
    options = [(same, "treats every convolution as same padding; valid ones shrink the map"),
               (layers[:-1], "leaves out the last pooling"),
               (first_filters, "keeps the first convolution's number of channels")]
    return [(networks.flatten_size(input_shape, stack)[1], why) for stack, why in options]


def _conv_params(q, f) -> list[Mistake]:
    (_, _, c), filters, k = f["input"], f["filters"], f["kernel"]
    return [(k * k * c * filters, "forgets the bias of each filter"),
            ((k * k + 1) * filters, "forgets that each filter has weights for every input channel"),
            (k * k * filters, "forgets the input channels and the biases")]


def _steps(q, f) -> list[Mistake]:
    n, b, e = f["pictures"], f["batch"], f["epochs"]
    per = networks.steps_per_epoch(n, b)
    out = [(n * e, "counts one step per picture; a step is one batch")]
    if n % b:
        out.append(((n // b) * e, "leaves out the last, smaller batch; it is a step too"))
    out.append((per if e > 1 else per * 2, "forgets the number of epochs" if e > 1 else "counts two passes"))
    out.append((n // b + 1 if not n % b else per * e + e, SLIP))
    return out


NUMBER_MISTAKES: dict[str, Callable[[Question, dict], list[Mistake]]] = {
    "image_size": _image_size, "pixel_value": _pixel_value, "output_size": _output_size,
    "window_value": _window_value, "relu_row": _relu_row, "slope": _slope,
    "vanishing": _vanishing, "pool_value": _pool_value, "pool_size": _pool_size,
    "dropout_zeroed": _dropout_zeroed, "dropout_scale": _dropout_scale,
    "dropout_inference": _dropout_inference, "dense_params": _dense_params,
    "two_dense": _two_dense, "network_shape": _network_shape, "conv_params": _conv_params,
    "steps": _steps,
}


def _near_misses(answer: float) -> list[Mistake]:
    step = 1.0 if float(answer).is_integer() else abs(answer) * 0.1 or 0.1
    return [(answer + step, SLIP), (answer - step, SLIP), (answer * 2, SLIP)]


def _choice_reasons(q: Question) -> list[str]:
    """Why each choice of a CHOICE question is wrong ("" for the right one)."""
    if isinstance(q.visual, FeatureMaps):            # which map came from Sobel x
        looks = dict(q.visual.maps)
        return ["" if c == q.answer else f"{c} is {nc.LOOKS.get(looks.get(c), looks.get(c))}"
                for c in q.choices]
    return ["" if c == q.answer else f"{c} is not it: " + q.why for c in q.choices]


def from_question(q: Question, max_choices: int = MAX_CHOICES) -> ClassPoll:
    """The question as a poll of at most `max_choices` choices, shuffled by the question's seed."""
    if q.kind == CHOICE:
        return ClassPoll(q.text, tuple(q.choices), q.choices.index(q.answer),
                         tuple(_choice_reasons(q)), q.explanation)
    answer = float(q.answer)
    made = NUMBER_MISTAKES.get(q.topic, lambda *_: [])(q, _facts(q)) + _near_misses(answer)
    right_text = fmt(answer)
    wrong: dict[str, str] = {}
    for value, why in made:
        text = fmt(value)
        if (abs(value - answer) <= max(q.tolerance, 1e-9) or text == right_text or text in wrong
                or not math.isfinite(value)):
            continue
        wrong[text] = why
        if len(wrong) == max_choices - 1:
            break
    entries = [(right_text, "")] + list(wrong.items())
    random.Random(f"cnnviz-class/{q.step}/{q.seed}").shuffle(entries)
    choices = tuple(text.replace("-", "−") for text, _ in entries)
    right = next(i for i, (_, why) in enumerate(entries) if not why)
    return ClassPoll(q.text, choices, right, tuple(why for _, why in entries), q.explanation)


def network_answer(probabilities: Sequence[float], class_names: Sequence[str]) -> ClassPoll:
    """"What will the network answer?": every class a choice; the right one is the network's
    prediction, and each wrong one says how sure the network was of it."""
    p = np.asarray(probabilities, dtype=float)
    pred = int(np.argmax(p))
    why = tuple("" if i == pred else
                f"the network gives {name} only {p[i]:.0%}; it answers {class_names[pred]} ({p[pred]:.0%})"
                for i, name in enumerate(class_names))
    return ClassPoll("What will the network answer for this picture?", tuple(class_names), pred, why,
                     f"The network answers **{class_names[pred]}** with probability {p[pred]:.0%}.")


