"""axe-core (the copy bundled with axe-playwright-python, no network) run on a real page, and the
keyboard helpers the accessibility tests share."""
from __future__ import annotations

import pytest

# The rules of WCAG 2.1 A and AA, as axe-core tags them.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_problems(page, impacts=("critical", "serious")) -> list[str]:
    """One line per axe-core violation of `impacts`: rule, impact, count, the first element."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    result = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA},
                                    "resultTypes": ["violations"]})
    return [f"{v['id']} ({v['impact']}) x{len(v['nodes'])}: {v['nodes'][0]['html'][:160]} "
            f"{(v['nodes'][0].get('any') or v['nodes'][0].get('all') or [{}])[0].get('message', '')[:200]}"
            for v in result.response["violations"] if v["impact"] in impacts]


def focused(locator) -> bool:
    """Whether the element (in the page or in a component's shadow root) holds the focus."""
    return locator.evaluate("e => e.getRootNode().activeElement === e || e.contains(document.activeElement)")


def tab_to(page, locator, most: int = 120, back: bool = False) -> int:
    """Press Tab (Shift+Tab with back) until `locator` has the focus; the number of presses."""
    for n in range(1, most + 1):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if focused(locator):
            return n
    raise AssertionError(f"{most} presses of Tab never reached {locator}")


def focus_ring(page) -> str:
    """The outline of the focused element or of the nearest ancestor that draws one ('' if none)."""
    return page.evaluate("""() => {
      let e = document.activeElement;
      while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
      for (; e && e !== document.body; e = e.parentElement || (e.getRootNode() && e.getRootNode().host)) {
        const s = getComputedStyle(e);
        if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) return s.outlineWidth + ' ' + s.outlineColor;
      }
      return '';
    }""")
