"""What one link costs the web process: a page run by Streamlit's AppTest from a link, measured
in the process that runs it (wall and CPU time; peak RSS, malloc's peak and kept RSS). Used by
tests/ui/test_link_costs.py and benchmarks/bench_link_costs.py.

    cost = link_cost(app, "cnnviz/ui/pages/more_convolutions.py", {"k": "7", "c": "1024", "f": "1024"})
    costs = in_fresh_process(ROOT, {"big": ("more_convolutions.py", {"k": "7"}, {})})

in_fresh_process measures in a new Python process: TensorFlow keeps memory it has freed for
its own reuse (a 51 M-weight layer built once leaves ~1 GB that later builds take without
asking malloc or the kernel), so in a process where any test built something big, a page that
builds something as big would look free.
"""
from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import threading
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
    allocated_mb: float  # most bytes held by malloc (NumPy, TensorFlow) during the run, above
                         # those held before it: unlike RSS, not hidden by memory an earlier
                         # test freed and malloc reuses
    kept_mb: float      # RSS after the run, above the RSS before it
    problems: tuple     # the page's exceptions (there should be none)
    texts: tuple = ()   # the page's captions and markdown after the run: what it said

    def __str__(self) -> str:
        return (f"{self.seconds:.2f} s ({self.cpu_seconds:.2f} s CPU; plain view {self.plain_seconds:.2f} s), "
                f"peak +{self.peak_mb:.0f} MB RSS, +{self.allocated_mb:.0f} MB allocated, kept +{self.kept_mb:.0f} MB")


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


class _MallocInfo(ctypes.Structure):   # glibc's struct mallinfo2
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]


def _malloc_mb() -> float:
    """Bytes malloc hands out now, in every arena and in mmap'd blocks (0 without glibc)."""
    try:
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = _MallocInfo
    except (OSError, AttributeError):
        return 0.0
    info = libc.mallinfo2()
    return (info.uordblks + info.hblkhd) / 2**20


class _MallocPeak:
    """The most _malloc_mb() seen while the block runs (sampled every 5 ms)."""

    def __enter__(self):
        self.peak = _malloc_mb()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._done.wait(0.005):
            self.peak = max(self.peak, _malloc_mb())

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _malloc_mb())


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


def link_cost(app: pathlib.Path, page: str, query: dict | list[dict], plain: dict | None = None) -> Cost:
    """What opening `page` from a link holding `query` costs above its plain view (`plain`, e.g.
    the same network and picture with every other setting at its default), in a new session.
    A list of queries: each opened in its own session at the same time (tabs of one server);
    seconds is then until the last is shown.

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
    tabs = [_open(app, page, {**(plain or {}), **q}) for q in (query if isinstance(query, list) else [query])]
    gc.collect()
    before, held = rss_mb(), _malloc_mb()
    exact_peak = _reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    with _MallocPeak() as malloc:
        runs = [threading.Thread(target=at.run) for at in tabs]
        for run in runs:
            run.start()
        for run in runs:
            run.join()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = rss_mb()
    peak = _peak_mb() if exact_peak else after
    return Cost(seconds, cpu, plain_seconds, peak - before, malloc.peak - held, after - before,
                tuple(e.message for at in tabs for e in at.exception),
                tuple(e.value for at in tabs for e in [*at.caption, *at.markdown]))


_CHILD = """
import json, pathlib, sys
sys.path.insert(0, {tests!r})
from link_costs import link_cost
app = pathlib.Path({app!r})
for name, (page, query, plain) in json.loads(sys.stdin.read()).items():
    cost = link_cost(app, "cnnviz/ui/pages/" + page, query, plain)
    print("COST " + json.dumps([name, cost.__dict__]), flush=True)
"""


def in_fresh_process(tree: pathlib.Path, cases: dict, timeout: float = 900) -> dict[str, Cost]:
    """{name: Cost} of each case {name: (page file, query, plain query)}, measured one after
    another in a new Python process running the app of checkout `tree`."""
    code = _CHILD.format(tests=str(pathlib.Path(__file__).resolve().parent), app=str(tree / "app.py"))
    env = {**os.environ, "PYTHONPATH": str(tree), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, input=json.dumps(cases),
                         capture_output=True, text=True, timeout=timeout)
    costs = {}
    for line in out.stdout.splitlines():
        if line.startswith("COST "):
            name, fields = json.loads(line[5:])
            costs[name] = Cost(**{f.name: tuple(fields[f.name]) if isinstance(fields[f.name], list)
                                  else fields[f.name] for f in dataclasses.fields(Cost)})
    if len(costs) != len(cases):
        raise RuntimeError(f"measured {sorted(costs)} of {sorted(cases)} (exit {out.returncode}):\n"
                           + out.stderr[-3000:])
    return costs
