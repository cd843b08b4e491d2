"""How long /_stcore/health takes to answer while a fresh server imports TensorFlow in the background.

A real `streamlit run app.py`, one first visit in headless Chromium (it starts the preload), then
/_stcore/health polled every 50 ms from the visit until 8 s after TensorFlow's libraries are
mapped into the server. Goal: every answer within 1 s (a load balancer's health check must not
see a busy server as a dead one). tests/e2e/test_server_lifecycle.py checks only that every check
answers; the latencies are measured here, as timings depend on the machine and its load.
Usage: python benchmarks/bench_health_during_import.py [ROUNDS]
"""
import sys
import time
import urllib.request

from playwright.sync_api import sync_playwright

from _browser import ROOT, launch, start_streamlit

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
GOAL_SECONDS = 1.0
TENSORFLOW_LIBRARIES = ("libtensorflow_framework", "_pywrap_tensorflow")


def tensorflow_mapped(pid: int) -> bool:
    with open(f"/proc/{pid}/maps") as f:
        maps = f.read()
    return any(name in maps for name in TENSORFLOW_LIBRARIES)


def health_seconds(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url + "/_stcore/health", timeout=30) as r:
        assert r.status == 200, r.status
    return time.perf_counter() - start


def one_round(browser) -> list[float]:
    proc, url = start_streamlit(ROOT / "app.py")
    try:
        context = browser.new_context()
        context.new_page().goto(url + "/")
        took, seen_at, deadline = [], None, time.time() + 120
        while (seen_at is None or time.time() < seen_at + 8.0) and time.time() < deadline:
            took.append(health_seconds(url))
            if seen_at is None and tensorflow_mapped(proc.pid):
                seen_at = time.time()
            time.sleep(0.05)
        context.close()
        return took
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    with sync_playwright() as p:
        browser = launch(p)
        for i in range(ROUNDS):
            took = sorted(one_round(browser))
            p95 = took[int(0.95 * (len(took) - 1))]
            over = sum(t > GOAL_SECONDS for t in took)
            print(f"round {i + 1}: {len(took)} health checks, median {1000 * took[len(took) // 2]:.0f} ms, "
                  f"p95 {1000 * p95:.0f} ms, max {1000 * took[-1]:.0f} ms, "
                  f"{over} over {GOAL_SECONDS:.0f} s (goal: 0)")
        browser.close()


if __name__ == "__main__":
    main()
