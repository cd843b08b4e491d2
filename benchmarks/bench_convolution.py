"""How fast is the Convolution page? Prints figures; asserts nothing.

1. AppTest full reruns of /convolution with a 512×512 RGB picture and a 7×7 kernel (warm),
   median over REPEATS reruns: unchanged, and with the kernel's bias changed each time (so the
   convolution is recomputed), for each colour mode.
2. kernels.convolve() against references on the same input, measured in the same run:
   a sliding_window_view + einsum version in NumPy, and keras.layers.Conv2D (eager, warm).

    .venv/bin/python benchmarks/bench_convolution.py [--no-keras]
"""
from __future__ import annotations

import pathlib
import statistics
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _script_timer import SCRIPT_TIMES, time_script_runs  # noqa: E402

from cnnviz import images, kernels  # noqa: E402

REPEATS = 15
SIDE = 512


def median_ms(fn, repeats: int = REPEATS) -> float:
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def bench_page() -> None:
    from streamlit.testing.v1 import AppTest

    time_script_runs()
    # app.py imports TensorFlow in a background thread a few seconds after start. Keep it from
    # happening during these reruns: the page's own cost is measured first, then what that
    # import adds to every rerun of every page (see the end).
    from cnnviz.ui import preload
    preload.DELAY_SECONDS = 10 ** 6

    from cnnviz.ui import widgets

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE] / SIDE
    pixels = np.stack([xx, yy, 0.5 + 0.5 * np.sin(12 * xx * yy)], axis=2)
    pixels = np.clip(pixels + 0.05 * rng.standard_normal(pixels.shape), 0, 1).astype(np.float32)
    picture = images.Picture(pixels, "benchmark 512×512 RGB")

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("cnnviz/ui/pages/convolution.py")
    at.run()
    at.session_state[widgets.PICTURE_KEY] = picture
    at.run()
    at.selectbox(key="conv_kernel_size").set_value(7).run()     # Sobel x centred in a 7×7 grid
    at.radio(key="conv_padding").set_value("same").run()
    if at.exception:
        print("page failed:", at.exception)
        return
    print(f"/convolution, {SIDE}×{SIDE} RGB picture, 7×7 kernel, 'same' padding "
          f"(AppTest full reruns, median of {REPEATS}, warm)")
    for mode in ("sum", "depthwise", "gray"):
        at.radio(key="conv_mode").set_value(mode).run()
        at.run()
        SCRIPT_TIMES.clear()
        same = median_ms(lambda i: at.run())
        same_server = [statistics.median(t) for t in zip(*SCRIPT_TIMES)]

        def new_bias(i):
            at.number_input(key="conv_kernel_bias").set_value(0.01 * (i + 1)).run()

        SCRIPT_TIMES.clear()
        changed = median_ms(new_bias)
        changed_server = [statistics.median(t) for t in zip(*SCRIPT_TIMES)]
        assert not at.exception, at.exception
        print(f"  {mode:9s}  unchanged: AppTest {same:6.1f} ms, server wall {same_server[0]:6.1f} ms, "
              f"server CPU {same_server[1]:6.1f} ms")
        print(f"  {'':9s}  new bias (recomputes): AppTest {changed:6.1f} ms, server wall "
              f"{changed_server[0]:6.1f} ms, server CPU {changed_server[1]:6.1f} ms")
    if "tensorflow" in sys.modules:
        print("  (TensorFlow was already imported: the reruns above include the cost below)")
    # Once keras is imported (app.py's preload does it), Streamlit's script runner calls
    # keras.backend.clear_session() - a full gc.collect() - after every run of every page:
    import keras

    cpu = time.thread_time()
    clear = median_ms(lambda i: keras.backend.clear_session(), repeats=5)
    cpu = (time.thread_time() - cpu) * 1000 / 5
    print(f"  + after TensorFlow is imported, Streamlit's keras.backend.clear_session() adds "
          f"{clear:.1f} ms ({cpu:.1f} ms CPU) to every rerun")
    import gc
    gc.freeze()
    frozen = median_ms(lambda i: keras.backend.clear_session(), repeats=5)
    print(f"    ({frozen:.1f} ms after gc.freeze(): the preload could call it after its import)")


def bench_convolve(use_keras: bool) -> None:
    from numpy.lib.stride_tricks import sliding_window_view

    rng = np.random.default_rng(1)
    image = rng.random((SIDE, SIDE, 3)).astype(np.float32)
    k3 = rng.uniform(-1, 1, (7, 7, 3)).astype(np.float32)
    k2 = k3[..., 0].copy()

    def einsum_ref(img, ker):
        p = np.pad(img, ((3, 3), (3, 3), (0, 0)))
        win = sliding_window_view(p, (7, 7), axis=(0, 1))          # H, W, C, 7, 7
        return np.einsum("hwcij,ijc->hw", win, ker, optimize=True)

    print(f"\nconvolve() on {SIDE}×{SIDE}×3, 7×7 kernel, 'same' (median of {REPEATS})")
    ours = {
        "Conv2D-style (k×k×3 summed)": median_ms(lambda i: kernels.convolve(image, k3, padding="same")),
        "shared k×k on 3 channels": median_ms(lambda i: kernels.convolve(image, k2, padding="same")),
        "depthwise": median_ms(lambda i: kernels.convolve(image, k3, padding="same", depthwise=True)),
        "grayscale 512×512": median_ms(lambda i: kernels.convolve(image[..., 0], k2, padding="same")),
    }
    for name, ms in ours.items():
        print(f"  ours, {name:30s} {ms:7.1f} ms")
    ref = median_ms(lambda i: einsum_ref(image, k3), repeats=5)
    np.testing.assert_allclose(einsum_ref(image, k3), kernels.convolve(image, k3, padding="same"),
                               rtol=1e-4, atol=1e-4)
    base = ours["Conv2D-style (k×k×3 summed)"]
    print(f"  NumPy sliding_window_view + einsum    {ref:7.1f} ms   (ours is {ref / base:.1f}× faster)")
    if use_keras:
        import keras

        layer = keras.layers.Conv2D(1, 7, padding="same", use_bias=False)
        layer.build((1, SIDE, SIDE, 3))
        layer.set_weights([k3[..., None]])
        x = image[None]
        layer(x)
        tf_ms = median_ms(lambda i: np.asarray(layer(x)))
        print(f"  keras.layers.Conv2D (eager, warm)     {tf_ms:7.1f} ms   (ratio ours / Keras "
              f"{base / tf_ms:.2f})")


if __name__ == "__main__":
    bench_page()            # first: Keras, once imported, slows every later rerun (see the output)
    bench_convolve(use_keras="--no-keras" not in sys.argv)
