"""Numbers people type (kernel cells, signal values): parsed with short, helpful messages.

Messages repeat at most a few dozen characters of what was typed, and long input is refused
before any parsing, so a pasted novel costs nothing.
"""
from __future__ import annotations

import math
import numbers

QUOTE_CHARS = 24          # how much of a bad input a message repeats
MAX_NUMBER_CHARS = 40     # longer than any number a person means to type


def quote(text: str) -> str:
    """repr() of short text; "'aaaa…' (20,000 characters)" for long text."""
    text = str(text)
    if len(text) <= QUOTE_CHARS:
        return repr(text)
    return f"'{text[:QUOTE_CHARS]}…' ({len(text):,} characters)"


def parse_number(value, where: str, accepted: str, max_abs: float) -> float:
    """One typed value ("2", "-0.5", "1/9", "−3" or a number) -> float, or ValueError.

    where: what the message calls the place ("Kernel cell (row 1, column 2)").
    accepted: a sentence saying what is accepted, appended to every message.
    """
    if value is None:
        raise ValueError(f"{where} is empty. {accepted}")
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise ValueError(f"{where} holds {value!r}, not a number. {accepted}")
    if isinstance(value, numbers.Real) and not isinstance(value, str):
        x = float(value)
        shown = f"{int(x):,}" if x.is_integer() and abs(x) < 1e15 else f"{x:,g}"
    elif isinstance(value, str):
        s = value.strip().replace("−", "-")
        if not s:
            raise ValueError(f"{where} is empty. {accepted}")
        if len(s) > MAX_NUMBER_CHARS:
            raise ValueError(f"{where} holds {quote(s)}, too long for a number. {accepted}")
        x, shown = _from_text(s, where, accepted), s
    else:
        raise ValueError(f"{where} holds {quote(repr(value))}, which is not a number. {accepted}")
    if math.isnan(x):
        raise ValueError(f"{where} is empty or not a number (NaN). {accepted}")
    if math.isinf(x):
        raise ValueError(f"{where} is infinite. {accepted}")
    if abs(x) > max_abs:
        limit = f"{max_abs:,.0f}" if float(max_abs).is_integer() else f"{max_abs:,g}"
        raise ValueError(f"{where} holds {shown}, larger than the limit of ±{limit}. {accepted}")
    return x


def _from_text(s: str, where: str, accepted: str) -> float:
    if s.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise ValueError(f"{where} holds {quote(s)}. {accepted}")
    try:
        if s.count("/") == 1:
            num, den = (float(p) for p in s.split("/"))
            if den == 0:
                raise ZeroDivisionError
            return num / den
        return float(s)
    except ZeroDivisionError:
        raise ValueError(f"{where} divides by zero ({quote(s)}). {accepted}") from None
    except ValueError:
        raise ValueError(f"{where} holds {quote(s)}, which is not a number. {accepted}") from None
