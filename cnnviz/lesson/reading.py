"""Reading a typed answer the way a careful student writes it.

Accepted: 12, 8,010, 8 010, 0.25, 0,25, 1/4, 1 1/3, 6.25%, 0.25^2, 4^-2, (-2), - 2, 28 × 28 × 3
(a product), 20 pixels. What cannot be read is quoted exactly as typed.

A comma between digits is a decimal comma when it cannot be a thousands separator (0,941,
12,5, ,25); where it can (1,333), the question decides: ``decimal_comma`` reads it as 1.333
(questions whose answer is a decimal number), otherwise as 1333.
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

from cnnviz import typed

ACCEPTED = "Type a number, such as 12, 0.25, 1/4 or 1 1/3."
MAX_VALUE = 1e12       # larger answers are refused (no question's answer comes near)
MAX_EXPONENT = 1000


class ReadError(ValueError):
    """What was typed cannot be read as a number; one line for the student."""


@dataclass(frozen=True)
class Reading:
    typed: str                       # exactly as typed
    value: float
    factors: tuple[float, ...] = ()  # "20 × 20", "20 20", "20, 20": the numbers of a size


def as_read(x: float) -> str:
    """A number as the checker read it: 8010 → '8,010', 1/3 → '0.333333', 0.0625 → '0.0625'."""
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:.6g}"


def differs(text: str, shown: str) -> bool:
    """Whether `shown` says something other than what was typed (digit grouping aside)."""
    def bare(s):
        return re.sub(r"[\s,_'’]", "", s.replace("−", "-"))
    return bare(text) != bare(shown)


_UNITS = re.compile(r"\s*(pixels?|px|numbers?|values?|parameters?|params|weights?|steps?|updates?|times)"
                    r"(\s+wide)?\s*$", re.IGNORECASE)
_MIXED = re.compile(r"(?<![\d.,/])(\d+)\s+(\d+)\s*/\s*(\d+)(?![\d.,/])")
_GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:[ _'’]\d{3})+(?![\d,])")
_COMMA = re.compile(r"(?<![\d.,])(\d*)((?:,\d+)+)(\.\d+)?(?![\d.])")
_TOKEN = re.compile(r"\s*(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|[-+×xX*/^%()])")


def _commas(match: re.Match, decimal_comma: bool) -> str:
    whole, groups, fraction = match.group(1), match.group(2)[1:].split(","), match.group(3) or ""
    thousands = (1 <= len(whole) <= 3 and whole[0] != "0" and all(len(g) == 3 for g in groups))
    if thousands and (fraction or len(groups) > 1 or not decimal_comma):
        return whole + "".join(groups) + fraction
    if len(groups) == 1 and not fraction:
        return f"{whole or '0'}.{groups[0]}"
    raise ValueError                                    # 1,2,3 or 1,5.2: no reading


def _normalise(s: str, decimal_comma: bool) -> str:
    s = (s.replace("−", "-").replace("–", "-").replace("\u202f", " ").replace("\u00a0", " ")
         .replace("\u2009", " ").replace("·", "×").replace("⋅", "×").replace("**", "^").strip())
    s = _UNITS.sub("", s) or s
    s = _MIXED.sub(r"(\1+\2/\3)", s)
    s = _GROUPED.sub(lambda m: re.sub(r"[ _'’]", "", m.group(0)), s)
    s = re.sub(r"\s+by\s+", "×", s)
    s = re.sub(r"\s*([-+×xX*/^%()])\s*", r"\1", s)     # "- 2", "20 x 20", "4 ^ -2"
    return _COMMA.sub(lambda m: _commas(m, decimal_comma), s)


class _Parser:
    """sum := term (± term)*; term := unary ((×|/) unary)*; unary := ± unary | power;
    power := atom (^ unary)?; atom := (number | ( sum )) %?"""

    def __init__(self, text: str):
        self.tokens, pos = [], 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                raise ValueError
            self.tokens.append(m.group(1))
            pos = m.end()
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self):
        self.i += 1
        return self.tokens[self.i - 1]

    def whole(self) -> tuple[float, tuple[float, ...]]:
        """The value, and the factors when the text is a plain product (a size: 20 × 20)."""
        if not self.tokens:
            raise ValueError
        value, factors = self.sum()
        if self.peek() is not None:
            raise ValueError
        return value, factors

    def sum(self) -> tuple[float, tuple[float, ...]]:
        value, factors = self.term()
        while self.peek() in ("+", "-"):
            sign = 1 if self.take() == "+" else -1
            value, factors = value + sign * self.term()[0], ()
        return value, factors

    def term(self) -> tuple[float, tuple[float, ...]]:
        value = self.unary()
        factors, plain = [value], True
        while self.peek() in ("×", "x", "X", "*", "/"):
            op = self.take()
            right = self.unary()
            if op == "/":
                if not plain:                           # 1/2/3: which way is meant?
                    raise ValueError
                value, plain = value / right, False
            else:
                value *= right
                factors.append(right)
        return value, tuple(factors) if plain and len(factors) > 1 else ()

    def unary(self) -> float:
        if self.peek() in ("+", "-"):
            return (1 if self.take() == "+" else -1) * self.unary()
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if self.peek() != "^":
            return base
        self.take()
        exponent = self.unary()
        if abs(exponent) > MAX_EXPONENT:
            raise OverflowError
        result = base ** exponent
        if isinstance(result, complex):
            raise ValueError
        return result

    def atom(self) -> float:
        token = self.take() if self.peek() is not None else None
        if token == "(":
            value = self.sum()[0]
            if self.peek() != ")":
                raise ValueError
            self.take()
        elif token is not None and (token[0].isdigit() or token[0] == "."):
            value = float(token)
        else:
            raise ValueError
        if self.peek() == "%":
            self.take()
            value /= 100
        return value


def read(text, decimal_comma: bool = False) -> Reading:
    """What `text` says as a number (or a size); ReadError with one line when it says none."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise ReadError(f"Your answer is empty. {ACCEPTED}")
    if isinstance(text, bool) or not isinstance(text, (str, numbers.Real)):
        raise ReadError(f"Your answer holds {typed.quote(repr(text))}, which is not a number. {ACCEPTED}")
    if not isinstance(text, str):
        return _checked(Reading(as_read(text), float(text)), as_read(text))
    if len(text) > typed.MAX_NUMBER_CHARS:           # before any work on it
        raise ReadError(f"Your answer holds {typed.quote(text)}, too long for a number. {ACCEPTED}")
    shown = typed.quote(text)
    try:
        s = _normalise(text, decimal_comma)
        items = [i for i in re.split(r"\s*,\s+|\s+", s) if i]
        parsed = [_Parser(i).whole() for i in items]
    except ZeroDivisionError:
        raise ReadError(f"Your answer {shown} divides by zero. {ACCEPTED}") from None
    except OverflowError:
        raise ReadError(f"Your answer {shown} is too large. {ACCEPTED}") from None
    except (ValueError, RecursionError):
        raise ReadError(f"Your answer holds {shown}, which is not a number. {ACCEPTED}") from None
    if len(parsed) > 1:                  # "20 20", "20, 20": a size, read as such or refused by the caller
        return _checked(Reading(text, math.nan, tuple(v for v, _ in parsed)), shown)
    value, factors = parsed[0]
    return _checked(Reading(text, value, factors), shown)


def _checked(reading: Reading, shown: str) -> Reading:
    for x in (reading.value, *reading.factors):
        if math.isinf(x):
            raise ReadError(f"Your answer {shown} is infinite. {ACCEPTED}")
        if abs(x) > MAX_VALUE:
            raise ReadError(f"Your answer {shown} is larger than the limit of ±{MAX_VALUE:,.0f}. {ACCEPTED}")
    if math.isnan(reading.value) and not reading.factors:
        raise ReadError(f"Your answer holds {shown}, which is not a number. {ACCEPTED}")
    return reading
