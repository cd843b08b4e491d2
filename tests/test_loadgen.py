"""The protocol-level load generator against a real `streamlit run app.py` (no mocks).

It must be faithful enough that a widget change reruns the page with the new value: the
convolution page's output size follows the stride, /network's "Next layer" steps a layer.
"""
from __future__ import annotations

import re
import sys

import pytest

from conftest import ROOT, run_async

sys.path.insert(0, str(ROOT / "benchmarks"))
import loadgen  # noqa: E402

SIZE = re.compile(r"Input (\d+) × (\d+) → kernel (\d+) × (\d+) → output \**(\d+) × (\d+)")
LAYER = re.compile(r"^(\d+) · (\S+)")


def _output_size(s: loadgen.StreamlitSession) -> tuple[int, ...]:
    m = SIZE.search(s.text())
    assert m, "the convolution page shows no 'Input … → output …' line:\n" + s.text()[:2000]
    return tuple(int(g) for g in m.groups())


def _layer(s: loadgen.StreamlitSession) -> int:
    heads = [int(m.group(1)) for line in s.text().splitlines() if (m := LAYER.match(line))]
    assert heads, "/network shows no '<index> · <layer>' heading"
    return heads[-1]


def _ok(r: loadgen.RunResult) -> None:
    assert r.ok, f"{r.page} {r.action}: status {r.status}, errors {r.errors}, exceptions {r.exceptions}"


def test_refuses_other_hosts():
    with pytest.raises(ValueError):
        loadgen.StreamlitSession("http://example.com:8501")


def test_widget_changes_rerun_the_page_with_the_new_values(app_url):
    async def scenario():
        s = loadgen.StreamlitSession(app_url, run_timeout=90)
        try:
            _ok(await s.open("/convolution"))
            assert s.page == "/convolution" and {"", "network", "pooling"} <= set(s.pages)
            stride = s.find("conv_stride")
            assert stride is not None and stride.id.startswith("$$ID-") and stride.id.endswith("-conv_stride")
            before = _output_size(s)
            _ok(await s.set(stride, [2.0]))
            after = _output_size(s)
            assert after[:4] == before[:4] and after[4] < before[4] and after[5] < before[5], (before, after)
            assert s.states[stride.id] == [2.0]

            # a page change keeps only the sidebar's widget states, as the browser does
            _ok(await s.goto("pooling"))
            assert s.page == "/pooling" and s.find("conv_stride") is None
            size = s.find("pool_size")
            assert size is not None
            text0 = s.text()
            _ok(await s.set(size, [3.0]))
            assert s.text() != text0

            _ok(await s.goto("network"))
            nxt = s.find("net_next")
            assert nxt is not None and nxt.fragment_id, "Next layer lives in a fragment"
            first = _layer(s)
            r = await s.click(nxt)
            _ok(r)
            assert r.fragment and r.status == "fragment_ok"
            assert _layer(s) == first + 1
            _ok(await s.click(s.find("net_next")))
            assert _layer(s) == first + 2
        finally:
            await s.close()

    run_async(scenario())


def test_two_sessions_act_for_a_few_seconds_without_errors(app_url):
    rep = run_async(loadgen.run_crowd(app_url, 2, 8, think=(0.4, 0.8), ramp=0.5, seed=3,
                                        start_pages=["convolution", "network"], run_timeout=90))
    assert not rep.errors(), rep.errors()
    assert {r.session for r in rep.results} == {0, 1}
    done = rep.finished()
    assert len(done) >= 6, f"only {len(done)} reruns"
    assert all(r.status in ("ok", "fragment_ok") for r in rep.results)
    assert any(r.action.startswith(("goto", "click", "slider", "selectbox", "radio", "number_input",
                                    "checkbox", "button_group")) for r in rep.results)
    assert rep.media_fetched > 0 and rep.media_errors == 0


@pytest.mark.browser   # starts its own streamlit server
def test_a_crowd_opening_a_fresh_server_at_once_gets_no_errors():
    """A class opening a shared link together on a server that has just started: the pages that
    import TensorFlow race the background preload (once: pandas half-imported; then TensorFlow
    registering its ops twice)."""
    from conftest import server_output, start_streamlit

    proc, url = start_streamlit(ROOT / "app.py")
    try:
        rep = run_async(loadgen.run_crowd(
            url, 12, 12, think=(1.0, 2.0), ramp=0.0, seed=5, run_timeout=120,
            start_pages=["activations", "network", "activations", "network", "convolution", ""]))
        assert not rep.errors(), rep.errors()
        assert "Traceback" not in server_output(proc)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.browser   # starts its own streamlit server
def test_follows_a_fragment_that_asks_to_be_rerun(tmp_path):
    """st.fragment(run_every=...) makes the browser rerun that fragment alone; the generator does
    the same, so a watching visitor costs the server what a real one does."""
    from conftest import start_streamlit

    script = tmp_path / "ticking.py"
    script.write_text(
        "import streamlit as st\n"
        "st.session_state.setdefault('full', 0)\n"
        "st.session_state.full += 1\n"
        "st.markdown(f\"full runs: {st.session_state.full}\")\n"
        "@st.fragment(run_every=0.5)\n"
        "def tick():\n"
        "    st.session_state['ticks'] = st.session_state.get('ticks', 0) + 1\n"
        "    st.markdown(f\"ticks: {st.session_state['ticks']}\")\n"
        "    if st.session_state['ticks'] == 3:\n"
        "        st.rerun()\n"
        "tick()\n")
    proc, url = start_streamlit(script, tmp_path)

    async def scenario():
        s = loadgen.StreamlitSession(url, run_timeout=30)
        try:
            _ok(await s.open("/"))
            (fragment, every), = s.auto_reruns.items()
            assert every == 0.5 and fragment
            r = await s.rerun_fragment(fragment)
            assert r.ok and r.status == "fragment_ok" and r.fragment
            assert "ticks: 2" in s.text() and "full runs: 1" in s.text()   # the page kept, the fragment redrawn
            r = await s.rerun_fragment(fragment)                            # its st.rerun(): the whole page
            assert r.ok and r.status == "ok" and "full runs: 2" in s.text() and "ticks: 4" in s.text()
            assert len(s.auto_reruns) == 1   # the full run registered the fragment again
        finally:
            await s.close()

    try:
        run_async(scenario())
    finally:
        proc.terminate()
        proc.wait(10)
