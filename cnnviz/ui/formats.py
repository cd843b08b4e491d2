"""How numbers are written on screen: the one place for number formats (no Streamlit, no Plotly)."""
from __future__ import annotations


def cell(v: float) -> str:
    """A number short enough for a grid cell: 0, 123, 12.3, 1.23, -0.05."""
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def value(v: float) -> str:
    """A number in a sentence or a table: up to 4 decimals, trailing zeros dropped (0.25, 3, -1.1234);
    4 significant digits from 100,000 on (1.235e+05)."""
    return f"{v:.4f}".rstrip("0").rstrip(".") if abs(v) < 1e5 else f"{v:.4g}"


def percent(p: float) -> str:
    """A probability as a percentage with one decimal: 0.9731 -> '97.3%'."""
    return f"{100 * p:.1f}%"
