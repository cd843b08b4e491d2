"""The page Streamlit serves at every address tells the browser where the server is.

A browser that opens any page but Home (`/convolution`, every link a teacher shares) first looks
for Streamlit's server at the page's own path: `/convolution/_stcore/health` answers 404, and
Streamlit's frontend tries the parent path only after a pause. The page starts to load 100-200 ms
later than it could (benchmarks/bench_first_render.py). The frontend skips that search when
`window.__streamlit.BACKEND_BASE_URL` is set (the setting hosts use when they embed Streamlit).

`add_server_address` makes Streamlit's `index.html` begin with a script that sets it, but only on
this app's own pages: the address minus its last segment, so it holds behind any path prefix or
proxy. Home (`/`, where there is nothing to search), unknown paths and any value a host set
already are left alone.

Why a patch: Streamlit 1.67 has no setting to add to its page; `st.App` middleware could, but it
makes app.py an ASGI module with another server mode (see cnnviz/compat/starlette_internals.py;
the script itself is in cnnviz/compat/streamlit_internals.py). The patch wraps
`starlette.staticfiles.StaticFiles.__call__` for Streamlit's static folder only and rewrites only
its HTML answers (index.html, a few kB). Like the route patch it is installed by the first
script run, so a fresh server's very first page is served as Streamlit serves it.

The same <head> also gets FOCUS_STYLE: a keyboard user sees where the focus is on every control
(WCAG 2.4.7). Streamlit 1.67 draws no ring on its navigation links, select boxes and text inputs;
a stylesheet in index.html costs no script run and holds on every page, presenting or not.
"""
from __future__ import annotations

import streamlit as st

from cnnviz.compat import starlette_internals, streamlit_internals
from cnnviz.ui import page_list, routes

_GUARD = "_cnnviz_server_address"

# Blue #1c5fd4 is 5.9:1 on white and 4.0:1 on the selected controls' red, above the 3:1 that
# WCAG asks of a focus indicator. BaseWeb's text and select inputs sit in clipped wrappers, so
# the wrapper carries the ring; a slider's range input and a toggle's, checkbox's or radio's input are
# hidden in a 1 px clip, so the slider's thumb, the toggle's track, the checkbox's box and the
# radio option carry it.
FOCUS_STYLE = b"""<style>
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible, summary:focus-visible,
[tabindex]:focus-visible, [role=slider]:focus-visible, [role=tab]:focus-visible, [role=radio]:focus-visible,
[data-baseweb=select]:focus-within, [data-baseweb=input]:focus-within, [data-baseweb=textarea]:focus-within,
[data-testid=stSlider] div:has(> div > input[type=range]:focus-visible),
label:has(> span > input:focus-visible) > span + div {
  outline: 3px solid #1c5fd4 !important; outline-offset: 2px !important; }
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation-duration: 0.01ms !important; transition-duration: 0.01ms !important;
                           scroll-behavior: auto !important; } }
</style>"""


def with_script(html: bytes, tag: bytes) -> bytes:
    """`html` with `tag` (streamlit_internals.server_address_script) first in its <head>
    (unchanged if it has none)."""
    return html.replace(b"<head>", b"<head>" + tag, 1)


def page_paths() -> list[str]:
    return [p.url_path for p in page_list.NAVIGATION] + [routes.HOME_ALIAS]


@st.cache_resource(show_spinner=False)
def add_server_address() -> bool:
    """Once per process: Streamlit's index.html tells the browser where the server is."""
    tag = streamlit_internals.server_address_script(page_paths()) + FOCUS_STYLE   # the same for every request

    def make(original):
        async def call(self, scope, receive, send):
            if scope.get("method") != "GET" or not streamlit_internals.serves_static_folder(self):
                return await original(self, scope, receive, send)
            held = {}

            async def send_with_script(message):
                if message["type"] == "http.response.start":
                    headers = dict(message.get("headers") or [])
                    if message.get("status") == 200 and headers.get(b"content-type", b"").startswith(b"text/html"):
                        held["start"], held["body"] = message, []
                        return
                elif "start" in held and message["type"] == "http.response.body":
                    held["body"].append(message.get("body", b""))
                    if message.get("more_body"):
                        return
                    body = with_script(b"".join(held["body"]), tag)
                    start = held.pop("start")
                    kept = [(k, v) for k, v in start["headers"]   # no longer the file's length, tag or date
                            if k not in (b"content-length", b"etag", b"last-modified")]
                    await send({**start, "headers": kept + [(b"content-length", str(len(body)).encode())]})
                    message = {**message, "body": body, "more_body": False}
                await send(message)

            return await original(self, scope, receive, send_with_script)
        return call

    starlette_internals.patch_static_files("__call__", _GUARD, make)
    return True
