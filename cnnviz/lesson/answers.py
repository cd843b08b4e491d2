"""Judging a student's answer: typed text for number questions, a choice for the others."""
from __future__ import annotations

import re
from dataclasses import dataclass

from cnnviz import typed
from cnnviz.lesson.question_types import CHOICE, Question, fmt

MAX_ANSWER = 1e12            # larger typed answers are refused (no question's answer comes near)
ACCEPTED = "Type a number, such as 12, 0.25 or 1/4."


class AnswerError(ValueError):
    """A typed answer that is not a usable number (or no choice made); one line for the student."""


@dataclass(frozen=True)
class Feedback:
    correct: bool
    given: str          # the answer as understood
    message: str        # Markdown: why (right) or the method (wrong)


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
        shown = fmt(value) if abs(value) < 1e15 else f"{value:g}"
        correct = abs(value - float(q.answer)) <= q.tolerance + 1e-9 * max(1.0, abs(float(q.answer)))
    if correct:
        return Feedback(True, shown, f"**Right.** {q.why}")
    return Feedback(False, shown, f"**Not quite**: you answered {shown}. {q.explanation}")
