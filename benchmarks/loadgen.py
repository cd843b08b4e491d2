"""A load generator that speaks Streamlit's own websocket protocol (loopback only, bounded).

Each simulated visitor does what the browser does (Streamlit 1.67's frontend, read from its
bundle and from streamlit/streamlit's frontend/connection, App.tsx and WidgetStateManager.ts):

* GET the page (this is where a load balancer's stickiness cookie and `_streamlit_xsrf` are set),
  then open ``/_stcore/stream`` with the subprotocols ``["streamlit", <xsrf token>]`` and the
  cookies of that GET;
* send ``BackMsg.rerun_script`` (a ``ClientState``): the page by ``page_name`` (from the URL) on the
  first run, by ``page_script_hash`` afterwards; the query string the server last set; the widget
  states it holds; ``fragment_id`` when the widget lives in an ``st.fragment``; the hashes of the
  ForwardMsgs it has cached (the server then sends ``ref_hash`` instead of the message);
* keep a state for every widget the server rendered (its default, or the value the server set
  with ``set_value``), change one of them as a person would, and send them all; a button sends a
  one-shot ``trigger_value``; on a page change only the widgets of the main script (``app.py``,
  the sidebar) are sent; states of widgets that a full run no longer rendered are dropped;
* read ForwardMsgs: ``new_session``, ``navigation`` (page hashes), ``delta`` (elements, widget
  protos with their ``id``; ids are never hard-coded: a widget is found by its user key, which
  Streamlit appends to the id as ``$$ID-<hash>-<key>``, or by its label), ``page_info_changed``,
  ``page_not_found``, ``script_finished``; fetch the ``/media/...`` files of new images, as the
  browser does (over the same cookies: on a balancer they must reach the same process).

A rerun's latency is the time from sending the BackMsg to the ``script_finished`` ForwardMsg that
ends it. Errors: exception elements in deltas, ``script_finished`` with a compile error, page not
found, a closed websocket, a run that does not finish within the timeout, media that fail to load.
``st.error`` alerts are counted apart (the app may show them on purpose).

The action mix (``act``), what a class following the lesson does: every 2-3 s (never before
its previous click has finished) a visitor moves to the next page of PAGE_ORDER with probability
0.2 (one move in five to a random page instead), picks another sample picture with probability
0.04, and otherwise changes one widget of the page it is on: any enabled slider, select box,
radio, checkbox, number box, segmented control, multiselect or button, chosen with the weights
of FAVOURITES (the controls the lesson asks people to play with; every other one 1). Never
touched (AVOID): uploads, the camera, drawing, typed text and timers (play), which a protocol
client cannot do as a person would. Visitors start on pages spread over PAGE_ORDER.

Used by benchmarks/bench_load.py, bench_soak.py and tests/test_loadgen.py; also a CLI:
    python benchmarks/loadgen.py http://127.0.0.1:8501 --sessions 5 --duration 30
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import http.cookies
import random
import re
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from typing import Any, Callable

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

MAX_SESSIONS = 200            # bounded: this is a test tool, not a flood
MAX_DURATION_S = 3600
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
ID_RE = re.compile(r"^\$\$ID-[0-9a-f]+-(.*)$", re.S)

# Element kinds the browser keeps a value for (set on mount), and buttons (one-shot triggers).
VALUE_KINDS = {"slider", "selectbox", "radio", "checkbox", "number_input", "text_input", "text_area",
               "button_group", "multiselect"}
TRIGGER_KINDS = {"button"}
OTHER_WIDGET_KINDS = {"file_uploader", "camera_input", "component_instance", "bidi_component",
                      "download_button", "color_picker", "date_input", "time_input", "chat_input",
                      "audio_input", "data_editor", "menu_button", "pagination", "feedback"}
FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY: "ok", ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile_error",
            ForwardMsg.FINISHED_EARLY_FOR_RERUN: "early_for_rerun",
            ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment_ok"}


def check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in LOOPBACK and not host.startswith("127."):
        raise ValueError(f"loadgen only targets loopback addresses, not {host!r}")


# --------------------------------------------------------------------------- widgets


@dataclasses.dataclass
class Widget:
    id: str
    kind: str
    proto: Any                 # the element's widget message (Slider, Selectbox, ...)
    fragment_id: str
    script_hash: str           # the script that rendered it (main script = sidebar)

    @property
    def key(self) -> str | None:
        m = ID_RE.match(self.id)
        return m.group(1) if m and m.group(1) else None

    @property
    def label(self) -> str:
        return getattr(self.proto, "label", "")

    @property
    def disabled(self) -> bool:
        return bool(getattr(self.proto, "disabled", False))

    def options(self) -> list[str]:
        p = self.proto
        if self.kind == "button_group":
            return [o.content for o in p.options]
        return list(getattr(p, "options", []))

    def initial_state(self):
        """The value the browser stores when the widget mounts, or None (no state)."""
        p, k = self.proto, self.kind
        if k == "slider":
            if p.type == p.SELECT_SLIDER:
                opts = list(p.options)
                return list(p.raw_value) if p.set_value else [opts[int(i)] for i in p.default if 0 <= int(i) < len(opts)]
            return list(p.value) if p.set_value else list(p.default)
        if k in ("selectbox", "radio"):
            if p.set_value:
                return p.raw_value if p.HasField("raw_value") else None
            opts = list(p.options)
            return opts[p.default] if p.HasField("default") and 0 <= p.default < len(opts) else None
        if k == "checkbox":
            return bool(p.value if p.set_value else p.default)
        if k == "number_input":
            if p.set_value:
                return p.value if p.HasField("value") else None
            return p.default if p.HasField("default") else None
        if k in ("text_input", "text_area"):
            return p.value if p.set_value else p.default
        if k == "button_group":
            opts = self.options()
            return list(p.raw_values) if p.set_value else [opts[i] for i in p.default if 0 <= i < len(opts)]
        if k == "multiselect":
            opts = list(p.options)
            return list(p.raw_values) if p.set_value else [opts[i] for i in p.default if 0 <= i < len(opts)]
        return None

    def to_proto(self, value, trigger: bool = False) -> WidgetState:
        ws = WidgetState(id=self.id)
        k = self.kind
        if trigger:
            ws.trigger_value = True
        elif k == "slider":
            if self.proto.type == self.proto.SELECT_SLIDER:
                ws.string_array_value.data.extend(value)
            else:
                ws.double_array_value.data.extend(float(v) for v in value)
        elif k in ("selectbox", "radio", "text_input", "text_area"):
            ws.string_value = value
        elif k == "checkbox":
            ws.bool_value = bool(value)
        elif k == "number_input":
            if self.proto.data_type == self.proto.INT:
                ws.int_value = int(value)
            else:
                ws.double_value = float(value)
        elif k in ("button_group", "multiselect"):
            ws.string_array_value.data.extend(value)
        else:
            raise ValueError(f"no value type for {k}")
        return ws

    def random_value(self, current, rng: random.Random):
        """A valid value other than `current` (None when the widget has only one)."""
        p, k = self.proto, self.kind
        if k == "slider":
            if p.type == p.SELECT_SLIDER:
                choices = [[o] for o in p.options if [o] != current]
            else:
                n = int(round((p.max - p.min) / p.step)) if p.step else 0
                if n <= 0:
                    return None
                vals = [p.min + i * p.step for i in range(n + 1)]
                if len(current or []) == 2:   # a range slider: move one end
                    lo, hi = current
                    pick = rng.choice(vals)
                    choices = [sorted([pick, hi]) if rng.random() < .5 else sorted([lo, pick])]
                    return None if choices[0] == list(current) else choices[0]
                choices = [[v] for v in vals if not current or abs(v - current[0]) > 1e-9]
            return rng.choice(choices) if choices else None
        if k in ("selectbox", "radio"):
            choices = [o for o in p.options if o != current]
            return rng.choice(choices) if choices else None
        if k == "checkbox":
            return not current
        if k == "number_input":
            lo = p.min if p.has_min else (current or 0) - 10 * (p.step or 1)
            hi = p.max if p.has_max else (current or 0) + 10 * (p.step or 1)
            hi = min(hi, lo + 200 * (p.step or 1))  # a person types a nearby number
            step = p.step or 1
            n = int((hi - lo) // step)
            if n <= 0:
                return None
            v = lo + rng.randint(0, n) * step
            return None if current is not None and abs(v - current) < 1e-9 else v
        if k == "button_group":
            choices = [[o] for o in self.options() if [o] != current]
            return rng.choice(choices) if choices else None
        return None


# --------------------------------------------------------------------------- results


@dataclasses.dataclass
class RunResult:
    session: int
    page: str
    action: str
    t_sent: float
    latency: float | None = None   # seconds; None when the run did not finish
    status: str = "pending"
    fragment: bool = False
    elements: int = 0
    bytes: int = 0
    exceptions: list[str] = dataclasses.field(default_factory=list)
    error_alerts: list[str] = dataclasses.field(default_factory=list)
    texts: list[str] = dataclasses.field(default_factory=list)
    media_urls: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.exceptions and self.status in ("ok", "fragment_ok")


class SessionError(Exception):
    pass


class _Cache:
    """The browser's ForwardMsgCache: keep cacheable messages, forget them after N script runs."""

    def __init__(self):
        self.messages: dict[str, tuple[bytes, int]] = {}
        self.runs = 0

    def put(self, h: str, raw: bytes) -> None:
        self.messages[h] = (raw, self.runs)

    def get(self, h: str) -> bytes | None:
        hit = self.messages.get(h)
        if hit is None:
            return None
        self.messages[h] = (hit[0], self.runs)
        return hit[0]

    def finished_run(self, max_age: int) -> None:
        self.runs += 1
        self.messages = {h: v for h, v in self.messages.items() if self.runs - v[1] <= max_age}


def _http_put_file(url: str, cookies: dict[str, str], name: str, data: bytes, timeout: float = 60.0) -> int:
    """PUT one file as multipart/form-data (field "file"), as st.file_uploader does; the status."""
    boundary = f"cnnviz{random.getrandbits(64):016x}"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(url, data=body, method="PUT", headers={
        "User-Agent": "cnnviz-loadgen", "Content-Type": f"multipart/form-data; boundary={boundary}",
        "X-Xsrftoken": cookies.get("_streamlit_xsrf", "")})
    if cookies:
        req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def _http_get(url: str, cookies: dict[str, str], timeout: float = 30.0) -> tuple[int, dict[str, str], int]:
    req = urllib.request.Request(url, headers={"User-Agent": "cnnviz-loadgen"})
    if cookies:
        req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
            got = {}
            for header in r.headers.get_all("Set-Cookie") or []:
                c = http.cookies.SimpleCookie()
                c.load(header)
                got.update({k: m.value for k, m in c.items()})
            return r.status, got, len(body)
    except urllib.error.HTTPError as e:
        return e.code, {}, 0


# --------------------------------------------------------------------------- one visitor


class StreamlitSession:
    """One browser tab, at the protocol level."""

    def __init__(self, base_url: str, number: int = 0, *, fetch_media: bool = True,
                 run_timeout: float = 60.0, record: Callable[[RunResult], None] | None = None):
        check_loopback(base_url)
        self.base = base_url.rstrip("/")
        self.number = number
        self.fetch_media = fetch_media
        self.run_timeout = run_timeout
        self.record = record
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.pages: dict[str, str] = {}          # url_pathname ('' = default) -> page_script_hash
        self.page_names: dict[str, str] = {}     # page_script_hash -> url_pathname
        self.main_script_hash = ""
        self.page_hash = ""
        self.query_string = ""
        self.max_cached_age = 2
        self.session_id = ""
        self.widgets: dict[str, Widget] = {}     # id -> widget, as last rendered
        self.states: dict[str, Any] = {}         # id -> value the "browser" holds
        self.elements: dict[tuple, Any] = {}     # delta path -> element, the page as shown
        self.media_seen: set[str] = set()
        self.cache = _Cache()
        self.results: list[RunResult] = []
        self.media_errors = 0
        self.media_fetched = 0
        self._run: RunResult | None = None
        self._run_done: asyncio.Future | None = None
        self._seen_ids: set[str] = set()
        self._reader: asyncio.Task | None = None
        self.closed_reason: str | None = None
        self._navigation_seen = False
        self._fragment_run = False              # the run under way reruns one fragment only
        self.auto_reruns: dict[str, float] = {}  # fragment id -> seconds, for st.fragment(run_every=...)
        self.file_states: dict[str, WidgetState] = {}   # uploader id -> its files, sent with every rerun
        self._file_urls: asyncio.Future | None = None
        self.on_server_run: Callable[[str], None] | None = None   # a run the server started ended
        self.server_runs = 0
        self._server_run: RunResult | None = None   # what a run the server started sent so far

    # ----- connection

    @property
    def page(self) -> str:
        """The current page as its URL path ('/', '/convolution', ...)."""
        return self.page_names.get(self.page_hash, "?")

    async def open(self, path: str = "/") -> RunResult:
        """Load `path` as a browser would and wait for its first script run."""
        path = "/" + path.strip("/")
        status, cookies, _ = await asyncio.to_thread(_http_get, self.base + path, self.cookies)
        if status != 200:
            raise SessionError(f"GET {path}: HTTP {status}")
        self.cookies.update(cookies)
        # the frontend's connection pings (they also set the _streamlit_xsrf cookie)
        for endpoint in ("/_stcore/health", "/_stcore/host-config"):
            status, cookies, _ = await asyncio.to_thread(_http_get, self.base + endpoint, self.cookies)
            if status != 200:
                raise SessionError(f"GET {endpoint}: HTTP {status}")
            self.cookies.update(cookies)
        ws_url = "ws" + self.base[4:] + "/_stcore/stream"
        headers = {"Origin": self.base, "User-Agent": "cnnviz-loadgen"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        token = self.cookies.get("_streamlit_xsrf") or "PLACEHOLDER_AUTH_TOKEN"
        self.ws = await websockets.connect(ws_url, subprotocols=["streamlit", token],
                                           additional_headers=headers, max_size=None,
                                           open_timeout=30, compression=None,
                                           ping_interval=None)  # browsers send no pings; they answer the server's
        self._reader = asyncio.create_task(self._read_loop())
        return await self._rerun(f"open {path}", page_name=path.strip("/"), widget_states={})

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, 5)
            except (asyncio.TimeoutError, Exception):
                self._reader.cancel()

    async def _read_loop(self) -> None:
        try:
            async for raw in self.ws:
                self._handle(raw)
        except websockets.ConnectionClosed as e:
            self.closed_reason = f"websocket closed ({e.code} {e.reason or ''})".replace(" )", ")")
        except Exception as e:  # pragma: no cover - reported as an error on the run
            self.closed_reason = f"reader failed: {e!r}"
        else:
            self.closed_reason = self.closed_reason or "websocket closed"
        if self._run_done is not None and not self._run_done.done():
            self._run_done.set_exception(SessionError(self.closed_reason))

    # ----- forward messages

    def _handle(self, raw: bytes) -> None:
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        run = self._run
        if run is not None:
            run.bytes += len(raw)
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                if run is not None:
                    run.errors.append(f"cache miss {msg.ref_hash}")
                return
            metadata = ForwardMsg()
            metadata.CopyFrom(msg)
            msg = ForwardMsg()
            msg.ParseFromString(cached)
            msg.metadata.CopyFrom(metadata.metadata)
            kind = msg.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self.cache.put(msg.hash, raw)

        if kind == "new_session":
            ns = msg.new_session
            self.session_id = ns.initialize.session_id or self.session_id
            self.main_script_hash = ns.main_script_hash
            self.page_hash = ns.page_script_hash
            self.max_cached_age = ns.config.max_cached_message_age or self.max_cached_age
            if not self._navigation_seen:   # st.navigation apps send their pages in `navigation`
                self._learn_pages(ns.app_pages)
            fragment = bool(msg.metadata.run.fragment_ids) if msg.metadata.HasField("run") else self._fragment_run
            if not fragment:             # a full run starts: the page is rebuilt
                self.elements.clear()
                self.auto_reruns.clear()
                if run is None:          # the server started it (or a fragment it started switched page)
                    self._seen_ids = set()
        elif kind == "navigation":
            self._navigation_seen = True
            self._learn_pages(msg.navigation.app_pages)
            if msg.navigation.page_script_hash:
                self.page_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "page_not_found":
            if run is not None:
                run.errors.append(f"page not found: {msg.page_not_found.page_name!r}")
        elif kind == "auto_rerun":
            self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self.auto_reruns.pop(fid, None)
        elif kind == "delta":
            self._handle_delta(msg)
        elif kind == "script_finished":
            self._finished(msg.script_finished)
        elif kind == "file_urls_response":
            if self._file_urls is not None and not self._file_urls.done():
                self._file_urls.set_result(msg.file_urls_response)

    def _learn_pages(self, app_pages) -> None:
        for p in app_pages:
            path = "" if p.is_default else p.url_pathname
            self.pages[path] = p.page_script_hash
            self.page_names[p.page_script_hash] = "/" + path
            if p.url_pathname:
                self.pages.setdefault(p.url_pathname, p.page_script_hash)

    def _handle_delta(self, msg: ForwardMsg) -> None:
        d = msg.delta
        run = self._run
        if d.WhichOneof("type") != "new_element":
            return
        el = d.new_element
        kind = el.WhichOneof("type")
        self.elements[tuple(msg.metadata.delta_path)] = el
        if run is None:          # a run the server started
            if self._server_run is None:
                self._server_run = RunResult(self.number, self.page, "started by the server", time.perf_counter())
            run = self._server_run
        self._count(run, el, kind)
        sub = getattr(el, kind) if kind else None
        wid = getattr(sub, "id", "") if sub is not None else ""
        if kind in VALUE_KINDS | TRIGGER_KINDS | OTHER_WIDGET_KINDS and wid:
            w = Widget(wid, kind, sub, d.fragment_id, msg.metadata.active_script_hash)
            self.widgets[wid] = w
            self._seen_ids.add(wid)
            if kind in VALUE_KINDS:
                p = sub
                if getattr(p, "set_value", False) or wid not in self.states:
                    value = w.initial_state()
                    if value is not None:
                        self.states[wid] = value

    @staticmethod
    def _count(run: RunResult, el, kind: str) -> None:
        run.elements += 1
        if kind == "exception" and not el.exception.is_warning:
            e = el.exception
            run.exceptions.append(f"{e.type}: {e.message}"[:300])
        elif kind == "alert" and el.alert.format == el.alert.ERROR:
            run.error_alerts.append(el.alert.body[:300])
        elif kind == "markdown":
            run.texts.append(el.markdown.body)
        elif kind == "heading":
            run.texts.append(el.heading.body)
        elif kind == "imgs":
            run.media_urls.extend(i.url for i in el.imgs.imgs if i.url.startswith("/media/"))

    def _finished(self, status: int) -> None:
        run = self._run
        name = FINISHED.get(status, str(status))
        if name == "early_for_rerun":   # st.rerun() or a rerun that replaced this one: keep waiting
            self._fragment_run = False   # st.rerun() reruns the whole app
            return
        if run is None:     # a run the server started (e.g. a class's watcher woke this tab)
            self.server_runs += 1
            self.cache.finished_run(self.max_cached_age)
            started, self._server_run = self._server_run, None
            if self.fetch_media and started is not None and started.media_urls:
                asyncio.ensure_future(self._fetch_media(started))   # as the browser fetches its pictures
            if self.on_server_run is not None:
                self.on_server_run(name)
            return
        run.latency = time.perf_counter() - run.t_sent
        run.status = name
        if name == "compile_error":
            run.errors.append("script finished with a compile error")
        self.cache.finished_run(self.max_cached_age)
        # the browser forgets the states of widgets this run no longer rendered
        if name == "ok":
            gone = [i for i in self.widgets if i not in self._seen_ids]
        else:
            frag = {w.fragment_id for i, w in self.widgets.items() if i in self._seen_ids}
            gone = [i for i, w in self.widgets.items() if i not in self._seen_ids and w.fragment_id in frag]
        for i in gone:
            self.widgets.pop(i, None)
            self.states.pop(i, None)
        if self._run_done is not None and not self._run_done.done():
            self._run_done.set_result(run)

    # ----- back messages

    async def _rerun(self, action: str, *, page_hash: str = "", page_name: str = "",
                     widget_states: dict | None = None, trigger: Widget | None = None,
                     fragment_id: str = "") -> RunResult:
        if self._run_done is not None and not self._run_done.done():
            raise SessionError("a run is still in progress")
        if self.closed_reason:
            raise SessionError(self.closed_reason)
        states = self.states if widget_states is None else widget_states
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        cs.page_script_hash = page_hash
        cs.page_name = page_name
        cs.fragment_id = fragment_id
        cs.cached_message_hashes.extend(self.cache.messages)
        ci = cs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "UTC", 0, "en-US"
        ci.url = self.base + "/" + (self.page_names.get(page_hash, page_name) or "").strip("/")
        ci.is_embedded, ci.color_scheme = False, "light"
        for wid, value in states.items():
            w = self.widgets.get(wid)
            if w is not None and w.kind in VALUE_KINDS:
                cs.widget_states.widgets.append(w.to_proto(value))
        for ws in self.file_states.values():
            cs.widget_states.widgets.append(ws)
        if trigger is not None:
            cs.widget_states.widgets.append(trigger.to_proto(None, trigger=True))
        self._seen_ids = set()
        self._fragment_run = bool(fragment_id)
        run = RunResult(self.number, self.page_names.get(page_hash, "/" + page_name if page_name else self.page),
                        action, time.perf_counter(), fragment=bool(fragment_id))
        self._run = run
        self._run_done = asyncio.get_running_loop().create_future()
        try:
            await self.ws.send(msg.SerializeToString())
            await asyncio.wait_for(self._run_done, self.run_timeout)
        except asyncio.TimeoutError:
            run.errors.append(f"no script_finished within {self.run_timeout:.0f} s")
        except (SessionError, websockets.ConnectionClosed) as e:
            run.errors.append(str(e) or "websocket closed")
        finally:
            self._run = None
        if run.latency is not None:
            run.page = self.page
        if self.fetch_media and run.media_urls and not run.errors:
            await self._fetch_media(run)
        self.results.append(run)
        if self.record is not None:
            self.record(run)
        return run

    async def _fetch_media(self, run: RunResult) -> None:
        new = [u for u in dict.fromkeys(run.media_urls) if u not in self.media_seen]
        self.media_seen.update(new)
        codes = await asyncio.gather(*(asyncio.to_thread(_http_get, self.base + u, self.cookies) for u in new),
                                     return_exceptions=True)
        for u, c in zip(new, codes):
            self.media_fetched += 1
            if isinstance(c, Exception) or c[0] != 200:
                self.media_errors += 1
                run.errors.append(f"media {u}: {c if isinstance(c, Exception) else 'HTTP %d' % c[0]}")

    # ----- what a person does

    def find(self, key: str | None = None, *, prefix: str | None = None, label: str | None = None,
             page_only: bool = False) -> Widget | None:
        for w in self.widgets.values():
            if page_only and w.script_hash == self.main_script_hash:
                continue
            k = w.key or ""
            if key is not None and k == key:
                return w
            if prefix is not None and k.startswith(prefix):
                return w
            if label is not None and w.label == label:
                return w
        return None

    def text(self) -> str:
        """The markdown and headings on screen now, one per line."""
        out = []
        for el in self.elements.values():
            kind = el.WhichOneof("type")
            if kind == "markdown":
                out.append(el.markdown.body)
            elif kind == "heading":
                out.append(el.heading.body)
        return "\n".join(out)

    async def set(self, w: Widget, value) -> RunResult:
        self.states[w.id] = value
        return await self._rerun(f"{w.kind} {w.key or w.label}={_short(value)}", page_hash=self.page_hash,
                                 fragment_id=w.fragment_id)

    async def click(self, w: Widget) -> RunResult:
        return await self._rerun(f"click {w.key or w.label}", page_hash=self.page_hash, trigger=w,
                                 fragment_id=w.fragment_id)

    async def send_file(self, w: Widget, name: str, data: bytes) -> None:
        """Upload a file for st.file_uploader `w` as the browser does: ask for its URLs, PUT it;
        the uploader's state goes with the next rerun (see upload)."""
        self._file_urls = asyncio.get_running_loop().create_future()
        msg = BackMsg()
        msg.file_urls_request.request_id = f"r{random.getrandbits(32):08x}"
        msg.file_urls_request.file_names.append(name)
        msg.file_urls_request.session_id = self.session_id
        await self.ws.send(msg.SerializeToString())
        urls = (await asyncio.wait_for(self._file_urls, 30)).file_urls[0]
        status = await asyncio.to_thread(_http_put_file, self.base + urls.upload_url, self.cookies, name, data)
        if status not in (200, 204):
            raise SessionError(f"PUT {urls.upload_url}: HTTP {status}")
        ws = WidgetState(id=w.id)
        info = ws.file_uploader_state_value.uploaded_file_info.add()
        info.file_id, info.name, info.size = urls.file_id, name, len(data)
        info.file_urls.CopyFrom(urls)
        self.file_states[w.id] = ws

    async def upload(self, w: Widget, name: str, data: bytes) -> RunResult:
        """send_file, then the rerun that hands the file to the script (its latency: the time to
        whatever the page says about the file)."""
        await self.send_file(w, name, data)
        return await self._rerun(f"upload {name}", page_hash=self.page_hash, fragment_id=w.fragment_id)

    async def goto(self, path: str) -> RunResult:
        path = path.strip("/")
        if path not in self.pages:
            raise SessionError(f"no page {path!r}; pages: {sorted(self.pages)}")
        target = self.pages[path]
        if target != self.page_hash:
            self.query_string = ""
        common = {i: v for i, v in self.states.items()
                  if i in self.widgets and self.widgets[i].script_hash == self.main_script_hash}
        return await self._rerun(f"goto /{path}", page_hash=target, widget_states=common)

    async def rerun(self) -> RunResult:
        return await self._rerun("rerun", page_hash=self.page_hash)

    async def rerun_fragment(self, fragment_id: str) -> RunResult:
        """What the browser sends each `run_every` seconds for a fragment that asked for it."""
        return await self._rerun("auto-rerun fragment", page_hash=self.page_hash, fragment_id=fragment_id)


def _short(v) -> str:
    s = repr(v[0] if isinstance(v, list) and len(v) == 1 else v)
    return s if len(s) < 40 else s[:37] + "..."


# --------------------------------------------------------------------------- the persona

# The lesson's pages in its order; /train is left out: its one heavy action starts a training
# job in a worker process, measured apart (benchmarks/bench_train_server.py).
PAGE_ORDER = ["", "lesson", "convolution", "activations", "pooling", "conv1d", "more-convolutions", "network"]
# Keys (exact, or prefixes ending in ':' / '_') a person typically plays with on each page, with
# weights; any other enabled widget on the page gets weight 1.
FAVOURITES: dict[str, dict[str, float]] = {
    "": {"home_crop_size": 3, "home_crop_top": 3, "home_crop_left": 3, "home_channel": 2},
    "convolution": {"conv_stride": 4, "conv_dilation": 2, "conv_padding": 3, "conv_kernel_preset": 4,
                    "conv_mode": 2, "conv_row": 3, "conv_col": 3, "conv_kernel_size": 1},
    "activations": {"act_x0": 3, "act_range": 2, "act_map_fn": 3, "act_chosen": 2, "vg_depth": 1,
                    "vg_init": 1, "vg_chosen": 1},
    "pooling": {"pool_size": 4, "pool_mode": 3, "pool_row": 2, "pool_col": 2, "pool_shift": 2,
                "drop_rate": 2, "pool_padding": 1, "pool_source": 1},
    "conv1d": {"c1d_stride": 3, "c1d_dilation": 3, "c1d_padding": 3, "c1d_kernel_kind": 2,
               "c1d_signal_kind": 2, "c1d_t": 2},
    "lesson": {"lesson_next": 4, "lesson_previous": 1},
    "more-convolutions": {"mc_t_kernel": 2, "mc_t_padding": 2, "mc_t_row": 2, "mc_t_col": 2,
                          "mc_v_kernel": 2, "mc_v_padding": 2},
    "network": {"net_next": 8, "net_prev": 2, "net_channel": 3, "net_scale": 1, "net_model": 1,
                "net_smooth": 1, "net_layer:": 2},
}
# Never touched: they switch the input away from the samples, start timers, or need typing.
AVOID = ("cnnviz_source", "cnnviz_upload", "cnnviz_camera", "cnnviz_canvas", "cnnviz_present", "conv_play",
         "c1d_signal_text", "c1d_kernel_text", "conv_kernel_grid", "act_shade")


def _weight(page: str, w: Widget) -> float:
    key = w.key or ""
    if any(key.startswith(a) for a in AVOID) or w.disabled:
        return 0.0
    if w.kind not in VALUE_KINDS | TRIGGER_KINDS:
        return 0.0
    if w.kind in ("text_input", "text_area"):
        return 0.0
    for fav, weight in FAVOURITES.get(page, {}).items():
        if key == fav or (fav.endswith((":", "_")) and key.startswith(fav)):
            return weight
    return 1.0


async def act(s: StreamlitSession, rng: random.Random, *, p_page: float = 0.2,
              p_sample: float = 0.04, order: list[str] = PAGE_ORDER) -> RunResult:
    """One thing a person does: move to the next page, pick another sample, or change a widget."""
    page = s.page.strip("/")
    if rng.random() < p_page:
        nxt = order[(order.index(page) + 1) % len(order)] if page in order else order[0]
        if rng.random() < 0.2:
            nxt = rng.choice(order)
        if nxt in s.pages:
            return await s.goto(nxt)
    if rng.random() < p_sample:
        w = s.find("cnnviz_sample")
        if w is not None:
            v = w.random_value(s.states.get(w.id), rng)
            if v is not None:
                return await s.set(w, v)
    candidates = [(w, _weight(page, w)) for w in s.widgets.values() if w.script_hash != s.main_script_hash]
    candidates = [(w, x) for w, x in candidates if x > 0]
    for _ in range(8):
        if not candidates:
            break
        w = rng.choices([c[0] for c in candidates], [c[1] for c in candidates])[0]
        if w.kind in TRIGGER_KINDS:
            return await s.click(w)
        v = w.random_value(s.states.get(w.id), rng)
        if v is not None:
            return await s.set(w, v)
    return await s.goto(order[(order.index(page) + 1) % len(order)] if page in order else order[0])


# --------------------------------------------------------------------------- a crowd


@dataclasses.dataclass
class LoadReport:
    sessions: int
    duration: float
    results: list[RunResult]
    failures: list[str]          # sessions that could not connect or died
    media_fetched: int
    media_errors: int
    loadgen_cpu_s: float
    backends: dict[str, int]     # stickiness cookie value -> sessions (behind a balancer)
    health: list[float] = dataclasses.field(default_factory=list)  # /_stcore/health latencies, 1/s

    def finished(self) -> list[RunResult]:
        return [r for r in self.results if r.latency is not None]

    def errors(self) -> list[str]:
        out = list(self.failures)
        for r in self.results:
            out += [f"s{r.session} {r.page} {r.action}: {e}" for e in r.errors + r.exceptions]
        return out

    def p(self, q: float, results=None) -> float:
        lat = sorted(r.latency for r in (results if results is not None else self.finished()))
        if not lat:
            return float("nan")
        return lat[min(len(lat) - 1, max(0, int(round(q * (len(lat) - 1)))))]

    def table(self) -> str:
        by_page = defaultdict(list)
        for r in self.finished():
            by_page[r.page].append(r)
        lines = [f"{'page':<19}{'reruns':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'KB/run':>8}"]
        for page in sorted(by_page, key=lambda p: (p != "/", p)):
            rs = by_page[page]
            lines.append(f"{page:<19}{len(rs):>7}{self.p(.5, rs) * 1000:>9.0f}{self.p(.95, rs) * 1000:>9.0f}"
                         f"{max(r.latency for r in rs) * 1000:>9.0f}"
                         f"{statistics.mean(r.bytes for r in rs) / 1024:>8.0f}")
        rs = self.finished()
        if rs:
            lines.append(f"{'all':<19}{len(rs):>7}{self.p(.5) * 1000:>9.0f}{self.p(.95) * 1000:>9.0f}"
                         f"{max(r.latency for r in rs) * 1000:>9.0f}"
                         f"{statistics.mean(r.bytes for r in rs) / 1024:>8.0f}")
        return "\n".join(lines)

    def slowest_actions(self, n: int = 8) -> str:
        by = defaultdict(list)
        for r in self.finished():
            by[(r.page, re.sub(r":[0-9a-f]{6,}", ":*", re.sub(r"=.*", "", r.action)))].append(r.latency)
        rows = sorted(by.items(), key=lambda kv: -statistics.median(kv[1]))[:n]
        return "\n".join(f"  {page:<19}{action:<30} n={len(v):<4} median {statistics.median(v) * 1000:6.0f} ms"
                         f"  max {max(v) * 1000:6.0f} ms" for (page, action), v in rows)


async def run_crowd(base_url: str, sessions: int, duration: float, *, think=(2.0, 3.0), seed: int = 0,
                    ramp: float = 3.0, start_pages: list[str] | None = None, fetch_media: bool = True,
                    sticky_cookie: str | None = None, run_timeout: float = 60.0) -> LoadReport:
    """`sessions` visitors for `duration` seconds, each acting every `think` seconds (never before
    its previous run finished). Visitors start over `ramp` seconds, on pages spread over the app."""
    check_loopback(base_url)
    if not 1 <= sessions <= MAX_SESSIONS:
        raise ValueError(f"sessions must be 1..{MAX_SESSIONS}")
    if not 0 < duration <= MAX_DURATION_S:
        raise ValueError(f"duration must be in (0, {MAX_DURATION_S}] s")
    import resource
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    results: list[RunResult] = []
    failures: list[str] = []
    pages = start_pages or PAGE_ORDER
    t_end = time.perf_counter() + ramp + duration
    all_sessions: list[StreamlitSession] = []

    async def visitor(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        await asyncio.sleep(ramp * i / max(1, sessions))
        s = StreamlitSession(base_url, i, fetch_media=fetch_media, run_timeout=run_timeout,
                             record=results.append)
        all_sessions.append(s)
        try:
            await s.open("/" + pages[i % len(pages)])
            while True:
                last = s.results[-1]
                if last.errors and s.closed_reason:
                    failures.append(f"session {i}: {s.closed_reason}")
                    return
                wait = last.t_sent + rng.uniform(*think) - time.perf_counter()
                if time.perf_counter() + max(wait, 0) >= t_end:
                    return
                if wait > 0:
                    await asyncio.sleep(wait)
                await act(s, rng)
        except Exception as e:  # a visitor that cannot go on is an error, not a crash of the tool
            failures.append(f"session {i}: {type(e).__name__}: {e}")
        finally:
            await s.close()

    health: list[float] = []

    async def probe() -> None:
        """The event loop's responsiveness: /_stcore/health once a second while visitors act."""
        while time.perf_counter() < t_end:
            t = time.perf_counter()
            status, _, _ = await asyncio.to_thread(_http_get, base_url + "/_stcore/health", {})
            health.append(time.perf_counter() - t if status == 200 else float("inf"))
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - t)))

    t0 = time.perf_counter()
    prober = asyncio.create_task(probe())
    await asyncio.gather(*(visitor(i) for i in range(sessions)))
    prober.cancel()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    backends: dict[str, int] = defaultdict(int)
    if sticky_cookie:
        for s in all_sessions:
            backends[s.cookies.get(sticky_cookie, "?")] += 1
    return LoadReport(sessions, time.perf_counter() - t0, results, failures,
                      sum(s.media_fetched for s in all_sessions), sum(s.media_errors for s in all_sessions),
                      (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime), dict(backends),
                      health)


def print_report(rep: LoadReport, title: str = "") -> None:
    errs = rep.errors()
    fin = rep.finished()
    alerts = sum(len(r.error_alerts) for r in rep.results)
    print(f"{title}{rep.sessions} sessions, {rep.duration:.0f} s: {len(fin)} reruns "
          f"({len(fin) / max(rep.duration, 1e-9):.1f}/s), errors {len(errs)}, st.error alerts {alerts}, "
          f"media {rep.media_fetched} fetched / {rep.media_errors} failed, loadgen CPU {rep.loadgen_cpu_s:.1f} s")
    print(rep.table())
    if rep.health:
        h = sorted(rep.health)
        print(f"/_stcore/health while loaded: median {h[len(h) // 2] * 1000:.0f} ms, "
              f"p95 {h[int(.95 * (len(h) - 1))] * 1000:.0f} ms, max {h[-1] * 1000:.0f} ms "
              f"(a slow answer means the server's event loop was blocked)")
    if rep.backends:
        print("sessions per backend (stickiness cookie):", dict(rep.backends))
    for e in errs[:10]:
        print("  error:", e)
    if len(errs) > 10:
        print(f"  ... and {len(errs) - 10} more errors")


# --------------------------------------------------------------------------- a server to load


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(script, cwd=None, *, log_path=None, args=(), timeout: float = 90.0):
    """`streamlit run script` headless on a free loopback port; returns (process, url).

    Its output goes to a file (a temporary one unless `log_path`), never to an unread pipe: a
    loaded server logs a lot, and a full pipe blocks the thread that writes (and every thread
    that waits for the logging lock), which looks exactly like a hung app.
    """
    import os
    import subprocess
    import sys
    import tempfile
    port = free_port()
    log = open(log_path, "wb") if log_path else tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.fileWatcherType", "none", "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", *args],
        cwd=cwd or os.getcwd(), stdout=log, stderr=subprocess.STDOUT)
    proc.log = log
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            if _http_get(url + "/_stcore/health", {}, timeout=2)[0] == 200:
                return proc, url
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    log.seek(0)
    raise RuntimeError("streamlit did not become healthy:\n" + log.read().decode(errors="replace")[-3000:])


def stop(proc, timeout: float = 15.0) -> int | None:
    proc.terminate()
    try:
        return proc.wait(timeout)
    except Exception:
        proc.kill()
        return proc.wait(5)


def log_tail(proc, chars: int = 4000) -> str:
    log = getattr(proc, "log", None)
    if log is None:
        return ""
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")[-chars:]


def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS), MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used, seconds."""
    import os
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def cold_crowd(base_url: str, n: int, *, timeout: float = 180.0) -> list[RunResult]:
    """`n` visitors open the app's pages at the same moment (a class following one link)."""
    async def one(i: int) -> RunResult:
        s = StreamlitSession(base_url, i, run_timeout=timeout)
        try:
            return await s.open("/" + PAGE_ORDER[i % len(PAGE_ORDER)])
        except Exception as e:
            r = RunResult(i, "/" + PAGE_ORDER[i % len(PAGE_ORDER)], "open", time.perf_counter())
            r.errors.append(f"{type(e).__name__}: {e}")
            return r
        finally:
            await s.close()
    return list(await asyncio.gather(*(one(i) for i in range(min(n, MAX_SESSIONS)))))


async def warm_up(base_url: str, *, timeout: float = 180.0) -> list[RunResult]:
    """One visitor opens every page and steps a layer on /network (TensorFlow, models, caches)."""
    s = StreamlitSession(base_url, -1, run_timeout=timeout)
    out = [await s.open("/")]
    for page in PAGE_ORDER[1:]:
        if page in s.pages:
            out.append(await s.goto(page))
    nxt = s.find("net_next")
    if nxt is not None:
        out.append(await s.click(nxt))
    await s.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url", help="e.g. http://127.0.0.1:8501 (loopback only)")
    ap.add_argument("--sessions", type=int, default=5)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sticky-cookie", default=None, help="the balancer's cookie name, to count backends")
    ap.add_argument("--no-media", action="store_true")
    a = ap.parse_args()
    rep = asyncio.run(run_crowd(a.url, a.sessions, a.duration, seed=a.seed, sticky_cookie=a.sticky_cookie,
                                fetch_media=not a.no_media))
    print_report(rep)
    print("slowest actions:\n" + rep.slowest_actions())


if __name__ == "__main__":
    main()
