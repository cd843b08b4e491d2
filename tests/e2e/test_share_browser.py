"""Sharing a view as a teacher would, in real Chromium: copy the link, open it elsewhere, present, export."""
from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from conftest import main_text, screenshot, settle

pytestmark = pytest.mark.browser


def _set_slider(page, label: str, value: int) -> None:
    """Arrow keys, one step at a time: each step reruns the page, so wait for it before the next."""
    thumb = page.locator("[data-testid=stSlider]").filter(has_text=label).locator("input[type=range]").first
    for _ in range(20):
        now = int(thumb.input_value())
        if now == value:
            return
        thumb.focus()
        thumb.press("ArrowRight" if value > now else "ArrowLeft")
        page.wait_for_timeout(400)
        settle(page)
    raise AssertionError(f"the {label} slider did not reach {value}")


def _copy_link(page) -> str:
    page.locator("#cz-copy").click()
    page.wait_for_function("document.querySelector('#cz-copy').innerText.includes('copied')", timeout=5_000)
    return page.evaluate("navigator.clipboard.readText()")


def test_a_copied_link_reproduces_the_view_in_a_fresh_browser(app_url, browser):
    teacher = browser.new_context(viewport={"width": 1400, "height": 1600})
    teacher.grant_permissions(["clipboard-read", "clipboard-write"])
    page = teacher.new_page()
    page.goto(f"{app_url}/convolution")
    settle(page)
    page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.click()
    page.get_by_role("option", name="Photo: Cat").click()
    settle(page)
    _set_slider(page, "Stride", 3)
    page.get_by_text("same: output size").click()
    settle(page)
    page.wait_for_url(re.compile(r"padding=same"), timeout=10_000)
    view = re.search(r"Input \d+ × \d+ → kernel \d+ × \d+ → output \d+ × \d+", main_text(page)).group(0)
    assert view == "Input 32 × 32 → kernel 3 × 3 → output 11 × 11"
    link = _copy_link(page)
    assert "stride=3" in link and "padding=same" in link and "image=cifar-cat" in link
    teacher.close()

    student = browser.new_context(viewport={"width": 1400, "height": 1600})
    fresh = student.new_page()
    fresh.goto(link)
    settle(fresh)
    assert view in main_text(fresh)
    assert "sample: Cat" in fresh.locator("[data-testid=stSidebar]").inner_text()
    assert fresh.locator("[data-testid=stException]").count() == 0
    screenshot(fresh, "shared-link-convolution")
    student.close()


def test_presentation_mode_hides_the_sidebar_and_keeps_the_picture(app_url, page):
    page.goto(f"{app_url}/pooling?present=1&mode=avg")
    settle(page)
    assert not page.locator("[data-testid=stSidebar]").is_visible()
    assert page.locator("[data-testid=stMain] img").count() >= 2          # the pooled pictures stay
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "20px"
    assert not page.get_by_text("Pooled values (CSV)").is_visible()        # secondary controls hidden
    screenshot(page, "presentation-pooling")
    page.locator("[data-testid=stCheckbox]").filter(has_text="Present").locator("label").click()   # the way back
    settle(page)
    assert page.locator("[data-testid=stSidebar]").is_visible()
    assert "present=1" not in page.url and "mode=avg" in page.url


def test_exports_download_real_files(app_url, page):
    page.goto(f"{app_url}/convolution?kernel=sobel-y")
    settle(page)
    with page.expect_download() as got:
        page.get_by_role("button", name="Feature map (PNG)").click()
    img = Image.open(got.value.path())
    assert img.format == "PNG" and min(img.size) >= 28
    with page.expect_download() as got:
        page.get_by_role("button", name="Kernel (CSV)").click()
    kernel = np.loadtxt(got.value.path(), delimiter=",")
    assert kernel.tolist() == [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]

    page.goto(f"{app_url}/network?net=mnist&layer=conv1")
    settle(page)
    with page.expect_download() as got:
        page.get_by_role("button", name=re.compile(r"All \d+ maps")).click()
    with zipfile.ZipFile(got.value.path()) as z:
        names = z.namelist()
        maps = np.load(io.BytesIO(z.read(next(n for n in names if n.endswith(".npy")))))
        pngs = [n for n in names if n.endswith(".png")]
    assert maps.ndim == 3 and len(pngs) == maps.shape[-1] == 32
