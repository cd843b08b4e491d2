"""Open every page in a real Chromium: no exception, and a screenshot of each to look at."""
import pytest

from cnnviz.ui import page_list
from conftest import screenshot, wait_for_app

PAGES = ["home", *(p.url_path for p in page_list.NAVIGATION)]   # in the navigation's order

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", PAGES)
def test_page_opens_without_exception(app_url, page, path):
    elsewhere = []   # a public demo's visitors are not sent to other hosts (fonts, icons, CDNs)
    page.on("request", lambda r: elsewhere.append(r.url)
            if not r.url.startswith((app_url, "data:", "blob:")) else None)
    page.goto(f"{app_url}/{path}")
    wait_for_app(page, timeout=90_000)
    page.wait_for_timeout(1500)  # let charts and components finish drawing
    wait_for_app(page, timeout=90_000)
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stMain] h1").count() >= 1
    assert not elsewhere, f"/{path} asked other hosts for {elsewhere}"
    screenshot(page, f"page-{path}")


def test_sidebar_navigation_reaches_every_page(app_url, page):
    page.goto(app_url)
    wait_for_app(page)
    nav = page.locator("[data-testid=stSidebarNav] a")
    assert nav.count() == len(PAGES)
    for i in range(nav.count()):
        nav.nth(i).click()
        wait_for_app(page, timeout=90_000)
        assert page.locator("[data-testid=stException]").count() == 0
    assert page.url.split("?")[0].rstrip("/").endswith("/" + PAGES[-1])
