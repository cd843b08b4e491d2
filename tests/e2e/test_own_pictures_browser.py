"""/train's "Your own pictures" in a real Chromium against `streamlit run`: upload a zip of two
classes of drawn shapes, train a network on them in a worker process, read the per-class accuracy,
open it in the network explorer with the class names and draw something for it in the sidebar.
axe-core (WCAG 2.1 A/AA) finds nothing critical or serious in each new state."""
import io
import math
import re
import zipfile

import pytest
from PIL import Image

from a11y_checks import axe_problems
from conftest import main_text, screenshot, settle, wait_for_app
from test_drawn_digits import draw, prediction, sidebar

from cnnviz import own_pictures

pytestmark = pytest.mark.browser

CLASSES = ("circle", "square")


def shapes_zip(path, n_per_class: int = 16) -> None:
    """A zip with a folder per class of shapes own_pictures.shapes draws (random size, turn, colour)."""
    drawn = own_pictures.shapes(n_per_class, seed=3)
    with zipfile.ZipFile(path, "w") as z:
        for i, (image, label) in enumerate(zip(drawn.images, drawn.labels)):
            if drawn.class_names[label] in CLASSES:
                buf = io.BytesIO()
                Image.fromarray(image).save(buf, "PNG")
                z.writestr(f"my shapes/{drawn.class_names[label]}/{i}.png", buf.getvalue())


def test_zip_of_two_classes_train_and_explore(app_url, page, tmp_path):
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.goto(f"{app_url}/train?data=own")
    settle(page)
    assert "not written to disk" in main_text(page)
    assert axe_problems(page) == []

    archive = tmp_path / "shapes.zip"
    shapes_zip(archive)
    uploader = page.locator("[data-testid=stFileUploader]").filter(has_text=".zip")
    uploader.locator("input[type=file]").set_input_files(str(archive))
    page.get_by_text("32 of 1,000 pictures in 2 classes").wait_for(timeout=60_000)
    settle(page)
    text = main_text(page)
    assert "16 pictures of ‘circle’" in text and "16 pictures of ‘square’" in text
    assert "Held out: 20% of each class, 6 pictures (3 of ‘circle’, 3 of ‘square’)" in text
    assert page.locator("img[alt^='Picture 1 of circle']").count() == 1
    assert axe_problems(page) == []

    # One more picture of 'circle', drawn on the page's canvas.
    page.locator("[data-testid=stMain]").get_by_role("radio", name=re.compile("Draw")).click()
    settle(page)
    draw(page, [[(0.5 + 0.35 * math.cos(a / 10), 0.5 + 0.35 * math.sin(a / 10)) for a in range(64)]], 0.8, 0.5, 0.5)
    settle(page)
    page.get_by_role("button", name="Add to circle").click()
    page.get_by_text("Added 1 drawing to ‘circle’").wait_for(timeout=60_000)
    settle(page)
    assert "17 pictures of ‘circle’" in main_text(page)
    screenshot(page, "own-pictures-two-classes")

    page.get_by_role("button", name="Start", exact=True).click()
    page.get_by_text("Held-out accuracy", exact=True).wait_for(timeout=240_000)
    settle(page)
    text = main_text(page)
    assert "Right per class" in text and "Confusion matrix" in text
    assert re.search(r"‘circle’: \d of 3 right; ‘square’: \d of 3 right", text), text[-2000:]
    assert page.locator("[data-testid=stException]").count() == 0
    assert axe_problems(page) == []
    screenshot(page, "own-pictures-finished")

    page.get_by_role("button", name="Explore in the network explorer").click()
    page.wait_for_url(re.compile(r".*/network.*"), timeout=90_000)
    page.get_by_text("Your classes: ‘circle’, ‘square’").wait_for(timeout=90_000)
    wait_for_app(page)
    assert prediction(page) in CLASSES
    # The sidebar's drawing goes to the network trained on the user's classes.
    sidebar(page).locator("[data-testid=stButtonGroup]").first.get_by_role(
        "radio", name=re.compile("Draw")).click()
    wait_for_app(page)
    draw(page, [[(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8), (0.2, 0.2)]], 0.8, 0.5, 0.5)
    page.wait_for_function("() => document.body.innerText.includes('drawing')", timeout=60_000)
    settle(page)
    assert prediction(page) in CLASSES
    assert page.locator("[data-testid=stException]").count() == 0
    assert axe_problems(page) == []
    screenshot(page, "own-pictures-explored")
