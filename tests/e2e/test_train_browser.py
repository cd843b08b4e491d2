"""/train in a real Chromium against `streamlit run`: build a network, train it in a worker
process, watch the curves move, stop it, download it and open it in the network explorer.

The server has no CNNVIZ_DATA, so it trains on the starter subset shipped in pretrained/starter
(as a fresh offline machine would).
"""
import re
import zipfile

import pytest

from conftest import main_text, screenshot, settle, wait_for_app

pytestmark = pytest.mark.browser


def step_now(page) -> int:
    found = re.search(r"Step ([\d,]+) of", main_text(page))
    return int(found.group(1).replace(",", "")) if found else -1


def test_build_train_stop_download_and_explore(app_url, page, tmp_path):
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(f"{app_url}/train")
    settle(page)
    text = main_text(page)
    assert "starter subset shipped with cnnviz" in text and "Total" in text
    layers_before = page.locator("[class*='st-key-train_layer_']").count()

    # Build: add a Conv2D (it goes before Flatten) and see Keras's summary follow.
    page.get_by_role("button", name="Add", exact=True).click()
    settle(page)
    assert page.locator("[class*='st-key-train_layer_']").count() == layers_before + 1
    assert "conv2d_3 (Conv2D)" in main_text(page)

    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("20")
    epochs.press("Enter")
    settle(page)

    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_function("document.body.innerText.match(/Step [1-9][\\d,]* of/)", timeout=90_000)
    first = step_now(page)
    assert first > 0
    # the view follows training by itself: the step shown moves on without any click
    page.wait_for_function("(first) => { const m = document.body.innerText.match(/Step ([\\d,]+) of/);"
                           " return m && Number(m[1].replace(/,/g, '')) > first; }", arg=first,
                           timeout=60_000)
    assert page.locator("[data-testid=stMain] .js-plotly-plot").count() >= 3   # loss, accuracy, gradients
    screenshot(page, "train-running")

    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text("Test accuracy", exact=True).wait_for(timeout=90_000)
    settle(page)
    text = main_text(page)
    assert "Stopped early" in text and "Confusion matrix" in text
    assert page.locator("[data-testid=stException]").count() == 0
    screenshot(page, "train-finished")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download the model (.keras)").click()
    download = info.value
    assert download.suggested_filename.endswith(".keras")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as z:               # a .keras file is a zip with the config inside
        assert "config.json" in z.namelist()

    page.get_by_role("button", name="Explore in the network explorer").click()
    page.wait_for_url(re.compile(r".*/network.*"), timeout=90_000)
    wait_for_app(page, timeout=90_000)
    page.get_by_text("The network you trained on /train").wait_for(timeout=90_000)
    assert page.locator("[data-testid=stException]").count() == 0
    screenshot(page, "train-explored")
