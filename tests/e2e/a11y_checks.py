"""axe-core (the copy bundled with axe-playwright-python, no network) run on a real page, and the
keyboard helpers the accessibility tests share."""
from __future__ import annotations

import pytest

# The rules of WCAG 2.1 A and AA, as axe-core tags them, and its best practices.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHECKED_TAGS = [*WCAG_21_AA, "best-practice"]
# The page's structure (WCAG 1.3.1, 2.4.1, 3.1.1): reported at any impact, even "moderate".
STRUCTURE_RULES = {"heading-order", "page-has-heading-one", "empty-heading", "landmark-one-main",
                   "landmark-unique", "region", "bypass", "skip-link", "html-has-lang", "html-lang-valid"}


def axe_problems(page, impacts=("critical", "serious")) -> list[str]:
    """One line per axe-core violation of `impacts`, or of a STRUCTURE_RULES rule at any impact:
    rule, impact, count, the first element."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    result = axe.run(page, options={"runOnly": {"type": "tag", "values": CHECKED_TAGS},
                                    "resultTypes": ["violations"]})
    violations = [_outside_the_overlay(v) for v in result.response["violations"]]
    return [f"{v['id']} ({v['impact']}) x{len(v['nodes'])}: {v['nodes'][0]['html'][:160]} "
            f"{(v['nodes'][0].get('any') or v['nodes'][0].get('all') or [{}])[0].get('message', '')[:200]}"
            for v in violations if v["nodes"] and (v["impact"] in impacts or v["id"] in STRUCTURE_RULES)]


# Streamlit's portal for tooltips and popovers (a help tooltip open under the pointer after a
# click): its content belongs to the control that opened it (aria-describedby), not to a region.
OVERLAY = "#stFloatingOverlayPortal"


def _outside_the_overlay(violation: dict) -> dict:
    """`region` without the overlay portal's node; every other rule as axe found it."""
    if violation["id"] != "region":
        return violation
    return {**violation, "nodes": [n for n in violation["nodes"] if n.get("target") != [OVERLAY]]}


def headings(page) -> list[tuple[int, str]]:
    """(level, text) of the headings a reader meets in the main area, in reading order."""
    return [(int(tag[1]), text) for tag, text in page.locator("[data-testid=stMain]").evaluate("""m =>
      [...m.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter(h => h.getClientRects().length)
        .map(h => [h.tagName, h.innerText.trim().slice(0, 80)])""")]


def heading_problems(page) -> list[str]:
    """What is wrong with the page's outline: not exactly one h1, the main area not opening with
    it, or a heading more than one level below the heading before it (h2 -> h4)."""
    found = headings(page)
    problems = []
    ones = page.locator("h1").count()
    if ones != 1:
        problems.append(f"{ones} h1 on the page")
    if not found or found[0][0] != 1:
        problems.append(f"the main area opens with {found[0] if found else 'no heading'}, not its h1")
    problems += [f"h{a} {ta!r} -> h{b} {tb!r} skips a level"
                 for (a, ta), (b, tb) in zip(found, found[1:]) if b > a + 1]
    return problems


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


# The element that draws the focus ring: an element with an outline of 2 px or more that is not
# clipped away (a control hidden in a 1 px clip shows nothing), found in the focused element or
# in the widget around it (a switch's hidden input rings the track beside it), nearest first.
_RINGED = """
      const up = e => e.parentElement || (e.getRootNode() && e.getRootNode().host);
      const clipped = e => { for (let a = e; a && a !== document.body; a = up(a)) {
          const r = a.getBoundingClientRect(), s = getComputedStyle(a);
          if ((s.overflow !== 'visible' || s.clip !== 'auto') && (r.width < 4 || r.height < 4)) return true; }
        return false; };
      const ring = e => { const s = getComputedStyle(e);
        return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 && !clipped(e); };
      let e = document.activeElement;
      while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
      let ringed = null;
      for (let depth = 0; e && e !== document.body && depth < 6 && !ringed; e = up(e), depth++)
        ringed = [e, ...e.querySelectorAll('*')].find(ring) || null;
"""


def focus_ring(page) -> str:
    """The visible outline of the focused element or of its nearest ancestor ('' if none)."""
    return page.evaluate("() => {" + _RINGED + """
      if (!ringed) return '';
      const s = getComputedStyle(ringed);
      return s.outlineWidth + ' ' + s.outlineColor;
    }""")


def focus_ring_contrast(page) -> float:
    """WCAG contrast ratio of the focus ring (see focus_ring) against the background it is drawn
    on: the first opaque background of the ringed element's ancestors (white if none); 0: no ring."""
    return page.evaluate("() => {" + _RINGED + """
      if (!ringed) return 0;
      const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
      const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                                     .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
      let bg = [255, 255, 255];
      for (let a = up(ringed); a; a = up(a)) {
        const c = rgb(getComputedStyle(a).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) { bg = c.slice(0, 3); break; }
      }
      const [l1, l2] = [lum(rgb(getComputedStyle(ringed).outlineColor)), lum(bg)].sort((x, y) => y - x);
      return (l1 + 0.05) / (l2 + 0.05);
    }""")
