"""In a real Chromium, every <img> of every page has a text alternative made from its numbers, the
"as numbers" tables start collapsed, and the prediction is said through a live region."""
import re

import pytest

from conftest import screenshot, settle

PAGES = ["home", "lesson", "convolution", "activations", "pooling", "conv1d", "more-convolutions", "network", "train"]
NOT_MEANINGFUL = {"", "image", "picture", "img", "chart", "0", "1"}

pytestmark = pytest.mark.browser

# Components draw inside shadow roots, which querySelectorAll does not enter: walk them too.
DEEP_JS = """(selector) => { const out = []; const walk = (root) => { for (const el of root.querySelectorAll('*')) {
    if (el.matches(selector)) out.push({alt: el.getAttribute('alt'), text: el.textContent,
                                        src: (el.getAttribute('src') || '').slice(0, 60)});
    if (el.shadowRoot) walk(el.shadowRoot); } }; walk(document); return out; }"""


@pytest.mark.parametrize("path", PAGES)
def test_every_img_says_what_it_shows(app_url, browser, path):
    context = browser.new_context(viewport={"width": 1400, "height": 3000})
    page = context.new_page()
    try:
        page.goto(f"{app_url}/{path}")
        settle(page)
        page.wait_for_timeout(1500)   # components draw their pictures after the run
        found = page.evaluate(DEEP_JS, "img")
        assert found, f"/{path} shows no picture"
        for img in found:
            alt = (img["alt"] or "").strip()
            assert alt.lower() not in NOT_MEANINGFUL and re.search(r"\d", alt), (path, img)
        charts = page.locator("[data-testid=stPlotlyChart]")
        for i in range(charts.count()):   # a chart is a role="figure" named by its summary
            label = charts.nth(i).get_attribute("aria-label") or ""
            assert charts.nth(i).get_attribute("role") == "figure" and re.search(r"\d", label), (path, label)
        details = page.locator("[data-testid=stExpander] details")
        for i in range(details.count()):
            if details.nth(i).locator("summary").inner_text().strip().endswith("as numbers"):
                assert details.nth(i).get_attribute("open") is None, path
        if path == "network":
            said = [s["text"] for s in page.evaluate(DEEP_JS, "[role=status][aria-live=polite]")]
            assert any(s.startswith("Prediction: ") and "; next " in s for s in said), said
        screenshot(page, f"alt-{path}")
    finally:
        context.close()


WATCH_JS = """() => { const find = (root) => { for (const el of root.querySelectorAll('*')) {
    if (el.matches('[role=status][aria-live=polite]')) return el;
    if (el.shadowRoot) { const f = find(el.shadowRoot); if (f) return f; } } return null; };
  const region = find(document); window.__said = [];
  new MutationObserver(() => window.__said.push(region.textContent))
    .observe(region, {childList: true, characterData: true, subtree: true});
  return region.textContent; }"""


def test_the_prediction_is_said_once_per_change(app_url, browser):
    """A rerun that keeps the prediction (another colour scale) says nothing; a new picture's
    prediction is said once."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    try:
        page.goto(f"{app_url}/network")
        settle(page)
        assert page.evaluate(WATCH_JS).startswith("Prediction: 3 with")
        page.get_by_text("each map its own", exact=True).first.click()   # another colour scale
        settle(page)
        assert page.evaluate("() => window.__said") == []
        page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.click()
        page.get_by_role("option", name="Handwritten 8").click()
        settle(page)
        said = page.evaluate("() => window.__said")
        assert len(said) == 1 and said[0].startswith("Prediction: 8 with"), said
    finally:
        context.close()
