"""What a question is made of (its text, answer and pictures), and how its numbers are written."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NUMBER, CHOICE = "number", "choice"
SIGNIFICANT = 3                 # decimal answers are judged to this many significant digits
WHOLE = "a whole number"
DECIMAL = f"{SIGNIFICANT} significant digits, or a fraction"
PRECISION = (f"Give it to {SIGNIFICANT} significant digits (such as 0.0196 or 1.33), "
             "or as a fraction such as 1/3.")


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
    tolerance: float = 0.0     # |typed − answer| ≤ tolerance counts as right (see with_precision)
    hint: str = ""             # what to type ("a whole number", ...)
    visual: Grids | FeatureMaps | Curves | None = None
    topic: str = ""            # which kind of question ("output_size", "which_sobel", ...)
    #: The numbers the question is made of, as (name, value) pairs (for tests and notebooks).
    facts: tuple[tuple[str, object], ...] = ()
    #: (url_path, URL parameters) of a page where the student can check the answer, or None.
    check_link: tuple[str, tuple[tuple[str, str], ...]] | None = None
    side: bool = False         # the answer is the side of a square map: a typed "20 × 20" means 20


def tolerance(answer: float, hint: str) -> float:
    """How far a typed answer may be from the key: whole numbers exactly; decimal numbers
    rounded to SIGNIFICANT digits, so half a unit in the last of those digits."""
    answer = abs(float(answer))
    if hint == WHOLE or answer == 0:
        return 0.0
    exponent = math.floor(math.log10(answer))
    if 10.0 ** (exponent + 1) <= answer:                # log10 rounding just below a power of ten
        exponent += 1
    return 0.5 * 10.0 ** (exponent - SIGNIFICANT + 1)


def with_precision(fields: dict) -> dict:
    """A number question's fields with its tolerance, and its text saying the precision wanted,
    by one rule for every kind of question."""
    if fields["kind"] != NUMBER:
        return fields
    hint = fields.get("hint", WHOLE)
    text = fields["text"] + (f" {PRECISION}" if hint == DECIMAL else "")
    return {**fields, "text": text, "tolerance": tolerance(fields["answer"], hint)}


def fmt(x: float) -> str:
    """12 → '12', 8010 → '8,010', 0.25 → '0.25', 1.3333 → '1.333'."""
    x = float(x)
    if x.is_integer():
        return f"{int(x):,}"
    return f"{x:.4g}" if abs(x) < 1e4 else f"{x:,.2f}"


def signed(x: float) -> str:
    """A factor in a product: negatives in parentheses, with a real minus sign."""
    s = fmt(x).replace("-", "−")
    return f"({s})" if x < 0 else s


def grid(values) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in np.asarray(values).tolist())
