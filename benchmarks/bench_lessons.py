"""Speed of the activation and pooling lessons: prints medians, asserts nothing.

    .venv/bin/python benchmarks/bench_lessons.py [--repeats 15]

Measured in the same run, so a busy machine shifts both sides alike:
  * reference: a warm AppTest rerun of a page holding only the shared sidebar and a title;
  * warm AppTest reruns of /activations and /pooling (goal: <= 100 ms), twice: as the app is,
    then after gc.freeze() (Streamlit's full garbage collections after each run dominate once
    TensorFlow is loaded; the second round shows the pages' own cost);
  * activations.gradient_norms(depth 30, width 64) warm (goal: <= 300 ms), against a reference
    of one warm eager forward pass of a same-sized Keras stack.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def wait_for_preload() -> None:
    """app.py imports TensorFlow in a background thread; time nothing while it holds the GIL."""
    import threading

    for thread in threading.enumerate():
        if thread.name.startswith("cnnviz-preload"):
            thread.join()


def median_ms(fn, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), min(times)


def _empty_page():
    import streamlit as st

    from cnnviz.ui import widgets

    st.set_page_config(layout="wide")
    widgets.image_source()
    st.title("empty")


def apptest_reruns(page: str | None, repeats: int) -> tuple[float, float]:
    from streamlit.testing.v1 import AppTest

    if page is None:   # the reference: the shared sidebar plus a title, nothing else
        at = AppTest.from_function(_empty_page, default_timeout=120)
        at.run()
        assert not at.exception, at.exception
        at.run()
        return median_ms(at.run, repeats)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(f"cnnviz/ui/pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    wait_for_preload()
    at.run()
    return median_ms(at.run, repeats)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    print(f"repeats per figure: {args.repeats}; load average now: {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")

    # Streamlit runs gc.collect(2) after every script run (runner.postScriptGC) and, once Keras is
    # imported (app.py preloads it), keras.backend.clear_session(), another full collection. With
    # TensorFlow's ~350k objects each costs a lot; gc.freeze() after the imports makes both ~free.
    # Round 1 measures the app as it is; round 2 after gc.freeze(), i.e. the pages' own cost.
    import gc

    for round_name in ("as is", "after gc.freeze()"):
        if round_name != "as is":
            gc.freeze()
        print(f"--- AppTest warm reruns, {round_name}")
        pages = {page: apptest_reruns(page, args.repeats) for page in ("activations", "pooling")}
        ref, ref_min = apptest_reruns(None, args.repeats)   # last: TensorFlow is loaded by now
        print(f"reference  empty page (sidebar only)     median {ref:7.1f} ms   min {ref_min:7.1f} ms")
        for page, (med, low) in pages.items():
            print(f"/{page:<12}                          median {med:7.1f} ms   min {low:7.1f} ms"
                  f"   ({med / ref:4.1f}× reference; goal ≤ 100 ms)")

    from cnnviz import activations
    t = time.perf_counter()
    activations.gradient_norms("sigmoid", 30, 64, seed=0)
    print(f"gradient_norms depth 30 width 64, cold (build + trace) {1000 * (time.perf_counter() - t):7.1f} ms")
    med, low = median_ms(lambda: activations.gradient_norms("sigmoid", 30, 64, seed=0), args.repeats)
    import keras
    import numpy as np
    model = keras.Sequential([keras.Input((64,))] + [keras.layers.Dense(64, "sigmoid") for _ in range(30)]
                             + [keras.layers.Dense(10)])
    x = np.random.default_rng(0).standard_normal((64, 64)).astype("float32")
    model(x, training=False)
    fwd, fwd_low = median_ms(lambda: model(x, training=False), args.repeats)
    print(f"reference  eager forward pass of the same stack   median {fwd:7.1f} ms   min {fwd_low:7.1f} ms")
    print(f"gradient_norms depth 30 width 64, warm            median {med:7.1f} ms   min {low:7.1f} ms"
          f"   (goal ≤ 300 ms; {med / fwd:.2f}× the eager forward pass)")


if __name__ == "__main__":
    main()
