"""What one link costs the web process: a page run by Streamlit's AppTest from a link, measured
in this process (peak and kept RSS from /proc, wall time). Used by tests/ui/test_link_costs.py
and benchmarks/bench_link_costs.py.

    cost = link_cost(app, "cnnviz/ui/pages/more_convolutions.py", {"k": "7", "c": "1024", "f": "1024"})
"""
from __future__ import annotations

import os
import pathlib
import time
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE_SIZE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass(frozen=True)
class Cost:
    seconds: float
    cpu_seconds: float     # this process's CPU time over the run (every thread): what a busy
                           # machine's other processes do not inflate
    plain_seconds: float   # the plain view's run just before, for comparison
    peak_mb: float      # highest RSS during the run, above the RSS before it
    kept_mb: float      # RSS after the run, above the RSS before it
    problems: tuple     # the page's exceptions (there should be none)
    app_test: object = None   # the AppTest after the measured run, to read what the page said

    def __str__(self) -> str:
        return f"{self.seconds:.2f} s ({self.cpu_seconds:.2f} s CPU; plain view {self.plain_seconds:.2f} s), peak +{self.peak_mb:.0f} MB, kept +{self.kept_mb:.0f} MB"


def widest_network() -> list:
    """The most expensive /train network a link can carry (builder specs): 38 layers (the
    builder's 40 less room for the output), thirteen 3 x 3 convolutions of 128 filters on the
    full 32 x 32 map, 1.78 M parameters (the limit is 2 M)."""
    from cnnviz import layer_specs, spec_check, spec_links
    specs = [layer_specs.Conv2D(128, 3, padding="same")]
    for _ in range(12):
        specs += [layer_specs.BatchNormalization(), layer_specs.Conv2D(128, 3, padding="same"),
                  layer_specs.Activation()]
    specs.append(layer_specs.GlobalAveragePooling2D())
    assert len(spec_links.to_link(specs)) <= spec_links.MAX_LINK_CHARS
    assert sum(p for _, p in spec_check.check(specs, (32, 32, 3), 10)) > 1_700_000
    return specs


def widest_link() -> str:
    """widest_network() as /train's link text (?net=...)."""
    from cnnviz import spec_links
    return spec_links.to_link(widest_network())


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE_MB


def _reset_peak() -> bool:
    """Start VmHWM (the peak RSS) again from the current RSS; False where Linux does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _app_test(app: pathlib.Path):
    from streamlit.testing.v1 import AppTest
    return AppTest.from_file(str(app), default_timeout=300)


def _open(app: pathlib.Path, page: str, query: dict):
    """An AppTest that has run app.py once (Home) and is about to switch to page with query."""
    at = _app_test(app)
    at.run()
    at.query_params.update(query)
    at.switch_page(page)
    return at


def _run(app: pathlib.Path, page: str, query: dict):
    at = _open(app, page, query)
    at.run()
    assert not at.exception, [e.stack_trace for e in at.exception]
    return at


def link_cost(app: pathlib.Path, page: str, query: dict, plain: dict | None = None) -> Cost:
    """What opening `page` from a link holding `query` costs above its plain view (`plain`, e.g.
    the same network and picture with every other setting at its default), in a new session.

    Before it: one run of the plain view (imports, the TensorFlow preload), st.cache_data
    emptied (so a link pays for what it asks even if a test before asked the same), and the plain
    view again, which refills the caches any view of the page shares (a model, a test set).
    """
    import gc
    import sys

    import streamlit as st
    _run(app, page, plain or {})
    preload = sys.modules.get("cnnviz.ui.preload")
    if preload is not None:
        preload.start_tensorflow_import().join()
    st.cache_data.clear()
    start = time.perf_counter()
    _run(app, page, plain or {})
    plain_seconds = time.perf_counter() - start
    at = _open(app, page, {**(plain or {}), **query})
    gc.collect()
    before = rss_mb()
    exact_peak = _reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    at.run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = rss_mb()
    peak = _peak_mb() if exact_peak else after
    return Cost(seconds, cpu, plain_seconds, peak - before, after - before, tuple(e.message for e in at.exception), at)
