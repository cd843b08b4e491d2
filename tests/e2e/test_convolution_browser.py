"""The convolution page's own controls in real Chromium: typing kernel cells, clicking pictures."""
from __future__ import annotations

import re

import pytest

from conftest import main_text, screenshot, settle

pytestmark = pytest.mark.browser
OUTPUT_VALUE = re.compile(r"Output value\s+(-?[\d.]+)")
POSITION = re.compile(r"Output at row (\d+), column (\d+)")


def test_typed_kernel_cells_change_the_sum_and_a_bad_one_is_named(app_url, page):
    page.goto(f"{app_url}/convolution?kernel=box-blur")
    settle(page)
    assert "Weights add up to 1." in main_text(page)
    cells = page.get_by_label(re.compile(r"kernel row \d, column \d"))
    assert cells.count() == 9
    before = float(OUTPUT_VALUE.search(main_text(page)).group(1))

    centre = page.get_by_label("kernel row 2, column 2")
    centre.fill("2")
    centre.press("Enter")                    # commits the cell and moves to the next one
    settle(page)
    text = main_text(page)
    assert "Weights add up to 2.889." in text
    after = float(OUTPUT_VALUE.search(text).group(1))
    assert after != before
    assert "✓ the same number" in text       # the step-through sum still equals the map's value

    centre.fill("two")
    centre.press("Tab")
    settle(page)
    alert = page.locator("[data-testid=stAlert]").filter(has_text="row 2, column 2")
    assert alert.count() == 1 and "last valid kernel" in alert.inner_text()
    assert float(OUTPUT_VALUE.search(main_text(page)).group(1)) == after
    screenshot(page, "convolution-kernel-grid")


def test_a_click_on_the_output_picks_that_position(app_url, page):
    page.goto(f"{app_url}/convolution?row=0&col=0")
    settle(page)
    assert POSITION.search(main_text(page)).groups() == ("0", "0")
    pictures = page.get_by_alt_text(re.compile("Click to pick"))
    assert pictures.count() == 2                # the input with its window, and the output
    output = pictures.nth(1)
    box = output.bounding_box()
    output.click(position={"x": box["width"] * 0.75, "y": box["height"] * 0.5})
    settle(page)
    row, col = (int(v) for v in POSITION.search(main_text(page)).groups())
    # the 26 × 26 map drawn square: three quarters across, half way down
    assert abs(col - 19) <= 1 and abs(row - 13) <= 1, (row, col)
    assert "✓ the same number" in main_text(page)
