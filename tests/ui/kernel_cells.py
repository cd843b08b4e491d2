"""Typing into the convolution page's kernel grid from AppTest (the browser sends whole rows)."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest


def grid_key(at: AppTest, editor: str = "conv_kernel") -> str:
    return f"{editor}_grid_{at.session_state[f'{editor}_ver']}"


def cells(at: AppTest, editor: str = "conv_kernel") -> list[list[str]]:
    return at.session_state[grid_key(at, editor)]["cells"]


def type_cell(at: AppTest, row: int, col: int, text, editor: str = "conv_kernel") -> None:
    """Change one cell (0-based) as the browser would: send the whole grid, then rerun."""
    rows = [list(r) for r in cells(at, editor)]
    rows[row][col] = text
    send_grid(at, rows, editor)


def send_grid(at: AppTest, rows, editor: str = "conv_kernel") -> None:
    """Send any value as the grid (a hostile client may send anything), then rerun."""
    at.session_state[grid_key(at, editor)] = {"cells": rows}
    at.run()
