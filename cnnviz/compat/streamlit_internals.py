"""What cnnviz relies on inside Streamlit 1.67, none of it public; checked when imported.

- keep_keras_session_after_runs: after every script run Streamlit's runner calls
  `script_runner._clean_problem_modules()`, which calls keras.backend.clear_session() (for apps
  that build a new Keras model on every run) and closes matplotlib's figures. cnnviz's models are
  built once per process and cached; with TensorFlow, clear_session costs a full garbage
  collection and empties TensorFlow's kernel cache, so the next run's first model call took
  50-300 ms instead of 3 ms (measured here). Streamlit has no setting for this, so the runner
  module's function is swapped for one that only closes matplotlib's figures. Keras itself is
  not touched: clear_session from anywhere else (training, notebooks, tests) works as ever.
- lighter_runs: two costs of every run, swapped for cheaper equivalents (in a class of 30 that
  follows its teacher, every change is 30 runs of the same page on one core):
  * `Runtime._enqueued_some_message`, called for every element a run sends, schedules a wake-up
    of the event loop (a write to its self-pipe, a system call that also hands the GIL over) each
    time; here at most one wake-up is pending at a time. The loop clears `need_send_data` before
    it flushes the sessions' queues, so a message queued while a wake-up is pending goes out with it.
  * `app_session._populate_theme_msg`, called six times by every full run's new-session message,
    reads the whole config per section; the theme cannot change while the server runs (the
    config's file is not watched: fileWatcherType = "none"), so each section's message is made once.
  * every selectbox, slider, radio, number and text input asks the session state whether the
    user's key holds None, through `SessionState.filtered_state`: a new dict of the whole session
    state, every widget's value presented (a component's presenter even makes a class each
    time), 0.24 ms on /convolution, about 6 % of a follower's run (py-spy). The widget modules
    get a session state whose `filtered_state` answers `key in` and `[key]` for that one key
    from the session state itself, with the same values (SessionState.__getitem__ is what
    filtered_state calls for each key) and under the same lock.
  * `string_util.clean_text` (dedent and strip) of every markdown, caption, heading and html
    body, 3 % of a follower's run: the same texts come back every run, so the cleaned text of
    a short str is kept (CLEANED_TEXTS of at most CLEANED_CHARS characters each).
- server_event_loop: the running server's asyncio loop, kept in the Runtime's private
  `_get_async_objs()` (no public getter); lifecycle.py sets signal handlers through it.
- in_script_run: whether this thread runs a script run (a page), from the script run context
  Streamlit keeps per thread (`get_script_run_ctx`, not in its API reference).
- this_session, rerun_session: the session a script run belongs to (the run context's
  `session_id`), and a full run of a session started by the server, with the session's last
  client state (`AppSession._client_state`) where the caller gives no address and page, as the
  browser would start it: `AppSession.request_rerun` on the server's event loop, where the
  browser's requests are handled. A page is named by its url_path and sent as the hash st.Page
  gives it (`calc_hash(url_path)`). class_follow.py brings the students who follow a teacher to
  the teacher's view this way, at once, instead of every student's tab asking twice a second.
- serves_static_folder, server_address_script: Streamlit serves its frontend from its static
  folder with a Starlette `StaticFiles` subclass (patched through starlette_internals), and its
  frontend reads `window.__streamlit.BACKEND_BASE_URL` (the setting hosts use when they embed
  Streamlit) to find the server without searching for it (index_page.py).
"""
from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os
import re
import sys
import threading

from starlette.staticfiles import StaticFiles
from streamlit import file_util, runtime, string_util
from streamlit.elements import heading, html, markdown, text
from streamlit.elements.widgets import number_input, radio, selectbox, slider, text_widgets, time_widgets
from streamlit.navigation.page import Page
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime import app_session
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.runtime import AsyncObjects, Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx, script_runner
from streamlit.runtime.state import SafeSessionState, get_session_state
from streamlit.util import calc_hash
from streamlit.web.server.starlette import starlette_static_routes

from cnnviz.compat import Library

WRITTEN_FOR = "1.67"
CLEANED_TEXTS = 1024             # texts whose cleaned form is kept (lighter_runs): 2 x 2 M characters at most
CLEANED_CHARS = 2048             # the longest text kept
_TEXT_MODULES = (markdown, heading, text, html)       # they call clean_text on each body
_KEY_LOOKUP_MODULES = (number_input, radio, selectbox, slider, text_widgets, time_widgets)
_FRONTEND_SETTING = (b"window.__streamlit", b"BACKEND_BASE_URL")
_ENTRY_SCRIPT = re.compile(rb'<script type="module"[^>]*src="\./(static/js/index\.[^"]+\.js)"')


def check(runner=script_runner, runtime_class=Runtime, async_objects=AsyncObjects,
          static=None, version: str | None = None) -> Library:
    """Raise InternalsChanged when something this module relies on is missing (the defaults are
    the installed Streamlit's own modules and folder)."""
    streamlit = Library.found("streamlit", WRITTEN_FOR, "streamlit_internals", version)
    run_script = getattr(getattr(runner, "ScriptRunner", None), "_run_script", None)
    streamlit.require(callable(getattr(runner, "_clean_problem_modules", None))
                      and "_clean_problem_modules" in getattr(getattr(run_script, "__code__", None), "co_names", ()),
                      "script_runner._clean_problem_modules called by ScriptRunner._run_script")
    streamlit.require("suppress_warning" in inspect.signature(get_script_run_ctx).parameters,
                      "get_script_run_ctx(suppress_warning=...)")
    streamlit.require(callable(getattr(runtime_class, "_get_async_objs", None))
                      and "eventloop" in getattr(async_objects, "_fields", ()),
                      "Runtime._get_async_objs().eventloop")
    streamlit.require(callable(getattr(runtime_class, "instance", None))
                      and "_session_mgr" in runtime_class.__init__.__code__.co_names
                      and callable(getattr(AppSession, "request_rerun", None))
                      and {"_client_state", "_scriptrunner"} <= set(AppSession.__init__.__code__.co_names)
                      and {"query_string", "page_script_hash", "fragment_id"} <= set(ClientState.DESCRIPTOR.fields_by_name)
                      and "calc_hash" in Page._script_hash.fget.__code__.co_names,
                      "Runtime._session_mgr, AppSession.request_rerun/_client_state/_scriptrunner, "
                      "st.Page's hash calc_hash(url_path)")
    streamlit.require(callable(getattr(runtime_class, "_enqueued_some_message", None))
                      and "need_send_data" in getattr(async_objects, "_fields", ())
                      and callable(getattr(app_session, "_populate_theme_msg", None))
                      and "_populate_theme_msg" in AppSession._create_new_session_message.__code__.co_names,
                      "Runtime._enqueued_some_message, AsyncObjects.need_send_data, app_session._populate_theme_msg")
    streamlit.require(all(getattr(m, "clean_text", None) in (string_util.clean_text, _cleaned_text)
                          for m in _TEXT_MODULES)
                      and all(getattr(m, "get_session_state", None) in (get_session_state, _state_for_key_lookups)
                              and ".filtered_state" in inspect.getsource(m) for m in _KEY_LOOKUP_MODULES)
                      and {"_lock", "_state"} <= set(SafeSessionState.__init__.__code__.co_consts),
                      "clean_text in the text elements' modules, get_session_state().filtered_state in "
                      "the widgets' modules, SafeSessionState._lock/_state")
    static = static or file_util.get_static_dir()
    handler = starlette_static_routes.create_streamlit_static_handler(static, None)
    streamlit.require(isinstance(handler, StaticFiles) and _same_folder(handler.directory, static),
                      "Starlette StaticFiles handler for its static folder")
    index = os.path.join(static, "index.html")
    entry = _ENTRY_SCRIPT.search(_read(index))
    script = _read(os.path.join(static, entry.group(1).decode())) if entry else b""
    streamlit.require(all(name in script for name in _FRONTEND_SETTING),
                      "frontend that reads window.__streamlit.BACKEND_BASE_URL (in index.html's script)")
    return streamlit


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def keep_keras_session_after_runs() -> None:
    """Replace Streamlit's after-run cleanup with the same cleanup minus its Keras step."""

    def clean_after_run_but_keras() -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")

    script_runner._clean_problem_modules = clean_after_run_but_keras


_lighter = threading.Lock()


def lighter_runs() -> None:
    """Once per process (later calls do nothing): see the module's docstring."""
    with _lighter:
        if getattr(Runtime, "_cnnviz_lighter", False):
            return
        Runtime._cnnviz_lighter = True
        wake_pending = [False]

        def enqueued_some_message(self) -> None:
            if wake_pending[0]:
                return
            wake_pending[0] = True
            async_objs = self._get_async_objs()

            def wake() -> None:
                wake_pending[0] = False
                async_objs.need_send_data.set()
            try:
                async_objs.eventloop.call_soon_threadsafe(wake)
            except BaseException:
                wake_pending[0] = False
                raise
        Runtime._enqueued_some_message = enqueued_some_message

        populate = app_session._cnnviz_populate_theme_msg = app_session._populate_theme_msg
        made: dict[str, object] = {}

        def populate_once(msg, section: str = "theme") -> None:
            cached = made.get(section)
            if cached is None:
                cached = type(msg)()
                populate(cached, section)
                made[section] = cached
            msg.MergeFrom(cached)
        app_session._populate_theme_msg = populate_once

        for module in _TEXT_MODULES:
            module.clean_text = _cleaned_text
        for module in _KEY_LOOKUP_MODULES:
            module.get_session_state = _state_for_key_lookups


@functools.lru_cache(maxsize=CLEANED_TEXTS)
def _cleaned_str(body: str) -> str:
    return string_util.clean_text(body)


def _cleaned_text(body) -> str:
    if type(body) is str and len(body) <= CLEANED_CHARS:
        return _cleaned_str(body)
    return string_util.clean_text(body)


class _KeyLookups:
    """The session state as a widget's module uses it: `filtered_state` is `_OneKey`, the rest
    is the session state's own."""
    __slots__ = ("_safe",)

    def __init__(self, safe: SafeSessionState):
        self._safe = safe

    @property
    def filtered_state(self) -> "_OneKey":
        return _OneKey(self._safe)

    def __getattr__(self, name: str):
        return getattr(self._safe, name)


class _OneKey:
    """`key in` and `[key]` of SessionState.filtered_state for a user's key, without the dict."""
    __slots__ = ("_safe",)

    def __init__(self, safe: SafeSessionState):
        self._safe = safe

    def __contains__(self, key: str) -> bool:
        with self._safe._lock:
            return key in self._safe._state

    def __getitem__(self, key: str):
        with self._safe._lock:
            return self._safe._state[key]


def _state_for_key_lookups() -> _KeyLookups:
    return _KeyLookups(get_session_state())


def in_script_run() -> bool:
    """True on a thread that runs a Streamlit script run (a page), False on any other thread."""
    return get_script_run_ctx(suppress_warning=True) is not None


def in_fragment_rerun() -> bool:
    """Whether this thread runs fragments alone (a fragment's rerun), not a full run."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def this_session() -> str | None:
    """The id of the session this thread's script run belongs to, or None off a script run."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return None if ctx is None else ctx.session_id


def _rerun_now(session_id: str, query_string: str | None, page: str | None) -> str:
    """On the server's event loop: "started", "busy" (a run is under way: its end is newer than
    any wake) or "gone" (no such connected session)."""
    session = active_session(session_id)
    if session is None:
        return "gone"
    if session._scriptrunner is not None:
        return "busy"
    state = ClientState()
    state.CopyFrom(session._client_state)
    state.fragment_id, state.is_auto_rerun = "", False
    del state.cached_message_hashes[:]    # what the browser kept then may be gone by now: send it all
    if query_string is not None:
        state.query_string = query_string
    if page is not None:
        state.page_script_hash, state.page_name = calc_hash(page), ""
    session.request_rerun(state)
    return "started"


def active_session(session_id: str) -> AppSession | None:
    """The connected session `session_id` of the running server, or None (gone, or no server:
    AppTest's stand-in Runtime has no sessions)."""
    if not runtime.exists():
        return None
    try:
        manager = runtime.get_instance()._session_mgr
    except AttributeError:
        return None
    info = manager.get_active_session_info(session_id)
    return info.session if info is not None else None


def rerun_session(session_id: str, query_string: str | None = None, page: str | None = None,
                  timeout: float = 2.0) -> str:
    """A full run of one session now, at `page` (a url_path) with `query_string` where given, else
    where it is: "started", "busy", "gone", or "no server" (e.g. under AppTest). From any thread
    but the event loop's."""
    loop = server_event_loop()
    if loop is None:
        return "no server"

    async def on_loop() -> str:
        return _rerun_now(session_id, query_string, page)
    return asyncio.run_coroutine_threadsafe(on_loop(), loop).result(timeout)


def server_event_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop of the running Streamlit server, or None (no server, e.g. under AppTest)."""
    if not runtime.exists():
        return None
    try:
        loop = runtime.get_instance()._get_async_objs().eventloop
    except RuntimeError:    # the Runtime has not started yet
        return None
    return loop if isinstance(loop, asyncio.AbstractEventLoop) and not loop.is_closed() else None


def _same_folder(a, b) -> bool:
    return os.path.realpath(str(a)) == os.path.realpath(str(b))


def serves_static_folder(handler) -> bool:
    """True for the StaticFiles handler that serves Streamlit's own static folder (its frontend)."""
    return os.path.realpath(str(getattr(handler, "directory", ""))) == _STATIC_DIR


_STATIC_DIR = os.path.realpath(file_util.get_static_dir())


_SCRIPT = """<script>(() => {
  const pages = %s, path = location.pathname.replace(/\\/+$/, "");
  const page = path.slice(path.lastIndexOf("/") + 1);
  if (!pages.includes(page)) return;
  window.__streamlit = Object.assign(
    {BACKEND_BASE_URL: location.origin + path.slice(0, path.length - page.length)}, window.__streamlit);
})();</script>"""


def server_address_script(url_paths: list[str]) -> bytes:
    """A <script> that sets window.__streamlit.BACKEND_BASE_URL on the pages at `url_paths`:
    the address minus its last segment, so it holds behind any path prefix or proxy; any value
    a host set already wins."""
    return (_SCRIPT % json.dumps(url_paths)).encode()


check()
