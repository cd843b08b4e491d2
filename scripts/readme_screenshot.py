"""Take the README's screenshot of the convolution page: python scripts/readme_screenshot.py"""
import pathlib
import sys

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS, start_streamlit, wait_for_app  # noqa: E402


def main(out=ROOT / "docs" / "convolution.png"):
    proc, url = start_streamlit(ROOT / "app.py")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            page.goto(url + "/convolution")
            wait_for_app(page, timeout=90_000)
            page.wait_for_timeout(2000)
            wait_for_app(page, timeout=90_000)
            page.screenshot(path=str(out))
            browser.close()
    finally:
        proc.terminate()
    print(out)


if __name__ == "__main__":
    main()
