"""Live training against a bare model.fit: prints medians and ratios, asserts nothing.

    .venv/bin/python benchmarks/bench_train.py --data ../shared/data [--rounds 3] [--epochs 2]

Each round, in this order, both in fresh processes:
  * reference: a bare ``model.fit`` of the same network (the page's default, builder preset
    "tiny" with the page's default settings), the same training images in the same order, the
    same batches and steps, no callbacks, in a spawned process that imported TensorFlow first;
  * live: the same job through cnnviz.live.Trainer, as the page runs it: a warm worker process,
    the queue, the reporter (every step's loss, 60 measurements of validation, gradients and
    kernels, a tick every 0.25 s), with the full test set measured at each epoch's end.

Printed: the fit time of both (ratio: goal <= 1.2), the seconds from Start (submit) until the
job's result is ready, and the seconds from Start until the full 10,000-image test set first
reached 98 % (goal: within 30 s).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PRESET, BATCH, LR, OPTIMIZER = "tiny", 128, 3e-3, "adam"   # the page's defaults


def bare_fit(data_dir: str, epochs: int, threads: int) -> float:
    from cnnviz import live_worker
    live_worker.limit_threads(threads)   # the cores a job gets, as in the worker
    import keras
    import numpy as np
    import tensorflow as tf

    from cnnviz import architectures, builder, data, model_cards, train
    (xtr, ytr), _, _ = data.load_dataset("mnist", data_dir)
    keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()
    order = np.random.default_rng(0).permutation(len(xtr))
    n_val = int(len(order) * 0.1)
    x, y = model_cards.to_model_input(xtr[order[n_val:]]), ytr[order[n_val:]]
    model = builder.build(architectures.PRESETS[PRESET], (28, 28, 1), 10, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(LR), loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy"])
    started = time.time()
    model.fit(train._pipeline(x, y, BATCH, 0, True), epochs=epochs, verbose=0)
    return time.time() - started


def bare_round(data_dir: str, epochs: int, threads: int) -> float:
    """bare_fit in a fresh Python process (this script with --bare), like a worker."""
    done = subprocess.run([sys.executable, __file__, "--bare", "--data", data_dir, "--epochs", str(epochs),
                           "--threads", str(threads)],
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def live_round(trainer, data_dir: str, epochs: int) -> tuple[float, float, float | None, float]:
    from cnnviz import architectures, layer_specs, live
    layers = tuple(layer_specs.to_dict(s) for s in architectures.PRESETS[PRESET])
    settings = live.JobSettings("mnist", layers, optimizer=OPTIMIZER, learning_rate=LR, batch_size=BATCH,
                                epochs=epochs, data=data_dir, test_each_epoch=True)
    while trainer.warm_workers() == 0:
        time.sleep(0.2)   # a warm worker, as when a visitor has spent a while building the network
    start = time.monotonic()
    job = trainer.submit(settings, "bench")
    first_98 = None
    while True:
        run = trainer.view(job, "bench")
        for epoch, step, _, accuracy, _ in run.tests:
            if accuracy >= 0.98 and first_98 is None:
                first_98 = time.monotonic() - start
        if not run.active:
            break
        time.sleep(0.05)
    done = time.monotonic() - start
    if run.state != "finished":
        raise SystemExit(f"the live job ended as {run.state}: {run.message}")
    trainer.forget(job, "bench")
    testing = sum(t[4] for t in run.tests)   # the benchmark's own test-set passes, not the page's
    return run.card["training_seconds"] - testing, done, first_98, run.card["test_accuracy"]


def stop_latency(trainer, data_dir: str) -> float:
    """Seconds from Stop until the last training step: a long job, stopped once it runs."""
    from cnnviz import architectures, layer_specs, live
    layers = tuple(layer_specs.to_dict(s) for s in architectures.PRESETS[PRESET])
    while trainer.warm_workers() == 0:
        time.sleep(0.2)
    job = trainer.submit(live.JobSettings("mnist", layers, epochs=10, data=data_dir), "bench")
    while trainer.view(job, "bench").step < 100:
        time.sleep(0.05)
    asked = time.monotonic()
    trainer.stop(job, "bench")
    step, last_change = trainer.view(job, "bench").step, asked
    while (run := trainer.view(job, "bench")).active:
        if run.step != step:
            step, last_change = run.step, time.monotonic()
        time.sleep(0.01)
    trainer.forget(job, "bench")
    return last_change - asked


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="a folder holding mnist.npz (the full set)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, help="cores per job (default: the trainer's, all but one)")
    args = p.parse_args()
    from cnnviz import live
    threads = args.threads or live.Limits().threads
    if args.bare:
        print(bare_fit(args.data, args.epochs, threads))
        return
    trainer = live.Trainer(live.Limits(max_seconds=600, threads=threads))
    bare, fit, done, to98, acc = [], [], [], [], []
    try:
        for r in range(args.rounds):
            bare.append(bare_round(args.data, args.epochs, threads))
            f, d, t, a = live_round(trainer, args.data, args.epochs)
            fit.append(f)
            done.append(d)
            to98.append(t)
            acc.append(a)
            print(f"round {r + 1}: bare fit {bare[-1]:.1f} s | live fit {f:.1f} s, result after {d:.1f} s, "
                  f"98 % after {'never' if t is None else f'{t:.1f} s'}, test accuracy {a:.2%}", flush=True)
        stops = [stop_latency(trainer, args.data) for _ in range(3)]
    finally:
        trainer.close()
    med = statistics.median
    reached = [t for t in to98 if t is not None]
    print(f"\nmedians over {args.rounds} rounds ({PRESET}, {OPTIMIZER} {LR:g}, batch {BATCH}, {args.epochs} "
          f"epochs of 54,000 MNIST images, {threads} of {os.cpu_count()} cores for training):")
    print(f"  bare model.fit (reference)      {med(bare):6.1f} s")
    print(f"  live fit, same steps            {med(fit):6.1f} s   ratio {med(fit) / med(bare):.2f} (goal <= 1.2)")
    print(f"  Start -> result ready           {med(done):6.1f} s   (includes the test set at each epoch end)")
    print("  Start -> 98 % on 10,000 tests   " + (f"{med(reached):6.1f} s" if reached else "  never")
          + f"   ({len(reached)} of {args.rounds} rounds got there; goal <= 30 s)")
    print(f"  final test accuracy             {med(acc):.2%}")
    print(f"  Stop -> last training step      {med(stops):6.2f} s   (median of 3; goal <= 1 s)")


if __name__ == "__main__":
    main()
