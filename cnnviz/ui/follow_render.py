"""The students who follow one teacher's view share one render of its page, per process.

When the teacher changes the view, the class watcher (class_follow.py) starts a run of every
follower, one at a time: 30 runs of the same page with the same address, each ~25 ms of
Streamlit building and sending the same elements on one core, so the last student saw the change
after about a second. Now the first follower's run of a replayable page (page_list's
`replayable`: its render depends only on its address and the session state it reads) records
it (compat.streamlit_replay), and each further follower's run of the same page, address and
layout sends that recording, if the page would read the same session state and its widgets hold
the same values there; otherwise it runs the page (and its recording is kept too, for students
like it: up to KEPT_PER_VIEW a view). Only follow runs share, and only within a
process (a recording holds this process's objects); a recording is kept KEEP_FOR seconds.
"""
from __future__ import annotations

import threading
import time

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cnnviz.compat import streamlit_replay
from cnnviz.ui import page_list, session_memo
from cnnviz.ui.kept import Kept

KEEP_FOR = 60.0            # s a recording is used: a change's followers all run within seconds
KEPT_BYTES = 32 * 2**20    # of recordings in a process
KEPT_PER_VIEW = 3          # recordings of one page and address: students whose pages differ
MEMBERSHIP = ("room", "seat", "key")    # each follower's own part of its address
_kept = Kept(KEPT_BYTES)
_counts = {"recorded": 0, "replayed": 0, "ran": 0}
_counts_lock = threading.Lock()


def _replayable(url_path: str) -> bool:
    page = page_list.page_at(url_path)
    return page is not None and page.replayable


def _key(url_path: str) -> tuple:
    """The page, its address without the member's own part, and where its elements begin."""
    query = st.query_params
    address = tuple(sorted((k, tuple(query.get_all(k))) for k in query if k not in MEMBERSHIP))
    cursors = tuple(sorted((root, c.index) for root, c in get_script_run_ctx().cursors.items()))
    return url_path, address, cursors


def run_page(page, follow_run: bool) -> None:
    """page.run() (the page st.navigation picked), or, in a follow run, the recording of another
    follower's run of the same view where it shows this session what its own run would."""
    if not follow_run or not _replayable(page.url_path) or get_script_run_ctx() is None:
        page.run()
        return
    key = _key(page.url_path)
    now = time.monotonic()
    kept = [(made, r) for made, r in _kept.get(key, ()) if now - made < KEEP_FOR]
    if any(streamlit_replay.replay(recording) for _, recording in kept):
        _count("replayed")
        return
    private = tuple(v for k in MEMBERSHIP[1:] for v in st.query_params.get_all(k))
    recording = streamlit_replay.record(page.run, streamlit_replay.page_hash(page),
                                        ignore=session_memo.is_scope, private=private)
    if recording is None:
        _count("ran")
        return
    _count("recorded")
    kept = [(now, recording), *kept[:KEPT_PER_VIEW - 1]]     # newest first
    _kept.put(key, kept, sum(r.size for _, r in kept))


def _count(what: str) -> None:
    with _counts_lock:
        _counts[what] += 1


def counts() -> dict[str, int]:
    """Follow runs of replayable pages in this process: recorded, replayed, ran (not replayable)."""
    with _counts_lock:
        return dict(_counts)
