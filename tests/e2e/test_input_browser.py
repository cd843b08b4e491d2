"""The sidebar image input in a real browser: a real upload, drawing on the canvas, screenshots."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from cnnviz.ui import page_list
from tests.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def open_home(page, url: str) -> None:
    page.goto(url)
    page.get_by_text("Your image as the computer sees it").wait_for(timeout=60_000)
    page.locator("[data-testid=stSidebar] [data-testid=stButtonGroup]").first.wait_for()
    wait_for_app(page)
    # widgets show as skeletons until their code has loaded (slow while TensorFlow is imported)
    page.wait_for_function("() => !document.querySelector('[data-testid=stSkeleton]')",
                           timeout=60_000)


def sidebar(page):
    return page.locator("[data-testid=stSidebar]")


def choose_source(page, name: str) -> None:
    group = sidebar(page).locator("[data-testid=stButtonGroup]").first   # segmented control
    group.get_by_role("radio", name=re.compile(name)).click()
    wait_for_app(page)


def sidebar_caption(page) -> str:
    return sidebar(page).locator("[data-testid=stCaptionContainer]").last.inner_text()


def test_home_shows_the_default_sample(app_url, page):
    open_home(page, app_url)
    main = page.locator("[data-testid=stMain]")
    assert "Inside a convolutional neural network" in main.inner_text()
    assert "28 × 28" in main.inner_text()
    assert "Handwritten 3" in sidebar_caption(page)
    links = main.locator("[data-testid=stPageLink]")
    assert links.count() == len(page_list.cards())
    for card in page_list.cards():          # "1 · Convolution", "Extra: more convolutions", ...
        assert links.filter(has_text=card.step).count() == 1, card.step
    assert page.locator("[data-testid=stException]").count() == 0
    screenshot(page, "home")


def test_real_upload_changes_the_picture_and_the_shape(app_url, page, tmp_path):
    rgb = np.zeros((45, 70, 3), np.uint8)
    rgb[..., 0] = np.arange(70, dtype=np.uint8)[None, :] * 3
    path = tmp_path / "gradient.png"
    Image.fromarray(rgb).save(path)
    open_home(page, app_url)
    choose_source(page, "Upload")
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(path))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stSidebar]').innerText.includes('gradient.png')",
        timeout=30_000)
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    assert "45 × 70 × 3" in main.inner_text()
    assert "upload: gradient.png" in sidebar_caption(page)
    assert page.locator("[data-testid=stException]").count() == 0

    # the picture survives a page switch
    page.get_by_role("link", name="Convolution", exact=True).click()
    wait_for_app(page)
    assert "upload: gradient.png" in sidebar_caption(page)

    # a file that is not an image: one-line error, the picture is kept
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not a PNG")
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(bad))
    page.wait_for_selector("[data-testid=stSidebar] [data-testid=stAlertContentError]", timeout=30_000)
    wait_for_app(page)
    error = sidebar(page).locator("[data-testid=stAlertContentError] [data-testid=stMarkdownContainer]").inner_text()
    assert "Accepted: PNG, JPEG" in error and "\n" not in error.strip()
    assert "upload: gradient.png" in sidebar_caption(page)
    screenshot(page, "upload_error")


def test_drawing_on_the_canvas_becomes_the_picture(app_url, page):
    open_home(page, app_url)
    choose_source(page, "Draw")
    canvas = page.locator("canvas.upper-canvas")   # components v2: inline, not in an iframe
    canvas.wait_for(timeout=30_000)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 100
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x0 + 0.3 * w, y0 + 0.2 * h)
    page.mouse.down()
    for t in np.linspace(0, 1, 12):                 # a "7": across, then down-left
        if t < 0.5:
            page.mouse.move(x0 + (0.3 + 0.8 * t) * w, y0 + 0.2 * h)
        else:
            page.mouse.move(x0 + (0.7 - 0.4 * (t - 0.5)) * w, y0 + (0.2 + 1.3 * (t - 0.5)) * h)
    page.mouse.up()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stSidebar]').innerText.includes('drawing')",
        timeout=30_000)
    wait_for_app(page)
    assert "drawing" in sidebar_caption(page)
    main_text = page.locator("[data-testid=stMain]").inner_text()
    assert re.search(r"\d+ × \d+ \(height × width\)", main_text)
    screenshot(page, "home_drawing")

    # Clear gives an empty canvas; the picture stays the drawing until something new is drawn
    sidebar(page).get_by_role("button", name=re.compile("Clear")).click()
    wait_for_app(page)
    assert "drawing" in sidebar_caption(page)
