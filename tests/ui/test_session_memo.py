"""session_memo.remembered: a step's result is computed once for the sessions of a process that
show the same source object with the same parameters (a class following its teacher), kept
read-only, and never handed to a session whose source is another object."""
from __future__ import annotations

import sys
import types

import numpy as np
from streamlit.testing.v1 import AppTest

COUNTER = "cnnviz_memo_test_counter"


def page():
    import sys

    import numpy as np
    import streamlit as st

    from cnnviz.ui import session_memo

    shared = sys.modules["cnnviz_memo_test_counter"]
    source = shared.sources[st.session_state.get("which", 0)]

    def compute():
        shared.calls += 1
        return source * 2, "text"
    doubled, _ = session_memo.remembered("memo_test", "doubled", source, (2,), compute)
    st.write(f"id {id(doubled)} writeable {doubled.flags.writeable} sum {float(np.sum(doubled))}")


def run(which: int = 0) -> str:
    at = AppTest.from_function(page)
    at.session_state["which"] = which
    at.run()
    assert not at.exception, at.exception
    return at.markdown[0].value


def test_sessions_with_the_same_source_share_one_read_only_result():
    a = np.ones((4, 4), np.float32)
    twin = a.copy()                           # equal pixels, another object (another visitor's upload)
    sys.modules[COUNTER] = types.SimpleNamespace(calls=0, sources=[a, twin])
    try:
        first, second = run(0), run(0)
        assert first == second and "writeable False" in first and "sum 32.0" in first
        assert sys.modules[COUNTER].calls == 1
        other = run(1)
        assert sys.modules[COUNTER].calls == 2 and other.split()[1] != first.split()[1]
    finally:
        del sys.modules[COUNTER]
