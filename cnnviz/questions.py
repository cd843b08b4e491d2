"""The guided lesson: its steps in the lesson's order and a question for each, made from a seed.

UI-free (no Streamlit, no TensorFlow): the answers come from the same core functions the pages
use (kernels.output_size, kernels.convolve, pooling.pool2d, activations, ...), and the tests
check them against Keras.

A class does not share one answer key: ``question(step, seed)`` draws the numbers (and, for
some steps, the kind of question) from the seed, deterministically, so the same seed gives the
same questions again (a student can resume) and another seed gives others.

    >>> from cnnviz import questions
    >>> q = questions.question(2, 4821)
    >>> questions.check(q, "12").correct
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

import numpy as np

from cnnviz import activations, images, kernels, pooling, samples, typed

__all__ = [
    "STEPS", "Step", "Question", "Grid", "Grids", "FeatureMaps", "Curves", "Run", "Feedback",
    "AnswerError", "SEED_MAX", "question", "question_set", "check", "new_seed", "feature_maps",
    "steps_per_epoch", "flatten_size", "NUMBER", "CHOICE",
]

NUMBER, CHOICE = "number", "choice"
SEED_MAX = 99_999            # seeds a link may carry: 0 … SEED_MAX
MAX_ANSWER = 1e12            # larger typed answers are refused (no question's answer comes near)
ACCEPTED = "Type a number, such as 12, 0.25 or 1/4."


# --------------------------------------------------------------------------- the steps

@dataclass(frozen=True)
class Step:
    key: str
    title: str
    text: str                     # Markdown, a few sentences
    try_page: str                 # the url_path of the page to open ("index" = Home)
    try_params: tuple[tuple[str, str], ...]   # its settings, as the page's URL parameters
    try_label: str                # the link's text
    try_hint: str                 # what to look at there

    @property
    def try_query(self) -> dict[str, str]:
        return dict(self.try_params)


STEPS: tuple[Step, ...] = (
    Step("numbers", "The image as numbers",
         "A computer never sees a picture, only a grid of numbers. A grey image of 28 × 28 pixels "
         "is 784 numbers, one brightness per pixel, from 0 (black) to 255 (white). A colour image "
         "stacks three such grids, for red, green and blue, so it holds height × width × 3 "
         "numbers. Networks are usually given these numbers divided by 255, so they run from 0 "
         "to 1. Everything a CNN does after this is arithmetic on that grid.",
         "index", (("image", "cifar-cat"), ("channel", "green"), ("zoom", "8")),
         "A colour photo as numbers", "Home shows the cat photo's green grid, 8 × 8 pixels at a time. "
         "Switch the colour channel and watch the same pixels change value."),
    Step("convolution", "Convolution",
         "A convolution slides a small grid of weights, the **kernel**, across the image. At each "
         "position it multiplies the pixels under the kernel by the weights at the same places "
         "and adds up the products: that sum is one value of the output, the **feature map**. A "
         "kernel that weighs the right-hand column positively and the left-hand one negatively "
         "gives large values where brightness changes from left to right, so it finds vertical "
         "edges. The **stride** is how many pixels the kernel jumps each time; **padding** puts "
         "zeros around the border so the kernel can also be centred on edge pixels. Without "
         "padding (*valid*) a side of n pixels gives ⌊(n − k) / s⌋ + 1 outputs; Keras's *same* "
         "padding gives ⌈n / s⌉. In a CNN nobody chooses the weights: training finds them.",
         "convolution", (("kernel", "sobel-x"), ("stride", "2"), ("padding", "same")),
         "Sobel x with stride 2 and same padding", "The feature map is half the size of the "
         "picture, and the vertical edges light up: red on one side of a stroke, blue on the other."),
    Step("activation", "Activation",
         "After each convolution, a simple non-linear function is applied to every value on its "
         "own. Without it, two convolutions in a row would amount to one larger convolution, and "
         "a deep network would be no better than a shallow one. **ReLU**, max(0, x), keeps "
         "positive values and turns negative ones into 0; it is cheap, and its slope is 1 "
         "wherever it lets values through. Older networks used **sigmoid** or **tanh**, which "
         "squeeze every input into a narrow range: their slope is small almost everywhere. "
         "Training multiplies these slopes layer after layer on the way back, so with many "
         "sigmoid layers the gradient that reaches the first layers nearly vanishes.",
         "activations", (("functions", "relu,sigmoid"), ("x0", "-3")),
         "ReLU and sigmoid, read at x = −3", "The table gives each function's value and slope at "
         "−3; the lower section shows how the gradient shrinks through 20 sigmoid layers."),
    Step("pooling", "Pooling",
         "A **pooling** layer makes each feature map smaller. It cuts the map into small windows, "
         "usually 2 × 2, and keeps one number per window: the largest (*max pooling*) or the "
         "mean (*average pooling*). Afterwards the network knows that a feature is *around here* "
         "rather than at exactly this pixel, so small shifts of the picture matter less. Smaller "
         "maps also mean less work and fewer weights in the layers that follow. Pooling has "
         "nothing to learn, and it shrinks the height and width of a map but never the number "
         "of channels.",
         "pooling", (("mode", "max"), ("size", "4")),
         "Max pooling with a 4 × 4 window", "The 28 × 28 map shrinks to 7 × 7; pick a window to "
         "see its 16 values and the one that wins. Then try 2 × 2 and average pooling."),
    Step("dropout", "Dropout",
         "A network can **overfit**: learn its training pictures by heart instead of what they "
         "have in common. Dropout works against that. At every training step a dropout layer "
         "with rate r sets each value passing through it to 0 with probability r, choosing anew "
         "each time, so no unit can rely on one particular other unit being there. The values "
         "it keeps are multiplied by 1 / (1 − r), so that their total stays the same on average. "
         "Once the network is trained and used to predict (*inference*), dropout does nothing.",
         "pooling", (("dropout", "0.25"), ("dropout_mode", "training")),
         "Dropout with rate 0.25", "At the bottom of the page: the mask of kept units and the "
         "scale of the survivors. Press *New random mask* a few times, then switch to inference."),
    Step("dense", "Fully connected layers",
         "At the end, the feature maps are **flattened** into one long list of numbers and "
         "passed to **fully connected** (Dense) layers. Each unit of a Dense layer has its own "
         "weight for every number it receives, plus one bias; it outputs their weighted sum "
         "(followed by an activation). The last Dense layer has one unit per class, and softmax "
         "turns its scores into probabilities that add up to 1. Because every input meets every "
         "unit, the Dense layers hold most of the parameters of a small CNN.",
         "network", (("net", "mnist"), ("layer", "dense1")),
         "The digit network's first Dense layer", "Its 128 units, each computed from all 1,600 "
         "numbers of the flattened 5 × 5 × 64 map; further down, the 10 class scores."),
    Step("network", "A whole network",
         "A CNN stacks these pieces: convolution, activation and pooling, repeated a few times, "
         "usually with more channels and smaller maps at each stage; then Flatten and Dense "
         "layers. The first layers respond to edges and blobs, later ones combine those into "
         "parts such as loops, corners or wheels. To know how big each map is, follow the shape "
         "through the stack: a convolution sets the number of channels to its number of "
         "filters and changes height and width as its kernel, stride and padding say; pooling "
         "divides height and width; Flatten multiplies height × width × channels.",
         "train", (("net", "C~f8~arelu_M_C~f16~arelu_M_F"),),
         "Build a network and read its shapes", "The Train page asks Keras for the output shape "
         "and parameter count of every layer as you add, remove or change layers."),
    Step("training", "Training",
         "Training starts from random weights. The network answers a **batch** of training "
         "pictures, a **loss** measures how wrong the answers were, and back-propagation works "
         "out for every weight how the loss would change if that weight changed (its "
         "**gradient**). The optimizer then moves every weight a little against its gradient. "
         "One such update is a **step**; one pass over all the training pictures is an "
         "**epoch**. Some pictures are kept aside for **validation**: when the training loss "
         "keeps falling but the validation loss rises, the network has started to memorise, and "
         "it is time to stop, or to add dropout or more data.",
         "train", (("data", "mnist"), ("epochs", "3"), ("batch", "64")),
         "Train a small CNN on digits", "Three epochs in batches of 64: watch the training and "
         "validation curves, and the first layer's filters take shape."),
)


# --------------------------------------------------------------------------- questions

@dataclass(frozen=True)
class Grid:
    """A small grid of numbers to show with the question (a patch, a kernel, a map to pool)."""
    title: str
    values: tuple[tuple[float, ...], ...]
    block: int = 0        # a thicker line every `block` cells (pooling windows); 0: none


@dataclass(frozen=True)
class Grids:
    grids: tuple[Grid, ...]


@dataclass(frozen=True)
class FeatureMaps:
    """A sample picture convolved with several preset kernels: (label, preset name) each."""
    sample: str
    maps: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Run:
    label: str
    train: tuple[float, ...]        # the training loss after each epoch
    validation: tuple[float, ...]   # the validation loss after each epoch


@dataclass(frozen=True)
class Curves:
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Question:
    step: int                  # 1 … len(STEPS)
    seed: int
    text: str                  # Markdown
    kind: str                  # NUMBER or CHOICE
    answer: float | str        # a number, or one of `choices`
    explanation: str           # the method, worked through to the answer (shown when wrong)
    why: str                   # one short line (shown when right)
    choices: tuple[str, ...] = ()
    tolerance: float = 0.0     # |typed − answer| ≤ tolerance counts as right
    hint: str = ""             # what to type ("a whole number", ...)
    visual: Grids | FeatureMaps | Curves | None = None
    topic: str = ""            # which kind of question ("output_size", "which_sobel", ...)
    #: The numbers the question is made of, as (name, value) pairs (for tests and notebooks).
    facts: tuple[tuple[str, object], ...] = ()
    #: (url_path, URL parameters) of a page where the student can check the answer, or None.
    check_link: tuple[str, tuple[tuple[str, str], ...]] | None = None


class AnswerError(ValueError):
    """A typed answer that is not a usable number (or no choice made); one line for the student."""


@dataclass(frozen=True)
class Feedback:
    correct: bool
    given: str          # the answer as understood
    message: str        # Markdown: why (right) or the method (wrong)


WHOLE = "a whole number"
DECIMAL = "a number, e.g. 0.25 or 1/4"


def _fmt(x: float) -> str:
    """12 → '12', 8010 → '8,010', 0.25 → '0.25', 1.3333 → '1.333'."""
    x = float(x)
    if x.is_integer():
        return f"{int(x):,}"
    return f"{x:.4g}" if abs(x) < 1e4 else f"{x:,.2f}"


def _signed(x: float) -> str:
    """A factor in a product: negatives in parentheses, with a real minus sign."""
    s = _fmt(x).replace("-", "−")
    return f"({s})" if x < 0 else s


def _grid(values) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in np.asarray(values).tolist())


# ---- step 1: the image as numbers

def _image_size(rng: random.Random) -> dict:
    colour = rng.random() < 0.6
    h, w = rng.choice([(28, 28), (32, 32), (64, 64), (96, 96), (100, 150), (120, 80),
                       (224, 224), (480, 480), (48, 64), (256, 256)])
    c = 3 if colour else 1
    what = "colour photo" if colour else "grey picture"
    shape = f"{h} × {w} × {c}" if colour else f"{h} × {w}"
    answer = h * w * c
    steps = f"{h} × {w} × {c} = **{_fmt(answer)}**"
    return dict(
        text=f"A {what} is **{h} pixels high and {w} pixels wide**. How many numbers does "
             f"a network receive for it?",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("height", h), ("width", w), ("channels", c)),
        explanation=("A colour pixel is three numbers (red, green, blue), so the picture is "
                     f"a {shape} array: height × width × channels = {steps}." if colour else
                     "A grey pixel is one number, its brightness, so the picture is a "
                     f"{shape} grid: height × width = {h} × {w} = **{_fmt(answer)}**."),
        why=f"The array is {shape}: one number per pixel" + (" and colour channel." if colour else "."))


def _pixel_value(rng: random.Random) -> dict:
    v = rng.choice([0, 255] + list(range(5, 255, 5)) * 2)
    answer = v / 255
    return dict(
        text=f"A pixel has the value **{v}** (0 is black, 255 is white). The network gets pixel "
             "values divided by 255. What value does it get for this pixel?",
        kind=NUMBER, answer=answer, tolerance=0.005, hint=DECIMAL, facts=(("pixel", v),),
        explanation=f"Divide by 255: {v} / 255 = **{_fmt(answer)}**. Black stays 0, white becomes 1.",
        why=f"{v} / 255 = {_fmt(answer)}: the values now run from 0 (black) to 1 (white).")


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
    answer = kernels.output_size(n, k, s, padding)
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
        kind=NUMBER, answer=answer, hint=WHOLE, explanation=explanation, why=why,
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
    terms = [f"{_signed(p)}·{_signed(w)}" for p, w in zip(patch.ravel(), kernel.ravel()) if w != 0]
    return dict(
        text=f"The **{name}** kernel lies on the 3 × 3 patch of pixels below. What value does "
             "the convolution write into the feature map at this position?",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("kernel", name),),
        visual=Grids((Grid("pixels under the kernel", _grid(patch)), Grid(f"kernel: {name}", _grid(kernel)))),
        explanation=("Multiply each pixel by the weight at the same place and add everything "
                     "up (weights of 0 add nothing): " + " + ".join(terms)
                     + f" = **{_fmt(answer)}**."),
        why="Pixel times weight, cell by cell, all added up: that is one value of the feature map.")


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
    shown = ", ".join(_fmt(v).replace("-", "−") for v in row)
    return dict(
        text=f"One row of a feature map holds **{shown}**. ReLU is applied to every value. "
             "What is the sum of the row afterwards?",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("row", tuple(row)),),
        explanation=(f"ReLU(x) = max(0, x) keeps {', '.join(_fmt(v) for v in kept)} and turns "
                     f"{', '.join(_fmt(v).replace('-', '−') for v in zeroed)} into 0, so the sum is "
                     + " + ".join(_fmt(v) for v in kept) + f" = **{_fmt(answer)}**."),
        why="ReLU passes positive values unchanged and turns the rest into 0.")


def _slope(rng: random.Random) -> dict:
    fn, x = rng.choice([("sigmoid", 0), ("sigmoid", 0), ("tanh", 0),
                        ("relu", rng.randint(1, 9)), ("relu", -rng.randint(1, 9))])
    answer = float(activations.get(fn)[1](np.array(float(x)))) + 0.0
    label = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU"}[fn]
    shown = _fmt(x).replace("-", "−")
    method = {
        "sigmoid": ("sigmoid′(x) = σ(x) · (1 − σ(x)), and σ(0) = 0.5, so the slope is "
                    "0.5 · 0.5 = **0.25**. That is the steepest sigmoid ever gets: every sigmoid "
                    "layer multiplies the gradient by 0.25 or less."),
        "tanh": "tanh′(x) = 1 − tanh²(x), and tanh(0) = 0, so the slope is 1 − 0 = **1**.",
        "relu": (f"ReLU(x) = x for positive x: a line of slope 1, so ReLU′({shown}) = **1**, and "
                 "the gradient passes through unchanged." if x > 0 else
                 f"ReLU(x) = 0 for negative x: a flat line, so ReLU′({shown}) = **0**; no "
                 "gradient flows back through this value."),
    }[fn]
    why = {"sigmoid": "σ(0)·(1 − σ(0)) = 0.5 · 0.5 = 0.25, the largest slope sigmoid has.",
           "tanh": "tanh is steepest at 0, where its slope is 1 − 0² = 1.",
           "relu": "ReLU is a line of slope 1 on the positive side." if x > 0 else
                   "ReLU is flat (slope 0) on the negative side."}[fn]
    return dict(text=f"What is the slope (the derivative) **{label}′({shown})**?",
                kind=NUMBER, answer=answer, tolerance=0.005, hint=DECIMAL,
                explanation=method, why=why, facts=(("function", fn), ("x", x)))


def _vanishing(rng: random.Random) -> dict:
    n = rng.choice([2, 3, 4, 5])
    top = float(activations.d_sigmoid(np.array(0.0)))      # 0.25, the largest slope of sigmoid
    answer = top ** n
    return dict(
        text=f"On the way back, every sigmoid layer multiplies the gradient by its slope, which "
             f"is at most 0.25. Through **{n} sigmoid layers**, at most what fraction of the "
             "gradient is left?",
        kind=NUMBER, answer=answer, tolerance=0.03 * answer, hint=DECIMAL, facts=(("layers", n),),
        explanation=(f"The largest slope of sigmoid is σ′(0) = 0.25, and the {n} layers multiply: "
                     f"0.25^{n} = {' · '.join(['0.25'] * n)} = **{answer:g}** "
                     f"(1/{4 ** n}). This is the vanishing gradient: the first layers hardly learn."),
        why=f"0.25^{n} = 1/{4 ** n}: the gradient shrinks fast, which is why ReLU replaced sigmoid.")


# ---- step 4: pooling

CORNERS = {(0, 0): "top-left", (0, 1): "top-right", (1, 0): "bottom-left", (1, 1): "bottom-right"}


def _pool_value(rng: random.Random) -> dict:
    mode = rng.choice(["max", "max", "avg"])
    fmap = np.array([[rng.randint(-3, 9) for _ in range(4)] for _ in range(4)], dtype=float)
    (r, c), where = rng.choice(list(CORNERS.items()))
    result = pooling.pool2d(fmap, 2, 2, "valid", mode)
    answer = float(result.output[r, c])
    cells = fmap[2 * r:2 * r + 2, 2 * c:2 * c + 2].ravel()
    listed = ", ".join(_fmt(v).replace("-", "−") for v in cells)
    rows, cols = f"rows {2 * r + 1}–{2 * r + 2}", f"columns {2 * c + 1}–{2 * c + 2}"
    if mode == "max":
        how = f"max({listed}) = **{_fmt(answer)}**"
        why = "Max pooling keeps the largest of the four values in each 2 × 2 window."
    else:
        how = (f"({' + '.join(_signed(v) for v in cells)}) / 4 = {_fmt(cells.sum())} / 4 = "
               f"**{_fmt(answer)}**")
        why = "Average pooling keeps the mean of the four values in each 2 × 2 window."
    name = "max" if mode == "max" else "average"
    return dict(
        text=f"The 4 × 4 feature map below goes through **{name} pooling, 2 × 2 windows, "
             f"stride 2** (the thick lines show the windows). What is the **{where}** value of "
             "the pooled 2 × 2 map?",
        kind=NUMBER, answer=answer, tolerance=0.005 if mode == "avg" else 0.0,
        hint=WHOLE if mode == "max" else DECIMAL, facts=(("mode", mode), ("cell", (r, c))),
        visual=Grids((Grid("feature map", _grid(fmap), block=2),)),
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
        kind=NUMBER, answer=oh, hint=WHOLE,
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
        kind=NUMBER, answer=answer, tolerance=0.01, hint=WHOLE, facts=(("rate", r), ("units", n)),
        explanation=(f"Each value is dropped on its own with probability {r:g}, so on average "
                     f"{n} × {r:g} = **{_fmt(answer)}** are zeroed. At any one step it can be a "
                     "few more or fewer: the mask is drawn at random every time."),
        why=f"{n} × {r:g} = {_fmt(answer)}: the rate is the share of values dropped, on average.")


def _dropout_scale(rng: random.Random) -> dict:
    r = rng.choice([0.1, 0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 0.8])
    answer = 1 / (1 - r)
    return dict(
        text=f"A Keras Dropout layer with **rate {r:g}** is training. By how much does it "
             "multiply the values it keeps?",
        kind=NUMBER, answer=answer, tolerance=0.01, hint=DECIMAL, facts=(("rate", r),),
        explanation=(f"Keras scales the kept values by 1 / (1 − rate) = 1 / (1 − {r:g}) = "
                     f"1 / {1 - r:g} = **{_fmt(answer)}**. A share {r:g} of the values becomes 0 "
                     "and the rest grow by that factor, so the expected total is what it was "
                     "without dropout, and nothing needs to change at inference."),
        why=f"1 / (1 − {r:g}) = {_fmt(answer)} keeps the expected total of the values unchanged.")


def _dropout_inference(rng: random.Random) -> dict:
    r = rng.choice([0.2, 0.25, 0.3, 0.5])
    n = rng.choice([16, 32, 64, 128])
    return dict(
        text=f"A network with a **Dropout({r:g})** layer of {n} values has finished training and "
             "is now used to predict (inference, `training=False`). How many of the "
             f"{n} values does the dropout layer set to 0?",
        kind=NUMBER, answer=0, hint=WHOLE, facts=(("rate", r), ("units", n)),
        explanation=("Dropout only acts while training. At inference Keras's Dropout layer "
                     "passes every value through unchanged, so **0** values are dropped and "
                     "nothing is scaled: the same picture always gets the same answer."),
        why="Dropout is switched off at inference: every value passes unchanged.")


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
        explanation=(f"Flatten gives {h} × {h} × {c} = {_fmt(n)} numbers. Each of the {u} units "
                     f"has one weight per number plus one bias: ({_fmt(n)} + 1) × {u} = "
                     f"**{_fmt(answer)}**."),
        why=f"({_fmt(n)} inputs + 1 bias) × {u} units = {_fmt(answer)}.")


def _two_dense(rng: random.Random) -> dict:
    n, source = rng.choice([(784, "a flattened 28 × 28 grey digit"), (400, "a flattened 5 × 5 × 16 map"),
                            (256, "a flattened 4 × 4 × 16 map"), (3072, "a flattened 32 × 32 × 3 photo"),
                            (1600, "a flattened 5 × 5 × 64 map")])
    h = rng.choice([16, 32, 64, 128])
    out = 10
    first, second = (n + 1) * h, (h + 1) * out
    answer = first + second
    return dict(
        text=f"**{_fmt(n)} numbers** ({source}) go into **Dense({h})**, and its output into "
             f"**Dense({out})**. How many parameters do the two layers have together?",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("inputs", n), ("units", (h, out))),
        explanation=(f"Each unit has a weight per input plus a bias. Dense({h}): ({_fmt(n)} + 1) "
                     f"× {h} = {_fmt(first)}. Dense({out}) gets the {h} outputs: ({h} + 1) × "
                     f"{out} = {_fmt(second)}. Together **{_fmt(answer)}**."),
        why=f"{_fmt(first)} + {_fmt(second)} = {_fmt(answer)}: the first Dense layer holds almost all of them.")


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
            h, w, c = kernels.output_size(h, k, 1, padding), kernels.output_size(w, k, 1, padding), f
        else:
            h, w = pooling.output_shape((h, w), layer[1], None, "valid")
        shapes.append((h, w, c))
    return shapes, h * w * c


def _network_link(layers) -> str:
    """The stack in builder.to_link's form (defaults left out), then Flatten."""
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
                     + f"; Flatten: {fh} × {fw} × {fc} = **{_fmt(answer)}**."),
        why=f"The last map is {fh} × {fw} × {fc}, and Flatten lays its {_fmt(answer)} values in a row.",
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
                     f"**{_fmt(answer)}**. The {side} × {side} size does not matter: the same "
                     "weights slide over every position."),
        why=f"({k}·{k}·{c} + 1) × {f} = {_fmt(answer)}; the picture's size plays no part.")


# ---- step 8: training

def steps_per_epoch(n: int, batch: int) -> int:
    """Weight updates in one epoch: one per batch, the last batch taking what is left."""
    n = kernels.check_int("number of pictures", n, 1)
    batch = kernels.check_int("batch size", batch, 1)
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
    ceil = f"⌈{_fmt(n)} / {b}⌉ = {_fmt(per_epoch)}" if not exact.is_integer() else \
        f"{_fmt(n)} / {b} = {_fmt(per_epoch)} exactly"
    span = "one epoch" if epochs == 1 else f"**{epochs} epochs**"
    return dict(
        text=f"Training uses **{_fmt(n)}** pictures" + (f" ({what})" if what else "")
             + f" in batches of **{b}**. How many "
             f"steps (weight updates) does the optimizer make in {span}?",
        kind=NUMBER, answer=answer, hint=WHOLE, facts=(("pictures", n), ("batch", b), ("epochs", epochs)),
        explanation=("One step per batch, and the last batch of an epoch takes whatever is "
                     f"left, even if it is smaller: {ceil} steps per epoch"
                     + (f", × {epochs} epochs = **{_fmt(answer)}**." if epochs > 1 else
                        f" = **{_fmt(answer)}**.")),
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


_GENERATORS = (
    (_image_size, _image_size, _pixel_value),
    (_output_size, _output_size, _which_sobel, _window_value),
    (_relu_row, _slope, _vanishing),
    (_pool_value, _pool_value, _pool_size),
    (_dropout_zeroed, _dropout_scale, _dropout_inference),
    (_dense_params, _dense_params, _two_dense),
    (_network_shape, _network_shape, _conv_params),
    (_steps, _overfit),
)
assert len(_GENERATORS) == len(STEPS)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= SEED_MAX:
        raise ValueError(f"seed must be a whole number from 0 to {SEED_MAX}, got {seed!r}.")
    return int(seed)


def question(step: int, seed: int) -> Question:
    """The question of `step` (1 … len(STEPS)) for `seed`: the same seed, the same question."""
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 1 <= step <= len(STEPS):
        raise ValueError(f"step must be a whole number from 1 to {len(STEPS)}, got {step!r}.")
    seed = _check_seed(seed)
    rng = random.Random(f"cnnviz-lesson/{STEPS[step - 1].key}/{seed}")
    generator = rng.choice(_GENERATORS[step - 1])
    return Question(step=int(step), seed=seed, topic=generator.__name__.lstrip("_"), **generator(rng))


def question_set(seed: int) -> list[Question]:
    """Every step's question for one seed, in the lesson's order."""
    return [question(i, seed) for i in range(1, len(STEPS) + 1)]


def new_seed(rng: random.Random | None = None) -> int:
    """A fresh four-digit seed for a new question set (easy to note down)."""
    return (rng or random.SystemRandom()).randint(1000, 9999)


# --------------------------------------------------------------------------- answers

_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


def _number_text(text: str) -> str:
    """Tidy what a person types: '8,010' and '8 010' → '8010', '0,25' → '0.25'."""
    s = text.strip().replace("−", "-").replace("\u202f", " ").replace("\u00a0", " ")
    s = re.sub(r"(?<=\d)[ _'](?=\d)", "", s)
    if _THOUSANDS.fullmatch(s):
        return s.replace(",", "")
    if s.count(",") == 1 and "." not in s and "/" not in s:
        return s.replace(",", ".")
    return s


def parse_answer(text) -> float:
    """A typed answer as a float; AnswerError with one line when it is not a usable number."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise AnswerError(f"Your answer is empty. {ACCEPTED}")
    if isinstance(text, str):
        if len(text) > typed.MAX_NUMBER_CHARS:      # before any work on it
            raise AnswerError(f"Your answer holds {typed.quote(text)}, too long for a number. {ACCEPTED}")
        text = _number_text(text)
    try:
        return typed.parse_number(text, "Your answer", ACCEPTED, MAX_ANSWER)
    except ValueError as exc:
        raise AnswerError(str(exc)) from None


def check(q: Question, given) -> Feedback:
    """Judge an answer: typed text (or a number) for NUMBER questions, a choice for CHOICE ones.

    Raises AnswerError (one line) when the answer cannot be judged: not a number, empty, too
    long, no choice made.
    """
    if q.kind == CHOICE:
        if given is None or given == "":
            raise AnswerError("Pick one of the answers first.")
        if given not in q.choices:
            raise AnswerError(f"{typed.quote(given)} is not one of the answers "
                              f"({', '.join(q.choices)}).")
        shown, correct = str(given), given == q.answer
    else:
        value = parse_answer(given)
        shown = _fmt(value) if abs(value) < 1e15 else f"{value:g}"
        correct = abs(value - float(q.answer)) <= q.tolerance + 1e-9 * max(1.0, abs(float(q.answer)))
    if correct:
        return Feedback(True, shown, f"**Right.** {q.why}")
    return Feedback(False, shown, f"**Not quite**: you answered {shown}. {q.explanation}")


# --------------------------------------------------------------------------- pictures' data

def feature_maps(visual: FeatureMaps) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """The sample in grey and (label, feature map) for each kernel (same padding, stride 1)."""
    gray = images.to_gray(samples.load_sample(visual.sample).pixels).astype(np.float32)
    return gray, [(label, kernels.convolve(gray, kernels.PRESETS[preset], padding="same"))
                  for label, preset in visual.maps]
