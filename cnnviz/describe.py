"""Text alternatives for the pictures, made from their numbers (no TensorFlow, no Streamlit).

Each function turns the array a picture is drawn from into one or two sentences a screen reader
can say: what it is, its size and range, where it is strongest and what stands out. Rows and
columns are counted from 0, as the pages' sliders and tables count them.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_VERTICAL = ("upper", "middle", "lower")
_HORIZONTAL = ("left", "centre", "right")


def number(x: float) -> str:
    """A value short enough to be read aloud: 3 significant digits, no '-0'."""
    x = float(x)
    if not np.isfinite(x):
        return "not a number" if np.isnan(x) else ("infinity" if x > 0 else "minus infinity")
    text = f"{x:.3g}"
    if "e" in text:
        text = f"{x:.2e}"
    return "0" if text in ("-0", "0") else text


def percent(share: float) -> str:
    """A share in [0, 1] as a whole percent, '< 1 %' rather than a misleading 0 % for tiny shares."""
    p = 100.0 * float(share)
    if 0 < p < 0.5:
        return "< 1 %"
    if 99.5 <= p < 100:
        return "> 99 %"
    return f"{p:.0f} %"


def size(shape: Sequence[int]) -> str:
    return " × ".join(str(int(s)) for s in shape)


REGION_SIDE = 96   # a larger map's region is judged on its k x k block maxima (a 3 x 3 answer)


def _finite(values) -> np.ndarray:
    """The values as numbers with NaN and infinities as 0; no copy when there is nothing to fix
    (a large upload is described on every rerun)."""
    a = np.asarray(values)
    if a.dtype.kind not in "fiu":
        a = a.astype(np.float64)
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        a = np.where(np.isfinite(a), a, 0)
    return a


def _block_max(a: np.ndarray) -> np.ndarray:
    """|a| as the maxima of k x k blocks, so that neither side exceeds REGION_SIDE blocks."""
    k = -(-max(a.shape) // REGION_SIDE)
    if k <= 1:
        return np.abs(a)
    h, w = a.shape
    a = np.abs(np.pad(a, ((0, -h % k), (0, -w % k))))
    # rows first, then columns: each max runs along contiguous memory (one 4-D max is 7x slower)
    a = a.reshape(a.shape[0] // k, k, a.shape[1]).max(axis=1)
    return a.reshape(a.shape[0], a.shape[1] // k, k).max(axis=2)


def strongest(values) -> tuple[int, int]:
    """(row, column) of the largest value of a 2-D map (the first one on a tie, reading order)."""
    a = _finite(values)
    r, c = np.unravel_index(int(np.argmax(a)), a.shape)
    return int(r), int(c)


def region(values) -> str:
    """Where the strongest part of a 2-D map lies, in words: 'upper left' … 'centre' … 'lower right'.

    The centre of mass of the largest tenth of |values| (at least one cell), on a 3 × 3 division.
    """
    a = _block_max(_finite(values)).astype(np.float64)
    h, w = a.shape
    if not a.any():
        return "nowhere (all zero)"
    flat = a.ravel()
    k = max(1, flat.size // 10)
    top = np.argpartition(flat, -k)[-k:]
    weights = flat[top]
    rows, cols = np.unravel_index(top, a.shape)
    r = float(np.average(rows, weights=weights)) if weights.sum() > 0 else float(rows.mean())
    c = float(np.average(cols, weights=weights)) if weights.sum() > 0 else float(cols.mean())
    v = _VERTICAL[min(2, int(3 * (r + 0.5) / h))]
    hz = _HORIZONTAL[min(2, int(3 * (c + 0.5) / w))]
    if v == "middle" and hz == "centre":
        return "centre"
    if v == "middle":
        return f"middle {hz}"
    return f"{v} {hz}"


def feature_map(values, what: str) -> str:
    """'Feature map …, 26 × 26, values 0 to 2.1, strongest at row 12, column 8; 70 % are 0.'"""
    a = _finite(values)
    if a.ndim != 2:
        raise ValueError(f"a map has 2 dimensions, not {a.ndim}")
    if a.size == 0:
        return f"{what}, empty."
    r, c = strongest(a)
    text = (f"{what}, {size(a.shape)}, values {number(a.min())} to {number(a.max())}, "
            f"strongest at row {r}, column {c}")
    if a.min() == a.max():
        return f"{what}, {size(a.shape)}, every value {number(a.min())}."
    zeros = np.count_nonzero(a == 0) / a.size
    if zeros > 0:
        text += f"; {percent(zeros)} are 0"
    return text + "."


def picture(pixels, what: str, shape: Sequence[int] | None = None) -> str:
    """An input picture: 2-D grey or H × W × C; its brightest part and how much of it is dark.
    `shape`: the size to name when `pixels` is a smaller copy of the picture (a thumbnail)."""
    a = _finite(pixels)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 3:
        grey = sum(a[..., c].astype(np.float32) for c in range(a.shape[2])) / a.shape[2]
        kind = f"colour picture, {size((shape or a.shape)[:2])} pixels with {a.shape[2]} channels"
    elif a.ndim == 2:
        grey = a
        kind = f"grey picture, {size((shape or a.shape)[:2])} pixels"
    else:
        raise ValueError(f"a picture has 2 or 3 dimensions, not {a.ndim}")
    lo, hi = float(grey.min()), float(grey.max())
    planes = [a[..., c] for c in range(a.shape[2])] if a.ndim == 3 else [a]   # per plane: 5x faster
    low, high = min(p.min() for p in planes), max(p.max() for p in planes)
    text = f"{what}: {kind}, values {number(low)} to {number(high)}"
    if hi > lo:
        dark = np.count_nonzero(grey <= lo + 0.1 * (hi - lo)) / grey.size
        text += f"; the bright part lies in the {region(grey - lo)}; {percent(dark)} is dark"
    return text + "."


def heat_map(values, what: str) -> str:
    """An attribution map: where the strongest evidence lies, and on which side it falls."""
    a = _finite(values)
    if a.ndim == 3:
        a = np.abs(a).sum(axis=2)
    if not np.abs(a).any():
        return f"{what}: {size(a.shape)}, every value 0 (nothing stands out)."
    text = f"{what}, {size(a.shape)}: the strongest pixels lie in the {region(a)}"
    pos, neg = float(np.maximum(a, 0).sum()), float(-np.minimum(a, 0).sum())
    if neg > 0 and pos > 0:
        text += f"; {percent(pos / (pos + neg))} of the weight speaks for the class, the rest against"
    r, c = np.unravel_index(int(np.argmax(np.abs(a))), a.shape)
    return text + f"; the largest at row {int(r)}, column {int(c)} ({number(a[r, c])})."


def kernel(values, what: str = "Kernel") -> str:
    """A small grid read row by row: 'Kernel sharpen, 3 × 3: row 0: 0, -1, 0; row 1: …'."""
    a = _finite(values)
    if a.ndim != 2:
        raise ValueError(f"a kernel has 2 dimensions, not {a.ndim}")
    rows = "; ".join(f"row {i}: " + ", ".join(number(v) for v in row) for i, row in enumerate(a))
    return f"{what}, {size(a.shape)}: {rows}."


def stack(maps, what: str, item: str = "map") -> str:
    """Many maps of one shape (H × W × N): how many, the range, and which stands out most."""
    a = _finite(maps)
    if a.ndim != 3:
        raise ValueError(f"a stack of maps has 3 dimensions, not {a.ndim}")
    n = a.shape[2]
    energy = np.abs(a).reshape(-1, n).mean(axis=0)
    best = int(np.argmax(energy))
    text = (f"{what}: {n} {item}s of {size(a.shape[:2])}, values {number(a.min())} to {number(a.max())}; "
            f"the strongest is {item} {best}")
    quiet = int(np.sum(~np.abs(a).reshape(-1, n).any(axis=0)))
    if quiet:
        text += f"; {quiet} of {n} are all 0"
    return text + "."


def prediction(probabilities, class_names: Sequence[str]) -> str:
    """'Prediction: 3 with 97 %; next 8 with 2 %.'"""
    p = _finite(probabilities).ravel()
    if p.size != len(class_names) or p.size == 0:
        raise ValueError(f"{p.size} probabilities for {len(class_names)} classes")
    order = np.argsort(-p, kind="stable")
    text = f"Prediction: {class_names[order[0]]} with {percent(p[order[0]])}"
    if p.size > 1:
        text += f"; next {class_names[order[1]]} with {percent(p[order[1]])}"
    return text + "."


def bars(values, labels: Sequence[str] | None, what: str) -> str:
    """A bar chart: the largest and the smallest bars with their values."""
    v = _finite(values).ravel()
    if v.size == 0:
        return f"{what}: no values."
    names = list(labels) if labels is not None and len(labels) == v.size else [str(i) for i in range(v.size)]
    order = np.argsort(-v, kind="stable")
    top = ", ".join(f"{names[i]} ({number(v[i])})" for i in order[:3])
    text = f"{what}: {v.size} bars from {number(v.min())} to {number(v.max())}; largest: {top}"
    if v.size > 3:
        text += f"; smallest: {names[order[-1]]} ({number(v[order[-1]])})"
    return text + "."


def curve(values, what: str, steps=None, unit: str = "step") -> str:
    """A line over steps (or layers, `unit`): where it starts and ends, its lowest and highest points."""
    v = np.asarray(values, dtype=np.float64).ravel()
    x = np.arange(v.size) if steps is None else np.asarray(steps).ravel()
    ok = np.isfinite(v)
    if not ok.any():
        return f"{what}: no values yet."
    v, x = v[ok], x[ok]
    lo, hi = int(np.argmin(v)), int(np.argmax(v))
    return (f"{what}: {v.size} points from {unit} {number(x[0])} to {number(x[-1])}, "
            f"starting at {number(v[0])} and ending at {number(v[-1])}; lowest {number(v[lo])} "
            f"at {unit} {number(x[lo])}, highest {number(v[hi])} at {unit} {number(x[hi])}.")


def confusion(matrix, class_names: Sequence[str]) -> str:
    """How many are right, and the most frequent mistake (rows: true class, columns: predicted)."""
    m = np.asarray(matrix, dtype=np.int64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(class_names):
        raise ValueError(f"a confusion matrix of {len(class_names)} classes is square, not {m.shape}")
    total, right = int(m.sum()), int(np.trace(m))
    text = (f"Confusion matrix of {len(class_names)} classes (rows: true class, columns: predicted): "
            f"{right:,} of {total:,} right ({percent(right / total) if total else '0 %'})")
    wrong = m - np.diag(np.diag(m))
    if wrong.any():
        r, c = np.unravel_index(int(np.argmax(wrong)), wrong.shape)
        text += (f"; the most frequent mistake: {class_names[r]} taken for {class_names[c]} "
                 f"({int(wrong[r, c]):,} times)")
    return text + "."


def window(values, top: int, left: int, what: str) -> str:
    """A window on a larger map (a pooling or convolution window): where it is and what it holds."""
    a = _finite(values)
    r, c = strongest(a)
    return (f"{what}: the {size(a.shape)} window at row {top}, column {left}, values {number(a.min())} "
            f"to {number(a.max())}, the largest at row {top + r}, column {left + c}.")


def gallery(labels, predictions, confidences, class_names: Sequence[str], what: str = "Test images") -> str:
    """Tiles of test pictures with the network's answers: how many are right, then each tile."""
    labels, predictions = np.asarray(labels).ravel(), np.asarray(predictions).ravel()
    right = int(np.sum(labels == predictions))
    tiles = "; ".join(
        f"{i + 1}: a {class_names[t]}, answered {'right' if t == p else class_names[p]} ({percent(c)})"
        for i, (t, p, c) in enumerate(zip(labels, predictions, np.asarray(confidences).ravel())))
    return f"{what}: {labels.size} pictures, {right} answered right. {tiles}."
