"""Digits drawn with the mouse in a real Chromium, classified on /network by the trained model.

Each digit is drawn at a different size, place and pen width; at least 9 of 10 must be
recognised. Screenshots go to artifacts/drawn_digit_<d>.png.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from tests.conftest import screenshot, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _arc(cx, cy, rx, ry, a0, a1, n=24):
    t = np.radians(np.linspace(a0, a1, n))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


def _fig8(n=60):
    t = np.linspace(0, 2 * np.pi, n)
    return list(zip(0.5 + 0.28 * np.sin(2 * t), 0.5 - 0.45 * np.cos(t)))


# Strokes in a unit box (x right, y down), one list of points per stroke.
GLYPHS = {
    0: [_arc(0.5, 0.5, 0.3, 0.45, -90, 275, 40)],
    1: [[(0.38, 0.18), (0.55, 0.03), (0.55, 0.97)]],
    2: [_arc(0.5, 0.3, 0.3, 0.25, 190, 370, 16) + [(0.72, 0.5), (0.2, 0.95), (0.85, 0.95)]],
    3: [_arc(0.5, 0.27, 0.3, 0.22, 200, 450, 20) + _arc(0.5, 0.72, 0.33, 0.23, -90, 160, 20)],
    4: [[(0.3, 0.05), (0.2, 0.58), (0.85, 0.58)], [(0.68, 0.15), (0.68, 0.97)]],
    5: [[(0.8, 0.05), (0.28, 0.05), (0.24, 0.45)] + _arc(0.48, 0.68, 0.32, 0.27, -120, 150, 20)],
    6: [[(0.7, 0.03), (0.45, 0.25), (0.28, 0.55)] + _arc(0.5, 0.72, 0.24, 0.24, 180, 540, 28)],
    7: [[(0.15, 0.06), (0.85, 0.06), (0.4, 0.97)]],
    8: [_fig8()],
    9: [_arc(0.48, 0.3, 0.24, 0.24, 0, -360, 28) + [(0.72, 0.32), (0.68, 0.97)]],
}

# (digit size as a fraction of the canvas, centre x, centre y, pen width)
LAYOUTS = [(0.75, 0.5, 0.5, 18), (0.6, 0.4, 0.45, 14), (0.85, 0.5, 0.5, 24), (0.5, 0.62, 0.6, 12),
           (0.7, 0.45, 0.55, 20), (0.65, 0.55, 0.42, 16), (0.8, 0.5, 0.52, 26), (0.55, 0.38, 0.6, 14),
           (0.72, 0.58, 0.48, 22), (0.62, 0.5, 0.4, 18)]


def sidebar(page):
    return page.locator("[data-testid=stSidebar]")


def set_pen_width(page, width: int) -> None:
    """The sidebar's "Pen width" slider, moved with the arrow keys."""
    thumb = sidebar(page).locator("[data-testid=stSlider] input[type=range]").first
    thumb.wait_for(state="attached")
    now = int(thumb.input_value())
    if now == width:
        return
    thumb.focus()
    key = "ArrowRight" if width > now else "ArrowLeft"
    for _ in range(abs(width - now)):
        thumb.press(key)
    page.wait_for_function(
        "(w) => document.querySelector('[data-testid=stSidebar] [data-testid=stSlider] "
        "input[type=range]').value == String(w)", arg=width, timeout=10_000)
    page.wait_for_timeout(400)
    wait_for_app(page)


def draw(page, strokes, size, cx, cy) -> None:
    canvas = page.locator("canvas.upper-canvas")
    canvas.wait_for(timeout=30_000)
    box = canvas.bounding_box()
    w, h = box["width"], box["height"]
    for stroke in strokes:
        pts = np.asarray(stroke, dtype=float)
        # resample every ~3 px so fabric's free drawing gets a smooth line
        seg = np.hypot(*np.diff(pts, axis=0).T) * size * w
        dense = [pts[0]]
        for (a, b), n in zip(zip(pts[:-1], pts[1:]), seg):
            k = max(1, int(n / 3))
            dense += [a + (b - a) * (i / k) for i in range(1, k + 1)]
        px = [(box["x"] + (cx + (p[0] - 0.5) * size) * w, box["y"] + (cy + (p[1] - 0.5) * size) * h)
              for p in dense]
        page.mouse.move(*px[0])
        page.mouse.down()
        for p in px[1:]:
            page.mouse.move(*p)
        page.mouse.up()


def main_images(page) -> str:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('[data-testid=stMain] img')).map(i => i.src).join(' ')")


def prediction(page) -> str:
    text = page.locator("[data-testid=stMain]").inner_text()
    m = re.search(r"Prediction: (.+?) \((\d+(?:\.\d)?)%\)", text)
    assert m, "no 'Prediction:' on the page"
    return m.group(1)


def test_drawn_digits_are_recognised(app_url, page):
    page.set_default_timeout(60_000)
    page.goto(app_url + "/network")
    page.get_by_text("Prediction:").first.wait_for(timeout=120_000)
    wait_for_app(page)
    sidebar(page).locator("[data-testid=stButtonGroup]").first.get_by_role(
        "radio", name=re.compile("Draw")).click()
    wait_for_app(page)

    results = {}
    for digit, (size, cx, cy, pen) in zip(range(10), LAYOUTS):
        set_pen_width(page, pen)
        sidebar(page).get_by_role("button", name=re.compile("Clear")).click()
        wait_for_app(page)
        before = main_images(page)
        draw(page, GLYPHS[digit], size, cx, cy)
        page.wait_for_function(
            "(before) => Array.from(document.querySelectorAll('[data-testid=stMain] img'))"
            ".map(i => i.src).join(' ') !== before", arg=before, timeout=60_000)
        wait_for_app(page)
        select = page.locator("[data-testid=stMain] [data-testid=stSelectbox]").first
        label = select.text_content() + " " + (select.locator("input").first.get_attribute("value") or "")
        assert "Digits (MNIST)" in label, f"the digits model should be selected for drawings, not {label!r}"
        results[digit] = prediction(page)
        screenshot(page, f"drawn_digit_{digit}")
        assert page.locator("[data-testid=stException]").count() == 0

    right = [d for d, p in results.items() if p == str(d)]
    print("drawn digit -> prediction:", results)
    assert len(right) >= 9, f"recognised only {len(right)} of 10: {results}"
