"""Addresses a visitor may type, in real Chromium: /home opens Home; unknown paths, however deep,
land on Home with Streamlit's "Page not found" notice instead of a blank page (cnnviz/ui/routes.py);
a page's own address connects to the server at once (cnnviz/ui/index_page.py)."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from conftest import ROOT, screenshot, start_streamlit, wait_for_app

pytestmark = pytest.mark.browser

HOME_HEADER = "Inside a convolutional neural network"
NOT_FOUND = "Page not found"


@pytest.fixture(scope="module")
def server_url():
    """A server of its own, visited once at / as any first visitor would (the redirect for deep
    paths is installed by the first script run: see routes.py)."""
    proc, url = start_streamlit(ROOT / "app.py")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def visited(server_url, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(server_url)
    wait_for_app(page, timeout=90_000)
    context.close()
    return server_url


def _open(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page, timeout=90_000)
    page.wait_for_timeout(800)
    wait_for_app(page, timeout=90_000)


def _request(url: str, accept: str) -> tuple[int, str, str]:
    """(status, Location, Content-Type) without following redirects."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers={"Accept": accept}), timeout=10) as r:
            return r.status, r.headers.get("Location", ""), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location", ""), e.headers.get("Content-Type", "")


def test_home_path_opens_home(visited, page):
    _open(page, visited + "/home")
    assert HOME_HEADER in page.locator("[data-testid=stMain]").inner_text()
    assert page.get_by_text(NOT_FOUND).count() == 0
    assert page.locator("[data-testid=stException]").all_inner_texts() == []
    assert page.url.split("?")[0].rstrip("/") == visited   # the canonical address of Home


@pytest.mark.parametrize("path", ["/nope", "/network/extra/deep", "/etc/passwd"])
def test_unknown_path_lands_on_home_with_a_notice(visited, page, path):
    _open(page, visited + path)
    assert page.get_by_text(NOT_FOUND).count() >= 1, "no 'Page not found' notice"
    assert HOME_HEADER in page.locator("[data-testid=stMain]").inner_text()
    assert page.locator("[data-testid=stException]").all_inner_texts() == []
    screenshot(page, "path" + path.replace("/", "-"))


def test_only_page_requests_are_redirected(visited):
    """Streamlit's own answers are kept: the frontend's probes of <page>/_stcore/... get 404,
    and a non-browser client still gets index.html at a deep path."""
    html = "text/html,application/xhtml+xml,*/*;q=0.8"
    status, location, _ = _request(visited + "/network/extra/deep", html)
    assert status == 302 and location.endswith("/page-not-found")
    assert _request(visited + "/network/extra/_stcore/health", "*/*")[0] == 404
    assert _request(visited + "/network/extra/_stcore/health", html)[0] == 404
    status, _, ctype = _request(visited + "/network/extra/deep", "*/*")
    assert status == 200 and ctype.startswith("text/html")
    assert _request(visited + "/_stcore/health", "*/*")[0] == 200


@pytest.mark.parametrize("path, base", [("/convolution", "/"), ("/network", "/"), ("/", None), ("/nope", None)])
def test_a_page_tells_the_browser_where_the_server_is(visited, browser, path, base):
    """On the app's pages the browser goes straight to /_stcore/..., instead of first asking
    <page>/_stcore/health (a 404) and trying the parent path after a pause; on Home and unknown
    paths Streamlit's own search is kept (the notice test above)."""
    context = browser.new_context()
    page = context.new_page()
    asked = []
    page.on("request", lambda r: asked.append(r.url[len(visited):]))
    _open(page, visited + path)
    setting = page.evaluate("window.__streamlit && window.__streamlit.BACKEND_BASE_URL")
    probes = [u for u in asked if "/_stcore/health" in u]
    context.close()
    if base is None:
        assert setting is None
        return
    assert setting == visited + base
    assert probes and all(u == "/_stcore/health" for u in probes), probes


def test_the_address_holds_under_a_path_prefix(browser):
    """Served under a prefix (server.baseUrlPath, or a proxy's path), a page's own address
    still names the right server: the prefix, not the host's root."""
    proc, url = start_streamlit(ROOT / "app.py", base_url_path="cnnviz")
    try:
        context = browser.new_context()
        page = context.new_page()
        _open(page, url + "/")   # the first visit installs the script (see index_page.py)
        asked = []
        page.on("request", lambda r: asked.append(r.url))
        _open(page, url + "/convolution")
        setting = page.evaluate("window.__streamlit && window.__streamlit.BACKEND_BASE_URL")
        main_text = page.locator("[data-testid=stMain]").inner_text()
        context.close()
    finally:
        proc.terminate()
        proc.wait(10)
    assert setting == url + "/"
    assert [u for u in asked if "/_stcore/health" in u] == [url + "/_stcore/health"]
    assert "Convolution" in main_text


def test_only_html_answers_get_the_script(visited):
    with urllib.request.urlopen(visited + "/convolution", timeout=10) as r:
        html = r.read()
        assert int(r.headers["Content-Length"]) == len(html) and r.headers.get("ETag") is None
    assert html.count(b"BACKEND_BASE_URL") == 1 and html.index(b"BACKEND_BASE_URL") < html.index(b"<title>")
    with urllib.request.urlopen(visited + "/favicon.png", timeout=10) as r:
        assert b"window.__streamlit" not in r.read()
