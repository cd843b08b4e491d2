"""TensorFlow reaches the app only through preload.import_tensorflow(), on every page.

Checked in a fresh process where TensorFlow has never been imported: a watcher placed in front of
Python's importers refuses TensorFlow and Keras and notes whether the request came from inside the
gate. Every page of the navigation is opened with the real app; a page may show nothing of
TensorFlow, or stop at the gate's refusal, never import it before the gate.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

WATCHED_RUN = textwrap.dedent("""
    import json, sys
    from streamlit.testing.v1 import AppTest
    from cnnviz.ui import page_list, preload

    preload.DELAY_SECONDS = 10 ** 6   # the pages, not the preload thread, meet the gate first
    GATE = preload.import_tensorflow.__code__

    seen = []

    class Watch:
        def find_spec(self, name, path=None, target=None):
            if name in ("tensorflow", "keras"):
                frame, inside = sys._getframe(1), False
                while frame is not None and not inside:
                    inside, frame = frame.f_code is GATE, frame.f_back
                seen.append("reached the gate" if inside else "imported outside the gate")
                raise ImportError(f"{name}: refused by the test")

    sys.meta_path.insert(0, Watch())
    outcome = {}
    for page in [page_list.HOME, *page_list.LESSON]:
        at = AppTest.from_file(sys.argv[1], default_timeout=120)
        at.run()
        seen.clear()
        at.switch_page(page.path)
        at.run()
        # a page stopped at the gate shows that as an error; any other error is a failure
        failed = bool(at.exception or at.error)
        outcome[page.url_path] = sorted(set(seen)) or (["an error"] if failed else [])
    outcome["tensorflow imported"] = "tensorflow" in sys.modules or "keras" in sys.modules
    print(json.dumps(outcome))
""")


@pytest.mark.slow   # a fresh Python per page
def test_every_page_imports_tensorflow_only_through_the_gate(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", WATCHED_RUN, str(ROOT / "app.py")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome.pop("tensorflow imported") is False
    outside = {page: seen for page, seen in outcome.items() if seen not in ([], ["reached the gate"])}
    assert not outside, outside
    # the pages that need TensorFlow at once were really opened up to the gate
    assert outcome["network"] == outcome["train"] == ["reached the gate"], outcome
    assert outcome["index"] == outcome["convolution"] == [], outcome


GATEKEPT_RUN = textwrap.dedent("""
    import sys
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_string('''
        import streamlit as st
        from cnnviz.ui import preload
        try:
            import keras
            st.text("no error")
        except ImportError as e:
            st.text(str(e))
    ''', default_timeout=60).run()
    print(at.text[0].value)
    print("keras" in sys.modules, "tensorflow" in sys.modules)
""")


@pytest.mark.slow
def test_a_page_that_imports_keras_before_the_gate_is_told_so():
    done = subprocess.run([sys.executable, "-c", GATEKEPT_RUN], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    message, imported = done.stdout.strip().splitlines()[-2:]
    assert message.startswith("keras was imported by a page before cnnviz.ui.preload."
                              "import_tensorflow()"), message
    assert imported == "False False"


def test_threads_outside_a_script_run_pass_the_gatekeeper():
    from cnnviz.ui import preload  # noqa: F401  (installs the gatekeeper)
    keeper = next(f for f in sys.meta_path if type(f).__name__ == "_Gatekeeper")
    assert keeper.find_spec("keras") is None and keeper.find_spec("tensorflow") is None
