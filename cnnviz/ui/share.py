"""What a teacher needs to share and project a view: the link, presentation mode and exports.

Every page applies a shared link's settings (url_state.restore), then calls page_header(): the
title with "Copy link" and the presentation switch, and a line about link values not used.
In presentation mode (?present=1) the sidebar and everything inside secondary() are hidden,
type is larger and pages draw their main figures bigger (scaled()).
"""
from __future__ import annotations

import contextlib
import streamlit as st

from cnnviz.ui import url_state
from cnnviz.ui.plain_text import plain

PRESENT_KEY = "cnnviz_present"
PRESENT_SCALE = 1.35
PRESENT = url_state.flag("present", PRESENT_KEY, False)

_PRESENT_CSS = """<style>
html { font-size: 20px; }
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [class*="st-key-secondary"] { display: none !important; }
.stMainBlockContainer { padding-top: 2.5rem; max-width: 100%; }
</style>"""

_COPY_BUTTON = """<button id="cz-copy" class="cz-copy" title="Copy the address of this view, with its settings">
<span>Copy link</span></button>
<style>.cz-copy { font: inherit; font-size: 0.9rem; padding: 0.3rem 0.75rem; border-radius: 0.5rem;
border: 1px solid rgba(49, 51, 63, 0.2); background: white; cursor: pointer; white-space: nowrap; }
.cz-copy:hover { border-color: #ff4b4b; color: #ff4b4b; }</style>
<script>(() => {
  // One listener for the whole document, added once: a rerun that redraws the button (or briefly
  // shows the old and the new one) never leaves a button without it.
  if (window.czCopyReady) return;
  window.czCopyReady = true;
  const done = (label, text) => { label.textContent = text; setTimeout(() => { label.textContent = 'Copy link'; }, 2500); };
  document.addEventListener('click', (event) => {
    const b = event.target.closest && event.target.closest('.cz-copy');
    if (!b) return;
    const label = b.querySelector('span');
    const link = new URL(window.location.href);   // a class member's secret stays here
    ['key', 'seat'].forEach((name) => link.searchParams.delete(name));
    const url = link.toString();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(() => done(label, 'Link copied ✓'), () => done(label, 'Copy the address bar'));
    } else {   // plain http on a classroom server: the old way still works
      const t = document.createElement('textarea');
      t.value = url; document.body.appendChild(t); t.select();
      const ok = document.execCommand('copy'); t.remove();
      done(label, ok ? 'Link copied ✓' : 'Copy the address bar');
    }
  });
})();</script>"""


def presenting() -> bool:
    return bool(st.session_state.get(PRESENT_KEY))


def scaled(px: int) -> int:
    """A figure size in pixels, larger in presentation mode."""
    return round(px * PRESENT_SCALE) if presenting() else px


def apply_presentation_style() -> None:
    if presenting():
        st.html(_PRESENT_CSS)


@contextlib.contextmanager
def secondary(name: str):
    """A block hidden in presentation mode (its widgets keep their values); name: unique per page."""
    with st.container(key=f"secondary_{name}"):
        yield


def intro(text: str) -> None:
    """A page's opening explanation: hidden in presentation mode, where the teacher talks."""
    with secondary("intro"):
        st.markdown(text)


def plotly_config(file_stem: str) -> dict:
    """Chart options: the camera button downloads the chart as a PNG twice the size on screen."""
    return {"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": file_stem,
                                                            "scale": 2}}


def page_header(title: str) -> None:
    """The title with "Copy link" and the presentation switch; link values that were refused."""
    head, tools = st.columns([5, 2], vertical_alignment="bottom")
    head.title(title)
    with tools, st.container(horizontal=True, horizontal_alignment="right", gap="small",
                             vertical_alignment="center"):
        st.html(_COPY_BUTTON, unsafe_allow_javascript=True, width="content")
        st.toggle("Present", key=PRESENT_KEY,
                  help="Presentation mode for a projector: larger type and figures, the sidebar "
                       "and secondary controls hidden. The link keeps it (?present=1), so you can "
                       "prepare one link per slide.")
    problems = url_state.take_problems()
    if problems:
        st.warning(plain(problems), icon=":material/link_off:")
