"""Training jobs in worker processes: a queue, caps, live progress, Stop within a second.

The /train page hands a :class:`JobSettings` to the server's :class:`Trainer`. The job waits in a
queue until one of ``Limits.max_running`` workers is free. A worker is a separate process
(``multiprocessing`` with ``spawn``) that has already imported TensorFlow while the visitor was
still building the network; it runs exactly one job and then exits, so the memory TensorFlow
keeps after ``fit`` goes back to the operating system, and a new warm worker takes its place.
The worker runs :func:`cnnviz.train.train`, the same loop as ``python -m cnnviz train``, with a
listener that reports progress through a pipe: the training loss and accuracy of every step, and
every few steps (a fixed number of steps, so the same seed gives the same curves) the validation
loss and accuracy, the first convolution's kernels and each layer's gradient size.

Bounds: a job may use at most ``max_seconds`` of training and ``max_steps`` steps (it stops
itself and keeps what it learnt), its worker at most ``max_memory_mb`` of memory (the supervisor
ends it and says so); a job nobody has looked at for ``idle_seconds`` (its browser tab went
away) is stopped; a crashed worker turns into a one-line message, never a broken server.
"""
from __future__ import annotations

import collections
import dataclasses
import itertools
import multiprocessing
import multiprocessing.connection
import os
import pathlib
import shutil
import signal
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field

from cnnviz import live_worker
from cnnviz.compat import multiprocessing_internals

#: Kernel snapshots kept per run; beyond that every other one is dropped (first and last stay).
MAX_SNAPSHOTS = 61
#: JobSettings.dataset for a person's own pictures (cnnviz.train.OWN; kept here: no TensorFlow).
OWN = "own"
ACTIVE = ("waiting", "starting", "running", "paused", "stopping")


class Busy(RuntimeError):
    """The queue is full, or this visitor already has a job in it."""


@dataclass(frozen=True)
class JobSettings:
    """Everything a job needs; plain values, because they cross a process boundary."""
    dataset: str
    layers: tuple                   # cnnviz.builder layer dicts (to_dict form), output layer not included
    optimizer: str = "adam"
    learning_rate: float = 3e-3
    batch_size: int = 128
    epochs: int = 2
    augment: bool = False
    seed: int = 0
    data: str | None = None         # a folder or .npz of the full dataset; None: CNNVIZ_DATA, then starter
    test_each_epoch: bool = False   # full test-set accuracy at each epoch's end (benchmarks)
    pictures: object = None         # dataset="own": a cnnviz.own_pictures.PictureSet (sent to the
                                    # worker, then dropped from the Run: see Trainer.submit)
    transfer: bool = False          # own pictures: the CIFAR-10 network's conv blocks, frozen, new head
    held_out: float = 0.2           # own pictures: the part of each class held out (seeded)


def _env_number(name: str, default, kind=int):
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}.") from None
    if value <= 0:
        raise ValueError(f"{name} must be above 0, got {text!r}.")
    return value


@dataclass(frozen=True)
class Limits:
    max_running: int = 1            # two cores: one job at a time trains at full speed
    max_waiting: int = 8
    max_seconds: float = 180.0      # training time per job
    max_steps: int = 20_000
    max_memory_mb: int = 3000       # per worker process (TensorFlow itself takes ~0.6 GB)
    threads: int = max(1, (os.cpu_count() or 2) - 1)   # cores a job may use: one stays with visitors
    idle_seconds: float = 30.0      # unseen for this long: the visitor left, the job is stopped
    keep_seconds: float = 1800.0    # a finished job's files, unseen for this long, are deleted

    @classmethod
    def from_env(cls) -> "Limits":
        """Server limits from CNNVIZ_TRAIN_JOBS, _QUEUE, _SECONDS, _STEPS, _MEMORY_MB and _THREADS."""
        return cls(max_running=_env_number("CNNVIZ_TRAIN_JOBS", cls.max_running),
                   max_waiting=_env_number("CNNVIZ_TRAIN_QUEUE", cls.max_waiting),
                   max_seconds=_env_number("CNNVIZ_TRAIN_SECONDS", cls.max_seconds, float),
                   max_steps=_env_number("CNNVIZ_TRAIN_STEPS", cls.max_steps),
                   max_memory_mb=_env_number("CNNVIZ_TRAIN_MEMORY_MB", cls.max_memory_mb),
                   threads=_env_number("CNNVIZ_TRAIN_THREADS", cls.threads))


@dataclass
class Run:
    """What the page shows of one job; a copy, safe to read while the job goes on."""
    id: int
    settings: JobSettings
    state: str = "waiting"          # waiting starting running paused stopping | finished failed cancelled
    position: int = 0               # place in the queue (1 = next) while waiting
    info: dict = field(default_factory=dict)         # sent once when training begins
    step: int = 0
    epoch: int = 0
    seconds: float = 0.0            # training time so far (pauses not counted)
    loss: list = field(default_factory=list)         # per step: the running mean over the epoch
    accuracy: list = field(default_factory=list)
    measured: list = field(default_factory=list)     # (step, val loss, val accuracy, {layer: rms grad})
    snapshots: list = field(default_factory=list)    # (step, first conv kernels k x k x c x f)
    gallery: tuple | None = None    # (step, predicted classes, their probabilities)
    tests: list = field(default_factory=list)        # (epoch, step, seconds, test accuracy, seconds it took)
    card: dict | None = None
    model_file: str | None = None
    message: str = ""               # why it failed, or why it stopped early
    submitted: float = 0.0          # time.monotonic() when Start was pressed
    finished_at: float | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def copy(self) -> "Run":
        return dataclasses.replace(self, info=dict(self.info), loss=list(self.loss),
                                   accuracy=list(self.accuracy), measured=list(self.measured),
                                   snapshots=list(self.snapshots), tests=list(self.tests))


# ---------------------------------------------------------------------------- server side

@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    stop: object
    pause: object
    ready: bool = False
    job: "_Job | None" = None
    killed_because: str | None = None   # the supervisor ended it: the message that says why
    peak_rss_mb: float = 0.0            # the most memory it was seen using while on a job
    retired: bool = False           # ended on purpose: never given a job, not a failed start


@dataclass
class _Job:
    run: Run
    owner: str
    folder: pathlib.Path
    seen: float
    worker: _Worker | None = None
    stop_asked: float | None = None


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


#: A worker killed by SIGKILL that was seen using this share of its memory limit most likely
#: met the limit (a container's or the kernel's out-of-memory killer) before the supervisor did.
NEAR_MEMORY_LIMIT = 0.75


def exit_text(exitcode: int | None) -> str:
    """'exit code 3', or 'the signal SIGTERM' for a process ended by a signal."""
    if exitcode is not None and exitcode < 0:
        try:
            return f"the signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"the signal {-exitcode}"
    return f"exit code {exitcode}"


def ended_message(exitcode: int | None, peak_rss_mb: float, max_memory_mb: int) -> str:
    """What is known about a worker that ended during a job without cnnviz ending it."""
    used = f"it had used up to {peak_rss_mb:,.0f} MB of the {max_memory_mb:,} MB allowed"
    if exitcode == -signal.SIGKILL:
        if peak_rss_mb >= NEAR_MEMORY_LIMIT * max_memory_mb:
            return (f"The training process was killed (SIGKILL) while close to its memory limit "
                    f"({used}), so most likely it ran out of memory. Try fewer or smaller layers, "
                    "or a smaller batch.")
        return (f"The training process was killed from outside cnnviz (SIGKILL); {used}, "
                "so the memory limit is not the likely cause.")
    if exitcode is not None and exitcode < 0:
        return f"The training process was ended by {exit_text(exitcode)}."
    return f"The training process stopped unexpectedly ({exit_text(exitcode)})."


class Trainer:
    """One per server process: owns the workers, the queue and every job's progress."""

    def __init__(self, limits: Limits | None = None, folder: str | os.PathLike | None = None):
        self.limits = limits or Limits.from_env()
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.RLock()
        self._jobs: dict[int, _Job] = {}
        self._queue: collections.deque[_Job] = collections.deque()
        self._workers: list[_Worker] = []
        self._ids = itertools.count(1)
        self._folder = pathlib.Path(tempfile.mkdtemp(prefix="cnnviz-train-", dir=folder))
        self._closed = False
        self._warm_failures = 0
        self.broken: str | None = None
        self._thread = threading.Thread(target=self._loop, name="cnnviz-trainer", daemon=True)
        self._thread.start()

    # --- what the page calls
    def submit(self, settings: JobSettings, owner: str) -> int:
        """Queue a job; Busy when the queue is full or the owner has one going.

        dataset="own" needs settings.pictures (a PictureSet that can be trained: PictureError
        otherwise). Its pictures go to the worker with the job and are not kept here: the Run's
        settings then hold pictures=None, and the held-out pictures come back in run.info."""
        if settings.dataset == OWN:
            from cnnviz.own_pictures.picture_set import PictureError, PictureSet
            if not isinstance(settings.pictures, PictureSet):
                raise PictureError("Add your pictures first: training on your own pictures needs them.")
            settings.pictures.check_trainable()
            settings.pictures.split(settings.held_out, settings.seed)    # a held-out part it can make
        with self._lock:
            if self.broken:
                raise Busy(self.broken)
            if any(j.owner == owner and j.run.active for j in self._jobs.values()):
                raise Busy("You already have a training run going: stop it first.")
            if len(self._queue) >= self.limits.max_waiting:
                raise Busy(f"The server is busy: {len(self._queue)} training runs are already "
                           "waiting. Try again in a minute.")
            job_id = next(self._ids)
            now = time.monotonic()
            job = _Job(Run(job_id, settings, submitted=now), owner, self._folder / str(job_id), now)
            job.folder.mkdir()
            self._jobs[job_id] = job
            self._queue.append(job)
            self._update_positions()
            return job_id

    def view(self, job_id: int, owner: str) -> Run | None:
        """A copy of the job's progress, or None if it is unknown, someone else's or forgotten.

        Looking counts as a sign of life: a job nobody looks at is stopped after idle_seconds.
        """
        with self._lock:
            job = self._own(job_id, owner)
            if job is None:
                return None
            job.seen = time.monotonic()
            return job.run.copy()

    def stop(self, job_id: int, owner: str) -> None:
        with self._lock:
            job = self._own(job_id, owner)
            if job is not None:
                self._stop(job)

    def pause(self, job_id: int, owner: str, paused: bool) -> None:
        with self._lock:
            job = self._own(job_id, owner)
            if job is None or job.worker is None or job.run.state not in ("running", "paused"):
                return
            (job.worker.pause.set if paused else job.worker.pause.clear)()
            job.run.state = "paused" if paused else "running"

    def forget(self, job_id: int, owner: str) -> None:
        """Stop the job if it runs and delete everything it left."""
        with self._lock:
            job = self._own(job_id, owner)
            if job is not None:
                self._forget(job)

    def warm_workers(self) -> int:
        """Workers that have imported TensorFlow and wait for a job."""
        with self._lock:
            return sum(1 for w in self._workers if w.ready and w.job is None)

    def queue_length(self) -> int:
        with self._lock:
            return len(self._queue)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for w in self._workers:
                w.process.kill()
            self._workers.clear()
        self._thread.join(timeout=5)
        shutil.rmtree(self._folder, ignore_errors=True)

    # --- bookkeeping under the lock
    def _own(self, job_id, owner) -> _Job | None:
        job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def _update_positions(self) -> None:
        for i, job in enumerate(self._queue, start=1):
            job.run.position = i

    def _stop(self, job: _Job) -> None:
        if job.run.state == "waiting":
            self._queue.remove(job)
            self._update_positions()
            self._end(job, "cancelled", "Stopped before it began.")
        elif job.run.active and job.worker is not None:
            job.worker.stop.set()
            job.worker.pause.clear()
            job.run.state = "stopping"
            job.stop_asked = job.stop_asked or time.monotonic()

    def _forget(self, job: _Job) -> None:
        if job.run.state == "waiting":
            self._queue.remove(job)
            self._update_positions()
        if job.worker is not None:
            self._retire(job.worker)
        self._jobs.pop(job.run.id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    def _retire(self, w: _Worker) -> None:
        w.retired, w.ready, w.job = True, False, None
        w.process.kill()

    def _end(self, job: _Job, state: str, message: str = "") -> None:
        job.run.state, job.run.finished_at = state, time.monotonic()
        if message:
            job.run.message = message
        job.worker = None

    # --- the supervisor thread
    def _loop(self) -> None:
        while not self._closed:
            try:
                self._supervise()
            except Exception:   # the supervisor must outlive any surprise: say it, go on
                traceback.print_exc()
                time.sleep(0.5)

    def _supervise(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._keep_workers_warm()
            self._start_waiting_jobs()
            conns = [w.conn for w in self._workers if not w.retired]
        try:
            ready = multiprocessing.connection.wait(conns, timeout=0.1) if conns else []
        except OSError:
            ready = []
        if not conns:
            time.sleep(0.1)
        with self._lock:
            if self._closed:
                return
            for w in list(self._workers):
                if w.conn in ready:
                    self._read(w)
            self._check_workers()
            self._expire()

    def _keep_workers_warm(self) -> None:
        idle = [w for w in self._workers if w.job is None and not w.retired]
        if len(idle) < self.limits.max_running and len(self._workers) < 2 * self.limits.max_running:
            parent, child = self._ctx.Pipe()
            stop, pause = self._ctx.Event(), self._ctx.Event()
            process = self._ctx.Process(target=live_worker.worker_main, args=(child, stop, pause, self.limits),
                                        name="cnnviz-training-worker", daemon=True)
            with multiprocessing_internals.plain_main():   # app.py is not re-run in the worker
                process.start()
            child.close()
            self._workers.append(_Worker(process, parent, stop, pause))

    def _start_waiting_jobs(self) -> None:
        running = sum(1 for w in self._workers if w.job is not None)
        for w in self._workers:
            if not self._queue or running >= self.limits.max_running:
                return
            if w.ready and w.job is None and not w.retired:
                try:
                    w.conn.send((self._queue[0].run.settings, str(self._queue[0].folder)))
                except OSError:   # the worker died since it said it was ready
                    self._retire(w)
                    continue
                job = self._queue.popleft()
                if job.run.settings.pictures is not None:      # the worker has them now
                    job.run.settings = dataclasses.replace(job.run.settings, pictures=None)
                self._update_positions()
                job.worker, w.job = w, job
                job.run.state, job.run.position = "starting", 0
                running += 1

    def _read(self, w: _Worker) -> None:
        try:
            while w.conn.poll():
                message = w.conn.recv()
                if message["kind"] == "ready":
                    w.ready = True
                    self._warm_failures = 0
                elif w.job is not None:
                    self._apply(w.job, message)
        except (EOFError, OSError):
            pass   # the process ended; _check_workers says why

    def _apply(self, job: _Job, m: dict) -> None:
        run = job.run
        if m["kind"] == "started":
            run.info = m["info"]
            if run.state == "starting":
                run.state = "running"
        elif m["kind"] == "progress":
            run.step, run.epoch, run.seconds = m["step"], m["epoch"], m["seconds"]
            run.loss += m["loss"]
            run.accuracy += m["accuracy"]
            run.measured += m["measured"]
            run.tests += m["tests"]
            run.snapshots += m["snapshots"]
            if len(run.snapshots) > MAX_SNAPSHOTS:
                run.snapshots = run.snapshots[:-1:2] + run.snapshots[-1:]
            run.gallery = m["gallery"]
        elif m["kind"] == "finished":
            run.card, run.model_file = m["card"], m["model_file"]
            reason = m["card"].get("stop_reason")
            self._end(job, "finished", {
                None: "", "stopped": "Stopped early: the model keeps what it learnt until then.",
                "time limit": f"Stopped at this server's limit of {self.limits.max_seconds:.0f} s "
                              "of training per run.",
                "step limit": f"Stopped at this server's limit of {self.limits.max_steps:,} steps per run.",
            }.get(reason, reason or ""))
        elif m["kind"] == "failed":
            self._end(job, "failed", m["message"])

    def _check_workers(self) -> None:
        now = time.monotonic()
        limits = self.limits
        for w in list(self._workers):
            if w.process.is_alive():
                if w.job is None:
                    continue
                w.peak_rss_mb = max(w.peak_rss_mb, _rss_mb(w.process.pid))
                if w.peak_rss_mb > limits.max_memory_mb:
                    self._kill(w, f"Training used more than this server's {limits.max_memory_mb:,} MB "
                                  "of memory and was ended. Try fewer or smaller layers, or a smaller batch.")
                elif w.job.stop_asked and now - w.job.stop_asked > 30:
                    self._kill(w, "Training did not stop within 30 s of being asked and was ended.")
                elif now - w.job.run.submitted > limits.max_seconds + 600:
                    self._kill(w, "Training ran far past this server's time limit and was ended.")
                continue
            w.process.join(timeout=0)
            self._workers.remove(w)
            w.conn.close()
            if w.retired:
                continue
            job = w.job
            if job is not None and job.run.active:
                self._end(job, "failed", w.killed_because or ended_message(
                    w.process.exitcode, w.peak_rss_mb, limits.max_memory_mb))
            elif job is None and not w.ready:
                self._warm_failures += 1
                if self._warm_failures >= 3:
                    self.broken = ("Training is not available on this server: its worker process "
                                   f"could not start ({exit_text(w.process.exitcode)}).")

    @staticmethod
    def _kill(w: _Worker, because: str) -> None:
        w.killed_because = because
        w.process.kill()

    def _expire(self) -> None:
        now = time.monotonic()
        for job in list(self._jobs.values()):
            if job.run.active and now - job.seen > self.limits.idle_seconds:
                self._forget(job)
            elif not job.run.active and now - job.seen > self.limits.keep_seconds:
                self._forget(job)
