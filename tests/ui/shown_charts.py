"""The Plotly charts a page sends to the browser, read back from AppTest as numbers."""
from __future__ import annotations

import base64
import json

import numpy as np
from streamlit.testing.v1 import AppTest


def _decoded(value):
    """Plotly writes NumPy arrays as {"dtype", "bdata", "shape"}; lists and scalars stay as they are."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return value


def chart_traces(at: AppTest, key: str) -> list[dict]:
    """The traces of the chart whose widget key is `key`, with every array decoded."""
    found = [c for c in at.get("plotly_chart") if key in c.proto.id]
    assert len(found) == 1, f"{len(found)} charts with key {key!r}"
    return [{k: _decoded(v) for k, v in trace.items()} for trace in json.loads(found[0].proto.spec)["data"]]
