"""Helpers shared by the browser benchmarks: a streamlit server and a Chromium page."""
from __future__ import annotations

import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, start_streamlit  # noqa: E402

READY = "[data-testid=stApp][data-test-script-state=notRunning]"


def first_render_ms(browser, url: str, selector: str) -> float:
    """Milliseconds from navigation until `selector` is visible and the script has finished."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(selector, timeout=60_000)
    page.wait_for_selector(READY, timeout=60_000)
    elapsed = (time.perf_counter() - start) * 1000
    context.close()
    return elapsed


def median(values) -> float:
    return statistics.median(values)


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
