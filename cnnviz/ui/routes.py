"""Paths a visitor may type: `/home`, and unknown paths of any depth.

- `/` is Home (Streamlit gives the default page the empty path and ignores its `url_path`), so
  `/home` would be an unknown page: `home_alias` adds a hidden page there that switches to Home.
- An unknown one-segment path (`/nope`): Streamlit's frontend says "Page not found" and runs Home.
- An unknown deeper path (`/network/extra/deep`, `/etc/passwd`) gave a blank page. Streamlit
  answers any path it has no file for with its `index.html` (the single-page-app fallback in
  streamlit/web/server/starlette/starlette_static_routes.py), and that page loads its JavaScript
  by relative URLs (`./static/js/index.*.js`): from `/network/extra/deep` the browser asks for
  `/network/extra/static/js/...` and gets `index.html` again, so nothing runs. (Serving the
  assets there is not enough: the frontend then looks for the server only at the path and its
  parent, `/network/extra/_stcore/...`, and gives up.) `send_deep_unknown_paths_to_not_found`
  redirects such a page request to `/page-not-found`, a one-segment path that is no page, where
  Streamlit shows its own "Page not found" notice over Home, exactly as for `/nope`.

Why a patch: Streamlit 1.67 has no setting for this, and its one hook for routes, `st.App`, is
far more than this needs (see cnnviz/compat/starlette_internals.py). The patch wraps
`starlette.staticfiles.StaticFiles.get_response`, acts only for Streamlit's own static folder
and only where Streamlit would answer `index.html` for a page request at a path of several
segments; everything else reaches Streamlit unchanged. It is installed by the
first script run, so on a freshly started server the very first request, if it is such a path,
still gets the blank page (any visit to any page before it installs the redirect).
"""
from __future__ import annotations

import streamlit as st

from cnnviz.compat import starlette_internals, streamlit_internals

NOT_FOUND = "page-not-found"
"""Where a deep unknown path is sent: a one-segment path that is no page, so Streamlit says so."""

_GUARD = "_cnnviz_deep_paths_to_not_found"

HOME_ALIAS = "home"
"""The path of the hidden page that opens Home (`/home`)."""


def home_alias(home: st.Page, url_path: str = HOME_ALIAS) -> st.Page:
    """A hidden page at /`url_path` that switches to `home` (the default page, at `/`)."""

    def open_home() -> None:
        st.switch_page(home, query_params=st.query_params.to_dict())

    return st.Page(open_home, title=home.title, icon=home.icon, url_path=url_path, visibility="hidden")


def redirect_target(path: str, scope) -> str | None:
    """Where to send a browser instead of answering index.html at `path`, or None.

    Only for a page a browser navigates to (GET/HEAD, accepts HTML) whose path (relative to
    Streamlit's mount) has several segments, none of them Streamlit's own (`_stcore`: the
    frontend probes `<page>/_stcore/health` and must keep getting 404 there).
    """
    if scope.get("method") not in ("GET", "HEAD"):
        return None
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    if len(parts) < 2 or any(p.startswith("_stcore") for p in parts):
        return None
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    if b"text/html" not in accept:
        return None
    return scope.get("root_path", "").rstrip("/") + "/" + NOT_FOUND


@st.cache_resource(show_spinner=False)
def send_deep_unknown_paths_to_not_found() -> bool:
    """Once per process: a deep unknown path redirects to /page-not-found, not a blank page."""
    from starlette.exceptions import HTTPException
    from starlette.responses import RedirectResponse

    def make(original):
        async def get_response(self, path, scope):
            try:
                return await original(self, path, scope)
            except HTTPException as exc:
                target = None
                if exc.status_code == 404 and streamlit_internals.serves_static_folder(self):
                    target = redirect_target(path, scope)
                if target is None:
                    raise
                return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-cache"})
        return get_response

    starlette_internals.patch_static_files("get_response", _GUARD, make)
    return True
