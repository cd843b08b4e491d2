"""Files to take away for slides and notebooks: pictures as PNG, numbers as CSV and .npy.

The builders are plain functions (bytes out, testable without Streamlit); download() puts one
behind a button and builds it only when the button is clicked.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import streamlit as st

from cnnviz.ui import figures

PNG, CSV, ZIP = "image/png", "text/csv", "application/zip"


def file_stem(*parts: str) -> str:
    """'cnnviz-sobel-x-on-handwritten-3': safe in every file system."""
    text = "-".join(p for p in parts if p)
    return ("cnnviz-" + re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-"))[:80]


def png(img) -> bytes:
    """A PIL image as PNG."""
    return figures.to_png(img, level=6)


def map_png(values: np.ndarray, cmap: str = "diverging", size: int = 512, lo=None, hi=None) -> bytes:
    """A 2-D map coloured as on screen (blue < 0 < red, or viridis), enlarged crisply."""
    return png(figures.picture_image(np.asarray(values, np.float32), size, cmap, lo, hi))


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def grid_csv(values: np.ndarray) -> str:
    """A 2-D array as CSV rows, full float precision (a kernel, a feature map)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[None, :]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([[repr(float(x)) for x in row] for row in v])
    return out.getvalue()


def columns_csv(columns: Mapping[str, Sequence]) -> str:
    """Named columns of equal length as CSV with a header (curves: x, f(x), f'(x), ...)."""
    names = list(columns)
    lengths = {len(columns[n]) for n in names}
    if len(lengths) != 1:
        raise ValueError(f"columns have different lengths: {sorted(lengths)}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in zip(*(columns[n] for n in names)):
        writer.writerow([x if isinstance(x, str) else repr(float(x)) for x in row])
    return out.getvalue()


def feature_maps_zip(maps: np.ndarray, stem: str, cmap: str, scale: str = "layer", size: int = 256) -> bytes:
    """A layer's H x W x C maps: one PNG per channel (coloured as on screen) and all values as .npy."""
    m = np.asarray(maps, dtype=np.float32)
    if m.ndim == 2:
        m = m[..., None]
    lo, hi = figures.value_range(m, cmap)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{stem}.npy", npy(m))
        for c in range(m.shape[-1]):
            if scale == "map":
                lo, hi = figures.value_range(m[..., c], cmap)
            z.writestr(f"{stem}-channel-{c:03d}.png", map_png(m[..., c], cmap, size, lo, hi))
        z.writestr("README.txt",
                   f"{stem}.npy holds all maps as float32, shape {' x '.join(map(str, m.shape))} "
                   f"(height x width x channels). The PNGs show one channel each with the colours "
                   f"of the app ({'{} < 0 < {}'.format(*figures.sign_colours()) if cmap == 'diverging' else 'dark = low, yellow = high'}; "
                   f"{'one scale for the layer' if scale == 'layer' else 'each map on its own scale'}).\n")
    return buf.getvalue()


def download(label: str, build: Callable[[], bytes | str], file_name: str, mime: str, key: str) -> None:
    """A download button whose file is built only when it is clicked (no rerun either)."""
    st.download_button(label, build, file_name=file_name, mime=mime, key=key, on_click="ignore",
                       icon=":material/download:")
