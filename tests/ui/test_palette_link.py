"""The map palette is an app-wide setting kept in the link (?palette=colour-blind), like ?present=1."""
from __future__ import annotations

import pathlib

from streamlit.testing.v1 import AppTest

from cnnviz.ui import palette

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _open(query: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    at.switch_page("cnnviz/ui/pages/convolution.py").run()
    assert not at.exception
    return at


def test_a_link_chooses_the_palette_and_keeps_it():
    at = _open({"palette": "colour-blind"})
    assert at.session_state[palette.KEY] == "colour-blind"
    assert dict(at.query_params).get("palette") == "colour-blind"
    assert any("orange > 0 > blue" in m.value for m in at.markdown)      # the captions follow


def test_the_default_palette_stays_out_of_the_link_and_a_bad_one_is_said():
    at = _open({})
    assert at.session_state[palette.KEY] == "standard" and "palette" not in dict(at.query_params)
    assert any("red > 0 > blue" in m.value for m in at.markdown)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["palette"] = "rainbow"
    at.run()                                   # Home says what in the link could not be used
    assert not at.exception and at.session_state[palette.KEY] == "standard"
    assert any("palette" in w.value and "rainbow" in w.value for w in at.warning), [w.value for w in at.warning]
