"""Kernels typed by a person (the kernel editor's cells): read, checked, scaled to sum to 1.
"""
from __future__ import annotations

import numpy as np

from cnnviz import typed


MAX_KERNEL_SIZE = 7          # largest side the editor accepts
MAX_ABS_VALUE = 1e6          # largest |value| a typed kernel cell may hold


def _cell_value(v, r: int, c: int) -> float:
    accepted = (f"Use numbers between −{MAX_ABS_VALUE:,.0f} and {MAX_ABS_VALUE:,.0f}, "
                "like 2, -0.5 or 1/9.")
    return typed.parse_number(v, f"Kernel cell (row {r + 1}, column {c + 1})", accepted, MAX_ABS_VALUE)


def parse_kernel(cells, max_size: int = MAX_KERNEL_SIZE) -> np.ndarray:
    """A grid typed in the kernel editor -> a float64 kh×kw array, or ValueError naming the cell.

    cells: a list of rows (what the kernel grid sends), a NumPy array or a pandas DataFrame. Cells may
    be numbers or text such as "2", "-0.5" or "1/9". Rejected: empty cells, other text, NaN,
    infinity, |value| > 1e6, ragged rows, and grids larger than max_size×max_size.
    """
    if hasattr(cells, "to_numpy") and hasattr(cells, "columns"):   # pandas DataFrame
        rows = cells.to_numpy(dtype=object).tolist()
    elif isinstance(cells, np.ndarray):
        if cells.ndim != 2:
            raise ValueError(f"A kernel is a 2-D grid of numbers, got an array of shape {cells.shape}.")
        rows = cells.tolist()
    else:
        try:
            rows = [list(r) for r in cells]
        except TypeError:
            raise ValueError("A kernel is a grid (a list of rows) of numbers.") from None
    if not rows or not rows[0]:
        raise ValueError("The kernel is empty: it needs at least one row and one column.")
    width = len(rows[0])
    for r, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"Kernel row {r + 1} has {len(row)} cells but row 1 has {width}; "
                             "every row needs the same number of cells.")
    if len(rows) > max_size or width > max_size:
        raise ValueError(f"The kernel is {len(rows)}×{width}; the largest accepted is "
                         f"{max_size}×{max_size}.")
    return np.array([[_cell_value(v, r, c) for c, v in enumerate(row)] for r, row in enumerate(rows)],
                    dtype=np.float64)


def normalise(kernel) -> np.ndarray:
    """Scale the kernel so its values sum to 1 (keeps the image's brightness when blurring).

    Refuses kernels whose sum is (nearly) 0, such as edge detectors: there is nothing to scale.
    """
    k = np.asarray(kernel, dtype=np.float64)
    total = k.sum()
    scale = max(float(np.abs(k).sum()), 1e-300)
    if not np.isfinite(total) or abs(total) <= 1e-9 * scale or abs(total) < 1e-12:
        raise ValueError(f"This kernel's values add up to {total:.3g} (≈ 0, as in edge detectors), "
                         "so it cannot be scaled to sum to 1.")
    return k / total
