"""The server's one training service (cnnviz.live.Trainer) and this session's runs on it."""
from __future__ import annotations

import atexit
import uuid

import streamlit as st

from cnnviz import live

OWNER_KEY = "train_owner"
RUNS_KEY = "train_runs"          # this session's job ids, oldest first
CURRENT_KEY = "train_current"    # the job shown in "Watching it learn"
TRAINED_KEY = "cnnviz_trained_model"   # the run opened in the network explorer (a model_cache.Loaded)
MAX_RUNS = 4                     # runs kept for comparing; older ones are forgotten


@st.cache_resource(show_spinner=False)
def trainer() -> live.Trainer:
    """Started on the first visit to /train: its first worker imports TensorFlow meanwhile."""
    service = live.Trainer()
    atexit.register(service.close)
    return service


def owner() -> str:
    """A random id for this browser session: jobs answer only to the session that started them."""
    return st.session_state.setdefault(OWNER_KEY, uuid.uuid4().hex)


def runs() -> list[int]:
    return st.session_state.setdefault(RUNS_KEY, [])


def current() -> int | None:
    return st.session_state.get(CURRENT_KEY)


def view(job_id: int | None) -> live.Run | None:
    return None if job_id is None else trainer().view(job_id, owner())


def start(settings: live.JobSettings) -> None:
    """Queue a run; raises live.Busy with a line for the visitor when it cannot."""
    job_id = trainer().submit(settings, owner())
    ids = runs()
    ids.append(job_id)
    while len(ids) > MAX_RUNS:
        trainer().forget(ids.pop(0), owner())
    st.session_state[CURRENT_KEY] = job_id


def forget(job_id: int) -> None:
    trainer().forget(job_id, owner())
    ids = runs()
    if job_id in ids:
        ids.remove(job_id)
    if current() == job_id:
        st.session_state[CURRENT_KEY] = ids[-1] if ids else None


def keep_alive() -> list[live.Run]:
    """This session's runs that still exist (looking at them keeps their files)."""
    out = []
    for job_id in list(runs()):
        run = view(job_id)
        if run is None:
            runs().remove(job_id)
        else:
            out.append(run)
    return out
