"""Followers of one view share its render (cnnviz.ui.follow_render, compat.streamlit_replay): a
second follower's run of the same page and address sends the first one's recording, and shows
exactly what its own run would have shown, works as its own run would afterwards, and runs the
page itself wherever its session would give the page other inputs."""
from __future__ import annotations

import pathlib
import re
import sys
import types

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.compat import streamlit_replay
from cnnviz.ui import follow_render
from cnnviz.ui.kept import Kept

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = "cnnviz/ui/pages/"
FOLLOW = {"follow": "7"}          # a run the class watcher started: it opens the teacher's view v7


@pytest.fixture(autouse=True)
def no_recordings_yet(monkeypatch):
    monkeypatch.setattr(follow_render, "_kept", Kept(follow_render.KEPT_BYTES))


def _open(page: str | None, query: dict[str, str], at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for name in list(at.query_params):
        del at.query_params[name]
    for name, value in query.items():
        at.query_params[name] = value
    if page is None:
        at.run()                   # Home, the default page
    else:
        at.switch_page(PAGES + f"{page}.py").run()
    assert not at.exception, at.exception
    return at


def _shown(at: AppTest) -> list[str]:
    """Every element of the page and sidebar as its proto, a deferred download's id masked (each
    session gets its own)."""
    return [re.sub(r"[0-9a-f]{32}", "ID", str(getattr(e, "proto", e)))
            for part in (at.main, at.sidebar) for e in part]


def _delta(before: dict, what: str) -> int:
    return follow_render.counts()[what] - before[what]


@pytest.mark.parametrize("page, query", [
    (None, {"zoom": "12"}),
    ("convolution", {"stride": "2", "kernel": "box-blur"}),
    ("activations", {}),
    ("pooling", {}),
    ("conv1d", {}),
    ("more_convolutions", {}),
])
def test_a_second_follower_is_sent_the_first_followers_render(page, query):
    before = follow_render.counts()
    first = _open(page, {**query, **FOLLOW})
    second = _open(page, {**query, **FOLLOW})
    assert _delta(before, "recorded") == 1 and _delta(before, "replayed") == 1
    assert _shown(second) == _shown(first)
    assert dict(second.query_params) == dict(first.query_params)
    _open(page, dict(query))                    # a visitor's link: not a follow run, not replayed
    assert _delta(before, "replayed") == 1 and _delta(before, "recorded") == 1


def test_a_follower_whose_session_holds_another_feature_map_runs_the_page_itself(monkeypatch):
    before = follow_render.counts()
    first = _open("activations", FOLLOW)          # the default convolution's feature map
    other = _open("convolution", {"kernel": "box-blur"})       # this student's own feature map...
    other = _open("activations", FOLLOW, at=other)            # ...is what /activations shows them
    assert _delta(before, "replayed") == 0 and _delta(before, "recorded") == 2
    monkeypatch.setattr(follow_render, "_kept", Kept(follow_render.KEPT_BYTES))
    alone = _open("convolution", {"kernel": "box-blur"})
    alone = _open("activations", FOLLOW, at=alone)
    assert _shown(other) == _shown(alone) != _shown(first)


def test_after_a_replay_the_followers_widgets_and_callbacks_work_as_after_its_own_run(monkeypatch):
    query = {"stride": "3", **FOLLOW}
    before = follow_render.counts()
    _open("convolution", query)
    replayed = _open("convolution", query)
    assert _delta(before, "replayed") == 1
    monkeypatch.setattr(follow_render, "_kept", Kept(follow_render.KEPT_BYTES))
    ran = _open("convolution", query)           # the same follow run, with nothing to replay
    assert _delta(before, "replayed") == 1
    for at in (replayed, ran):
        at.slider(key="conv_stride").set_value(2).run()
        at.selectbox(key="conv_kernel_preset").set_value("box blur").run()   # a callback resets the grid
        assert not at.exception, at.exception
    assert _shown(replayed) == _shown(ran)
    assert "box blur" in " ".join(m.value for m in replayed.info)


def test_following_the_same_view_again_starts_the_kernel_grid_afresh():
    at = _open("convolution", FOLLOW)
    first = at.session_state["conv_kernel_ver"]
    at = _open("convolution", FOLLOW, at=at)     # e.g. back to the teacher after editing cells
    assert first == "view7" and at.session_state["conv_kernel_ver"] == "view7+"


# --------------------------------------------------------------------------- the recording itself

MODULE = "cnnviz_replay_test"


def _page():
    import sys

    import streamlit as st

    from cnnviz.compat import streamlit_replay

    test = sys.modules["cnnviz_replay_test"]

    def body():
        test.body(st)

    before = st.session_state.to_dict()
    if test.replay_from is not None and streamlit_replay.replay(test.replay_from):
        test.replayed = True
        return
    test.replayed = False
    test.unchanged = streamlit_replay.same(st.session_state.to_dict(), before)   # where it did not replay
    test.recording = streamlit_replay.record(body, "page", ignore=lambda key: key == "cache",
                                             private=test.private)


def _run(body, *, replay_from=None, private=(), state=None) -> types.SimpleNamespace:
    test = sys.modules[MODULE] = types.SimpleNamespace(body=body, replay_from=replay_from,
                                                       private=private, recording=None)
    try:
        at = AppTest.from_function(_page)
        for key, value in (state or {}).items():
            at.session_state[key] = value
        at.run()
        assert not at.exception, at.exception
        test.at = at
        return test
    finally:
        del sys.modules[MODULE]


def _reads_picture(st):
    picture = st.session_state.get("picture", np.zeros(3))
    st.session_state["cache"] = {"anything": object()}         # a cache: not an input
    st.session_state["total"] = float(picture.sum())
    st.slider("Zoom", 1, 8, key="zoom")
    st.markdown(f"sum **{picture.sum():g}**")


def test_a_recording_is_replayed_only_where_the_page_reads_the_same_state():
    made = _run(_reads_picture, state={"picture": np.ones(3)})
    rec = made.recording
    assert rec is not None and [k for k, *_ in rec.reads] == ["picture"]
    assert [(k, v) for k, _, v in rec.writes] == [("total", 3.0)]
    same = _run(_reads_picture, replay_from=rec, state={"picture": np.ones(3)})
    assert same.replayed and same.at.markdown[0].value == "sum **3**"
    assert same.at.session_state["total"] == 3.0 and same.at.slider(key="zoom").value == 1
    for other in (np.ones(4), np.ones(3, np.float64) * 2, np.ones(3, np.float32)):
        again = _run(_reads_picture, replay_from=rec, state={"picture": other})
        assert not again.replayed and again.recording is not None
    moved = _run(_reads_picture, replay_from=rec, state={"picture": np.ones(3), "zoom": 4})
    assert not moved.replayed and moved.unchanged      # the writes it tried first are undone
    assert moved.at.markdown[0].value == "sum **3**" and moved.at.slider(key="zoom").value == 4


def test_a_key_the_page_removes_is_removed_where_it_was_there_only_here():
    def removes(st):
        from cnnviz.ui import url_state
        url_state.discard("old_message")
        st.write("done")

    rec = _run(removes).recording
    assert rec is not None and rec.writes == [("old_message", False, None)] and rec.reads == []
    there = _run(removes, replay_from=rec, state={"old_message": "stale"})
    assert there.replayed and "old_message" not in there.at.session_state


def test_a_page_that_reads_everything_or_keeps_objects_or_shows_a_secret_is_not_recorded():
    def iterates(st):
        st.write(len(list(st.session_state)))

    def keeps_an_object(st):
        st.session_state["thing"] = object()

    def prints_the_state(st):
        st.caption(str(st.session_state))

    assert _run(prints_the_state).recording is None

    def shows_the_seat(st):
        st.write("seat s3cr3t-seat")

    assert _run(iterates).recording is None
    assert _run(keeps_an_object).recording is None
    assert _run(shows_the_seat, private=("s3cr3t-seat",)).recording is None
    assert _run(shows_the_seat, private=("another",)).recording is not None


def test_same_compares_plain_values_exactly():
    same = streamlit_replay.same
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert same(a, a.copy()) and not same(a, a.astype(np.float64)) and not same(a, a.reshape(3, 2))
    assert same(float("nan"), float("nan")) and same(np.array([np.nan]), np.array([np.nan]))
    assert same({"k": (1, [a])}, {"k": (1, [a.copy()])}) and not same({"k": 1}, {"k": True})
    assert not same([1, 2], (1, 2)) and not same(1, 1.0)
    assert not same({"a": 1, "b": 2}, {"b": 2, "a": 1})       # a page may show them in order
    frozen = np.ones(2)
    frozen.flags.writeable = False
    copied, size = streamlit_replay.plain_copy({"p": frozen})
    assert size > 16 and not copied["p"].flags.writeable and copied["p"] is not frozen

    class Answering(dict):             # like a component's value: every attribute answers
        def __getattr__(self, name):
            return self.get(name)
    assert same(Answering(a=1), {"a": 1}) and same(({}, False), (Answering(), False))
