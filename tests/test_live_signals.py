"""A training worker ended by a signal: the message says what is known, nothing more."""
from __future__ import annotations

import os
import signal

import pytest

from cnnviz import live
from test_live import settings, trainer_with, wait


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_worker_killed_by_a_signal_is_named_not_guessed_as_memory(data_dir, sig):
    with trainer_with(max_steps=5000) as t:   # the default 3,000 MB: a tiny job uses far less
        job = t.submit(settings(data_dir, epochs=5), "me")
        wait(t, job, until=lambda r: r.step >= 2)
        with t._lock:
            pid = next(w.process.pid for w in t._workers if w.job is not None)
        os.kill(pid, sig)
        run = wait(t, job)
    assert run.state == "failed" and "\n" not in run.message
    assert sig.name in run.message
    assert "out of memory" not in run.message
    if sig == signal.SIGKILL:
        assert "the memory limit is not the likely cause" in run.message


def test_sigkill_near_the_memory_limit_says_memory_is_the_likely_cause():
    text = live.ended_message(-signal.SIGKILL, peak_rss_mb=2900, max_memory_mb=3000)
    assert "SIGKILL" in text and "most likely it ran out of memory" in text
    assert "2,900 MB of the 3,000 MB" in text


@pytest.mark.parametrize("code, words", [
    (-signal.SIGSEGV, "ended by the signal SIGSEGV."),
    (3, "stopped unexpectedly (exit code 3)"),
    (-200, "the signal 200"),
])
def test_other_endings_say_the_signal_or_the_exit_code(code, words):
    text = live.ended_message(code, peak_rss_mb=2900, max_memory_mb=3000)
    assert words in text and "memory" not in text
