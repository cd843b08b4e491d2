"""Judging a student's answer: typed text for number questions, a choice for the others."""
from __future__ import annotations

import math
from dataclasses import dataclass

from cnnviz import typed
from cnnviz.lesson import reading
from cnnviz.lesson.question_types import CHOICE, DECIMAL, Question

ACCEPTED = reading.ACCEPTED


class AnswerError(ValueError):
    """A typed answer that is not a usable number (or no choice made); one line for the student."""


@dataclass(frozen=True)
class Feedback:
    correct: bool
    given: str          # the answer as understood
    message: str        # Markdown: why (right) or the method (wrong)
    typed: str = ""     # the answer exactly as typed (number questions)


def parse_answer(text, decimal_comma: bool = False) -> float:
    """A typed answer as a float; AnswerError with one line when it is not one number."""
    got = _read(text, decimal_comma)
    if not got.factors or not math.isnan(got.value):
        return got.value
    raise AnswerError(_several(got))


def _read(text, decimal_comma: bool) -> reading.Reading:
    try:
        return reading.read(text, decimal_comma)
    except reading.ReadError as exc:
        raise AnswerError(str(exc)) from None


def _several(got: reading.Reading) -> str:
    listed = f" ({' and '.join(reading.as_read(x) for x in got.factors)})" if len(got.factors) <= 3 else ""
    return f"Your answer {typed.quote(got.typed)} holds {len(got.factors)} numbers{listed}; type one. {ACCEPTED}"


def understood(q: Question, text) -> tuple[float, str]:
    """The number a typed answer gives for `q`, and how to say it: a size typed for a question
    about a side ("20 × 20") gives its width."""
    got = _read(text, decimal_comma=q.hint == DECIMAL)
    if q.side and got.factors and len(got.factors) in (2, 3):
        width = got.factors[1]
        sizes = " × ".join(reading.as_read(x) for x in got.factors)
        return width, f"{reading.as_read(width)}, the width of {sizes}"
    if got.factors and math.isnan(got.value):
        raise AnswerError(_several(got))
    return got.value, reading.as_read(got.value)


def check(q: Question, given) -> Feedback:
    """Judge an answer: typed text (or a number) for NUMBER questions, a choice for CHOICE ones.

    Raises AnswerError (one line) when the answer cannot be judged: not a number, empty, too
    long, no choice made. The feedback quotes what was typed and, where it differs, the number
    as read ("`1,333` (read as 1.333)").
    """
    if q.kind == CHOICE:
        if given is None or given == "":
            raise AnswerError("Pick one of the answers first.")
        if given not in q.choices:
            raise AnswerError(f"{typed.quote(given)} is not one of the answers "
                              f"({', '.join(q.choices)}).")
        if given == q.answer:
            return Feedback(True, str(given), f"**Right.** {q.why}")
        return Feedback(False, str(given), f"**Not quite**: you answered {given}. {q.explanation}")
    value, shown = understood(q, given)
    text = given if isinstance(given, str) else shown
    quoted = f"`{text.strip()}`"
    read_as = reading.differs(text, shown)
    correct = abs(value - float(q.answer)) <= q.tolerance + 1e-9 * max(1.0, abs(float(q.answer)))
    if correct:
        note = f"{quoted} was read as {shown}. " if read_as else ""
        return Feedback(True, shown, f"**Right.** {note}{q.why}", text)
    said = quoted + (f" (read as {shown})" if read_as else "")
    return Feedback(False, shown, f"**Not quite**: you answered {said}. {q.explanation}", text)
