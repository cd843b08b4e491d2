"""Choosing Draw on a freshly loaded /network page shows the canvas after one click, every time.

Reported: on a loaded machine the canvas sometimes appeared only after a second click. Not
reproduced here (0 of 20 loads at load average ~4, 0 of 14 with Chromium's CPU slowed 8x); one
click always sufficed, but the canvas can take 5-14 s on a slowed browser (the /network run must
end and the component's 400 KB script load), which a shorter wait reads as a missed click. This
test waits long enough for a slow run and fails on any load where one click is not enough.
"""
from __future__ import annotations

import re

import pytest

from tests.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser

LOADS = 20


def test_draw_shows_the_canvas_after_one_click_on_fresh_network_pages(app_url, browser):
    missing = []
    for i in range(LOADS):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        try:
            page.goto(app_url + "/network")
            page.get_by_text("Prediction:").first.wait_for(timeout=120_000)
            wait_for_app(page)
            group = page.locator("[data-testid=stSidebar] [data-testid=stButtonGroup]").first
            group.get_by_role("radio", name=re.compile("Draw")).click()
            try:   # long enough for a slow rerun of /network; a canvas that never mounts stays away
                page.locator("[data-testid=stSidebar] canvas.upper-canvas").wait_for(
                    state="visible", timeout=45_000)
            except Exception:
                missing.append(i)
                screenshot(page, f"draw_canvas_missing_{i}")
        finally:
            context.close()
    assert not missing, f"no canvas after one click on Draw in loads {missing} of {LOADS}"
