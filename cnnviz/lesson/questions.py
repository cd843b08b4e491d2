"""A question for each step of the lesson, made from a seed.

A class does not share one answer key: ``question(step, seed)`` draws the numbers (and, for
some steps, the kind of question) from the seed, deterministically, so the same seed gives the
same questions again (a student can resume) and another seed gives others.

    >>> from cnnviz.lesson import answers, questions
    >>> q = questions.question(2, 4821)
    >>> answers.check(q, "12").correct
"""
from __future__ import annotations

import random

import numpy as np

from cnnviz import images, kernels, samples
from cnnviz.lesson import layers, networks
from cnnviz.lesson import numbers_and_convolution as nc
from cnnviz.lesson.question_types import FeatureMaps, Question, with_precision
from cnnviz.lesson.steps import STEPS

SEED_MAX = 99_999            # seeds a link may carry: 0 … SEED_MAX

GENERATORS = (nc.NUMBERS, nc.CONVOLUTION, layers.ACTIVATION, layers.POOLING, layers.DROPOUT,
              networks.DENSE, networks.NETWORK, networks.TRAINING)   # each step's question makers
assert len(GENERATORS) == len(STEPS)


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
    generator = rng.choice(GENERATORS[step - 1])
    return Question(step=int(step), seed=seed, topic=generator.__name__.lstrip("_"),
                    **with_precision(generator(rng)))


def question_set(seed: int) -> list[Question]:
    """Every step's question for one seed, in the lesson's order."""
    return [question(i, seed) for i in range(1, len(STEPS) + 1)]


def new_seed(rng: random.Random | None = None) -> int:
    """A fresh four-digit seed for a new question set (easy to note down)."""
    return (rng or random.SystemRandom()).randint(1000, 9999)


def feature_maps(visual: FeatureMaps) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """The sample in grey and (label, feature map) for each kernel (same padding, stride 1)."""
    gray = images.to_gray(samples.load_sample(visual.sample).pixels).astype(np.float32)
    return gray, [(label, kernels.convolve(gray, kernels.PRESETS[preset], padding="same"))
                  for label, preset in visual.maps]
