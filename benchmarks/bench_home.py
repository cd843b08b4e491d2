"""First render of Home in headless Chromium vs a one-line Streamlit app, same run.

Goal (issue A): Home <= 1.5x the one-line app. Prints medians and the ratio.
Usage: python benchmarks/bench_home.py [ROUNDS]
"""
import sys
import tempfile

from playwright.sync_api import sync_playwright

from _browser import ROOT, first_render_ms, launch, median, start_streamlit

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 9


def main():
    with tempfile.TemporaryDirectory() as tmp:
        one_line = ROOT / "benchmarks" / "_one_line_app.py"
        one_line.write_text('import streamlit as st\nst.title("Hello")\n')
        servers = [start_streamlit(ROOT / "app.py"), start_streamlit(one_line, cwd=tmp)]
        try:
            (_, app_url), (_, ref_url) = servers
            with sync_playwright() as p:
                browser = launch(p)
                # Warm both servers (first script run compiles, caches fill).
                first_render_ms(browser, app_url, "h1")
                first_render_ms(browser, ref_url, "h1")
                home, ref = [], []
                for _ in range(ROUNDS):  # alternate so noise hits both alike
                    home.append(first_render_ms(browser, app_url, "h1"))
                    ref.append(first_render_ms(browser, ref_url, "h1"))
                browser.close()
        finally:
            for proc, _ in servers:
                proc.terminate()
            one_line.unlink(missing_ok=True)
    print(f"Home first render:          median {median(home):7.0f} ms over {ROUNDS}")
    print(f"one-line app first render:  median {median(ref):7.0f} ms")
    print(f"ratio: {median(home) / median(ref):.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    main()
