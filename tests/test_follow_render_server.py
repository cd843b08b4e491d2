"""Followers of one view on a real `streamlit run app.py` (cnnviz.ui.follow_render): the second
follower of a view is sent the first one's recording, through the server's event loop in one
hop (compat.streamlit_replay), and its page is the first one's, element for element (pictures
served to it, its downloads its own); its widgets then work as after its own run."""
from __future__ import annotations

import re
import sys

from conftest import ROOT, run_async

sys.path.insert(0, str(ROOT / "benchmarks"))
import loadgen  # noqa: E402

VIEW = "stride=2&kernel=box-blur&follow=9001"   # a run the watcher started, at view 9001


def _ok(r: loadgen.RunResult) -> None:
    assert r.ok, f"{r.page} {r.action}: status {r.status}, errors {r.errors}, exceptions {r.exceptions}"


def _shown(s: loadgen.StreamlitSession) -> list[tuple[tuple, str]]:
    """The page as its elements, a deferred download's id masked (each session has its own)."""
    return sorted((path, re.sub(r"[0-9a-f]{32}", "ID", str(el))) for path, el in s.elements.items())


def _downloads(s: loadgen.StreamlitSession) -> set[str]:
    """The placeholder ids of the page's deferred downloads (run when clicked)."""
    return {el.download_button.deferred_file_id for el in s.elements.values()
            if el.WhichOneof("type") == "download_button" and el.download_button.deferred_file_id}


def test_the_second_follower_of_a_view_shows_the_first_ones_page_and_it_works(app_url):
    async def scenario():
        first, second = (loadgen.StreamlitSession(app_url, i, run_timeout=90) for i in range(2))
        try:
            for s in (first, second):
                s.query_string = VIEW
                _ok(await s.open("/convolution"))
                assert "follow=" not in s.query_string and "stride=2" in s.query_string
            assert _shown(second) == _shown(first)
            assert second.media_fetched and not (first.media_errors or second.media_errors)
            assert _downloads(second) and _downloads(second).isdisjoint(_downloads(first))
            shown = _shown(first)
            for s in (first, second):                # after the replay, as after a run
                _ok(await s.set(s.find("conv_stride"), [3.0]))
            assert _shown(second) == _shown(first) != shown
        finally:
            for s in (first, second):
                await s.close()

    run_async(scenario())
