"""/network's newer views in a real Chromium: integrated gradients and occlusion beside saliency,
what one channel looks for, and the test set as evidence with a clickable confusion matrix.

The server has no CNNVIZ_DATA: the test set is the starter subset shipped with cnnviz.
"""
import re

import pytest

from conftest import main_text, screenshot, settle

pytestmark = pytest.mark.browser


def test_why_channels_and_test_set_views(app_url, page):
    page.set_viewport_size({"width": 1400, "height": 3000})
    page.goto(f"{app_url}/network?net=mnist")
    settle(page)
    text = main_text(page)
    assert re.search(r"The map adds up to -?[\d.]+; logit\(picture\) − logit\(baseline\) = -?[\d.]+", text)
    assert "The network ran on 169 covered copies" in text      # 28 x 28, a 4 x 4 square, step 2
    assert "What does one channel look for?" in text and "mean value" in text

    page.get_by_role("button", name="Search the 1,000 test images").click()
    page.get_by_text("Scores: the channel's largest value").wait_for(timeout=90_000)

    page.get_by_role("button", name="Run the network on the 1,000 test images").click()
    page.get_by_text("Hardest class").wait_for(timeout=90_000)
    settle(page)
    before = re.search(r"(\S+ (?:taken for \S+|answered right)): ([\d,]+) test images", main_text(page))
    assert before, main_text(page)[-2000:]
    # Click the top-left cell of the confusion picture: the 0s answered right.
    picture = page.locator("[class*='st-key-net_confusion'] img")
    picture.scroll_into_view_if_needed()
    box = picture.bounding_box()
    natural = page.evaluate("(img) => [img.naturalWidth, img.naturalHeight]", picture.element_handle())
    scale = box["width"] / natural[0]
    left = natural[0] - 10 * 50 - 2                    # the picture: class names, then 10 cells of 50 px
    top = natural[1] - 10 * 50 - 2
    page.mouse.click(box["x"] + (left + 25) * scale, box["y"] + (top + 25) * scale)
    page.get_by_text("0 answered right").wait_for(timeout=60_000)
    assert page.locator("[data-testid=stException]").count() == 0
    screenshot(page, "network-evidence")
