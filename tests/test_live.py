"""cnnviz.live: real worker processes training real Keras models on MNIST."""
from __future__ import annotations

import contextlib
import os
import signal
import time

import keras
import numpy as np
import pytest

from cnnviz import architectures, data, layer_specs, live, live_worker, model_cards

pytestmark = pytest.mark.slow

TINY = tuple(layer_specs.to_dict(s) for s in architectures.PRESETS["tiny"])


def settings(data_dir, **kw) -> live.JobSettings:
    return live.JobSettings("mnist", kw.pop("layers", TINY), data=str(data_dir), **kw)


def wait(trainer, job_id, owner="me", until=lambda run: not run.active, timeout=180.0) -> live.Run:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        run = trainer.view(job_id, owner)
        assert run is not None, "the job vanished"
        if until(run):
            return run
        time.sleep(0.05)
    raise AssertionError(f"timed out; the job is {run.state}: {run.message}")


def wait_until_steady(trainer, job_id, steady=1.0, timeout=60.0) -> int:
    """The job's step once it has not moved for `steady` seconds (a tiny network trains hundreds
    of steps a second, so only a pause holds it that long); fails after `timeout`."""
    end = time.monotonic() + timeout
    step, since = trainer.view(job_id, "me").step, time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.05)
        now = trainer.view(job_id, "me").step
        if now != step:
            step, since = now, time.monotonic()
        elif time.monotonic() - since >= steady:
            return step
    raise AssertionError(f"the step never held still for {steady} s in {timeout} s (it is {step})")


def exists(trainer, job_id) -> bool:
    """Whether the trainer still has the job, without looking at it (view() counts as a visit)."""
    with trainer._lock:
        return job_id in trainer._jobs


@contextlib.contextmanager
def trainer_with(**limits):
    """A Trainer of its own with these limits, closed (its workers ended) afterwards."""
    t = live.Trainer(live.Limits(**limits))
    try:
        yield t
    finally:
        t.close()


@pytest.fixture(scope="module")
def trainer():
    t = live.Trainer(live.Limits(max_steps=40))
    yield t
    t.close()


@pytest.fixture(scope="module")
def finished(trainer, data_dir):
    job = trainer.submit(settings(data_dir, seed=3), "me")
    return wait(trainer, job)


def test_a_job_trains_in_a_worker_and_reports_every_step(finished):
    run = finished
    assert run.state == "finished", run.message
    assert run.step == 40 and len(run.loss) == 40 and len(run.accuracy) == 40
    assert run.card["steps"] == 40 and run.card["stop_reason"] == "step limit"
    assert "limit of 40 steps" in run.message
    assert run.loss[-1] < run.loss[0]
    assert [m[0] for m in run.measured] == [0, *range(1, 41)]   # 40 steps: a measurement every step
    assert set(run.measured[-1][3]) == set(run.info["layers"]) == {"conv2d_1", "conv2d_2", "output"}
    assert run.info["first_conv"] == "conv2d_1" and run.info["total_steps"] == 40
    assert run.card["test_samples"] == 10_000 and os.path.isfile(run.model_file)


def test_shown_numbers_are_what_keras_computes_for_the_saved_model(finished, data_dir):
    run = finished
    model = keras.models.load_model(run.model_file, compile=False)
    # The last kernels shown are the trained model's kernels.
    step, kernel = run.snapshots[-1]
    assert step == 40 and np.array_equal(kernel, model.get_layer("conv2d_1").kernel.numpy())
    # The last validation point is model.evaluate on the same held-out images.
    (xtr, ytr), _, _ = data.load_dataset("mnist", data_dir)
    order = np.random.default_rng(run.settings.seed).permutation(len(xtr))
    val = order[: int(len(order) * 0.1)][: live_worker.VALIDATION_IMAGES]
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(model_cards.to_model_input(xtr[val]), ytr[val], verbose=0)
    _, val_loss, val_acc, _ = run.measured[-1]
    assert val_loss == pytest.approx(loss, rel=1e-4) and val_acc == pytest.approx(accuracy, abs=1e-6)
    # The gallery's answers are the model's.
    probs = np.asarray(model(run.info["gallery_images"], training=False))
    assert run.gallery[0] == 40 and np.array_equal(run.gallery[1], probs.argmax(axis=1))


def test_same_seed_same_curves(trainer, finished, data_dir):
    again = wait(trainer, trainer.submit(settings(data_dir, seed=3), "me"))
    assert again.loss == finished.loss and again.accuracy == finished.accuracy
    assert [m[:3] for m in again.measured] == [m[:3] for m in finished.measured]
    other = wait(trainer, trainer.submit(settings(data_dir, seed=4), "me"))
    assert other.loss != finished.loss


def test_stop_ends_training_early_and_keeps_the_model(data_dir):
    with trainer_with(max_steps=5000) as t:
        job = t.submit(settings(data_dir, epochs=5), "me")
        running = wait(t, job, until=lambda r: r.step >= 20)
        t.stop(job, "me")
        run = wait(t, job)
        assert run.state == "finished" and run.card["stop_reason"] == "stopped"
        assert running.step <= run.card["steps"] < running.info["total_steps"]
        assert "Stopped early" in run.message and os.path.isfile(run.model_file)


def test_pause_holds_training_until_resume(data_dir):
    with trainer_with(max_steps=5000) as t:
        job = t.submit(settings(data_dir, epochs=5), "me")
        wait(t, job, until=lambda r: r.step >= 10)
        t.pause(job, "me", True)
        held = wait_until_steady(t, job)      # fails if training never halts while paused
        assert t.view(job, "me").state == "paused"
        t.pause(job, "me", False)
        wait(t, job, until=lambda r: r.step > held + 5)
        t.stop(job, "me")
        assert wait(t, job).state == "finished"


def test_queue_positions_limits_and_owners(data_dir):
    with trainer_with(max_running=1, max_waiting=2, max_steps=5000) as t:
        first = t.submit(settings(data_dir, epochs=5), "a")
        with pytest.raises(live.Busy, match="already have a training run"):
            t.submit(settings(data_dir), "a")
        assert t.view(first, "b") is None          # nobody sees another visitor's job
        wait(t, first, "a", until=lambda r: r.state == "running")
        second = t.submit(settings(data_dir), "b")
        third = t.submit(settings(data_dir), "c")
        assert (t.view(second, "b").position, t.view(third, "c").position) == (1, 2)
        with pytest.raises(live.Busy, match="2 training runs are already waiting"):
            t.submit(settings(data_dir), "d")
        t.stop(second, "b")                         # a waiting job is simply taken out
        assert t.view(second, "b").state == "cancelled" and t.view(third, "c").position == 1
        t.forget(first, "a")
        wait(t, third, "c", until=lambda r: r.state in ("starting", "running"))


def test_a_crashed_worker_is_one_line_and_the_trainer_goes_on(data_dir):
    with trainer_with(max_steps=5000) as t:
        job = t.submit(settings(data_dir, epochs=5), "me")
        wait(t, job, until=lambda r: r.step >= 5)
        with t._lock:
            pid = next(w.process.pid for w in t._workers if w.job is not None)
        os.kill(pid, signal.SIGKILL)
        run = wait(t, job)
        assert run.state == "failed" and "SIGKILL" in run.message
        again = t.submit(settings(data_dir), "me")   # the next job gets a fresh worker
        wait(t, again, until=lambda r: r.step >= 1)


def test_a_worker_over_its_memory_cap_is_ended_with_a_message(data_dir):
    with trainer_with(max_memory_mb=200) as t:   # TensorFlow alone takes more
        run = wait(t, t.submit(settings(data_dir), "me"))
        assert run.state == "failed" and "more than this server's 200 MB" in run.message


def test_a_refused_network_fails_with_one_line(data_dir):
    with trainer_with(max_steps=10) as t:
        bad = ({"kind": "Dense", "units": 8, "activation": None},)   # a Dense on a map
        run = wait(t, t.submit(settings(data_dir, layers=bad), "me"))
        assert run.state == "failed" and "Layer 1 (Dense)" in run.message and "\n" not in run.message


def test_a_job_nobody_looks_at_is_stopped_and_forgotten(data_dir):
    with trainer_with(idle_seconds=1.0, max_steps=5000) as t:
        last_seen = time.monotonic()                                   # submit() is a visit
        job = t.submit(settings(data_dir, epochs=5), "me")
        end = last_seen + 60
        while exists(t, job) and time.monotonic() < end:
            time.sleep(0.05)
        assert not exists(t, job), "a job nobody looked at for 60 s is still there"
        assert time.monotonic() - last_seen >= 1.0                     # not before idle_seconds
        assert t.view(job, "me") is None
        with t._lock:
            assert all(w.job is None for w in t._workers)
        # The ended worker is never handed the next job: that one trains.
        again = t.submit(settings(data_dir), "someone else")
        assert wait(t, again, "someone else", until=lambda r: r.step >= 1).state in ("running", "paused")
