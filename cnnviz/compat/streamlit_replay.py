"""A page's render recorded in one session's script run and sent again in another's (Streamlit
1.67 internals, none of them public; `check` runs before the hooks go in). cnnviz.ui.follow_render uses it for
the students who follow one teacher's view: the first follower's run of the page records it,
every further follower's run sends the recording instead of running the page.

A page's output is a function of what it reads: the address (the caller's key), the session
state it reads before writing it, and its widgets' values. So `record` notes, while the page
runs in this thread:
  * the messages it sends (ForwardMsg deltas and fragment timers; the address bar's own message
    is left out: the session's own run sends its address);
  * every session-state key the page reads through st.session_state before it writes it (its
    value, copied), and at the end the value of every key it wrote or changed in place;
  * each widget it registers (metadata, user key) and the value the session state gave it;
  * the ids the run reserves (element ids, keys, forms, fragments), the media files it adds
    (pictures, deferred downloads) and the fragments it stores, all kept per session.
`replay` first compares the reads with this session's state, writes the writes (undone where a
widget then differs), registers the widgets and compares their values; only if all agree does it
reserve the ids, add the media and fragments for this session and send copies of the messages.
Otherwise it sends nothing and the caller runs the page.

A recording is refused (None) for a page that reads the whole session state, sends another kind
of message, keeps a value that is not plain data (numbers, text, arrays, containers and
dataclasses of them, functions) or more than MAX_BYTES of it, or shows one of the caller's
private strings (a student's secret seat).
"""
from __future__ import annotations

import collections
import copy
import dataclasses
import enum
import logging
import threading
import types
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.elements.lib.utils import TESTING_KEY, save_for_app_testing
from streamlit.runtime import media_file_manager
from streamlit.runtime.forward_msg_cache import create_reference_msg, populate_hash_if_needed
from streamlit.runtime.fragment import MemoryFragmentStorage
from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext, get_script_run_ctx
from streamlit.runtime.state import SafeSessionState, session_state, session_state_proxy

from cnnviz.compat import Library
from cnnviz.compat.streamlit_internals import WRITTEN_FOR, active_session

MAX_BYTES = 4 * 2**20            # of session-state values kept by one recording
KEPT_MESSAGES = {"delta", "auto_rerun"}
DROPPED_MESSAGES = {"page_info_changed"}     # the address: each session's run sends its own
_RUN_SETS = ("widget_ids_this_run", "widget_user_keys_this_run", "form_ids_this_run", "new_fragment_ids")
_local = threading.local()
_log = logging.getLogger(__name__)


class NotReplayable(Exception):
    pass


@dataclass
class Recording:
    page_hash: str
    messages: list[ForwardMsg]
    reads: list[tuple[str, bool, Any]]          # (key, present, value) before the page wrote it
    writes: list[tuple[str, bool, Any]]         # (key, present, value) when the page ended
    widgets: list[tuple[Any, str | None, tuple]]   # (metadata, user key, the result's fields)
    run_sets: dict[str, frozenset[str]]
    media: list[tuple[tuple, dict]]
    deferred: list[tuple[tuple, dict, str]]     # ... and the placeholder id it gave
    fragments: list[tuple[tuple, dict]]         # fragment_storage.register's (args, kwargs)
    size: int                                   # bytes it holds, about
    testing: dict[str, Any]                     # what widgets showed AppTest (tests only)
    with_deferred: frozenset[int]               # the messages that hold a deferred download's id


@dataclass
class _Recorder:
    ignore: Callable[[str], bool]
    reads: dict[str, tuple[bool, Any]] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)
    messages: list[ForwardMsg] = field(default_factory=list)
    widgets: list = field(default_factory=list)
    media: list = field(default_factory=list)
    deferred: list = field(default_factory=list)
    fragments: list = field(default_factory=list)
    refused: str | None = None
    nbytes: int = 0
    testing_before: dict = field(default_factory=dict)

    def refuse(self, why: str) -> None:
        self.refused = self.refused or why

    def read(self, key: str, present: bool, value: Any) -> None:
        if key in self.reads or key in self.written or self.ignore(key) or self.refused:
            return
        try:
            self.reads[key] = (present, self.snapshot(value) if present else None)
        except NotReplayable as e:
            self.refuse(f"{key}: {e}")

    def snapshot(self, value: Any) -> Any:
        kept, size = plain_copy(value)
        self.nbytes += size
        if self.nbytes > MAX_BYTES:
            raise NotReplayable("too much session state")
        return kept


def _recorder() -> _Recorder | None:
    return getattr(_local, "recorder", None)


# --------------------------------------------------------------------------- plain values

_ATOMS = (type(None), bool, int, float, complex, str, bytes, np.generic, type, enum.Enum,
          types.FunctionType, types.BuiltinFunctionType)    # (a setting's parser is a function)


def plain_copy(value: Any, depth: int = 0) -> tuple[Any, int]:
    """A copy of plain data (a dict or list of a subclass becomes a plain one) and the bytes it
    holds; NotReplayable for anything else."""
    if depth > 20:
        raise NotReplayable("nested too deep")
    if isinstance(value, _ATOMS):
        return value, len(value) if isinstance(value, (str, bytes)) else 8
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise NotReplayable("an array of objects")
        kept = value.copy()
        kept.flags.writeable = value.flags.writeable      # a shared picture stays read-only
        return kept, value.nbytes
    if isinstance(value, dict):
        items = [(plain_copy(k, depth + 1), plain_copy(v, depth + 1)) for k, v in value.items()]
        pairs = [(k, v) for (k, _), (v, _) in items]
        if isinstance(value, collections.defaultdict):
            kept = collections.defaultdict(value.default_factory, pairs)
        else:
            kept = (collections.OrderedDict if isinstance(value, collections.OrderedDict) else dict)(pairs)
        return kept, 8 + sum(a + b for (_, a), (_, b) in items)
    if isinstance(value, (list, tuple, set, frozenset)):
        parts = [plain_copy(v, depth + 1) for v in value]
        size = 8 + sum(n for _, n in parts)
        if _named_tuple(value):
            return type(value)(*(v for v, _ in parts)), size
        kind = next(k for k in (list, tuple, frozenset, set) if isinstance(value, k))
        return kind(v for v, _ in parts), size
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out, size = copy.copy(value), 8
        for f in dataclasses.fields(value):
            part, n = plain_copy(getattr(value, f.name), depth + 1)
            object.__setattr__(out, f.name, part)
            size += n
        return out, size
    raise NotReplayable(f"a {type(value).__name__}")


def _named_tuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _kind(value: Any) -> type:
    for kind in (dict, list, tuple):
        if isinstance(value, kind) and not _named_tuple(value):
            return kind
    return type(value)


def same(a: Any, b: Any) -> bool:
    """Whether two plain values are equal (arrays by dtype, shape and every element; a dict,
    list or tuple of a subclass as a plain one)."""
    if a is b:
        return True
    if _kind(a) is not _kind(b):
        return False
    if isinstance(a, np.ndarray):
        return (a.dtype == b.dtype and a.shape == b.shape
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):      # in the same order: a page may show them in it
        return list(a) == list(b) and all(same(v, b[k]) for k, v in a.items())
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, float) and a != a and b != b:
        return True
    try:
        return bool(a == b) is True
    except Exception:   # noqa: BLE001 (a value that cannot say: not the same)
        return False


# --------------------------------------------------------------------------- recording

def record(body: Callable[[], None], page_hash: str, *, ignore: Callable[[str], bool],
           private: tuple[str, ...] = ()) -> Recording | None:
    """Run body() (the page) in this script run as ever, and return what it did as a Recording,
    or None where it cannot be replayed (see the module). ignore(key): a session-state key that
    is the page's cache, not its input. private: strings that must not be in what it showed."""
    install()
    ctx = get_script_run_ctx()
    if ctx is None or _recorder() is not None:
        body()
        return None
    before = {name: getattr(ctx.shared, name).snapshot() for name in _RUN_SETS}
    recorder = _local.recorder = _Recorder(ignore)
    recorder.testing_before = _testing_values(ctx)
    try:
        body()
    finally:
        _local.recorder = None
    if recorder.refused:
        _log.debug("not recorded: %s", recorder.refused)
        return None
    try:
        return _finish(ctx, recorder, before, page_hash, private)
    except NotReplayable as e:
        _log.debug("not recorded: %s", e)
        return None


def _finish(ctx: ScriptRunContext, recorder: _Recorder, before: dict, page_hash: str,
            private: tuple[str, ...]) -> Recording:
    state = ctx.session_state
    writes = []
    for key in sorted(recorder.written | set(recorder.reads)):
        if recorder.ignore(key):
            continue
        present = key in state
        value = state[key] if present else None
        was = recorder.reads.get(key)
        if key in recorder.written or was is None or was[0] != present or not same(was[1], value):
            writes.append((key, present, recorder.snapshot(value) if present else None))
    secrets = [s.encode() for s in private if s]
    size = recorder.nbytes + sum(len(a[0]) for a, _ in recorder.media if isinstance(a[0], bytes))
    deferred_ids = [old.encode() for *_, old in recorder.deferred]
    with_deferred = set()
    for i, msg in enumerate(recorder.messages):
        data = msg.SerializeToString()
        size += len(data)
        if any(s in data for s in secrets):
            raise NotReplayable("a private string is shown")
        if any(d in data for d in deferred_ids):
            with_deferred.add(i)
    return Recording(
        page_hash, recorder.messages, [(k, p, v) for k, (p, v) in recorder.reads.items()], writes,
        recorder.widgets,
        {name: getattr(ctx.shared, name).snapshot() - before[name] for name in _RUN_SETS},
        recorder.media, recorder.deferred, recorder.fragments, size,
        {k: v for k, v in _testing_values(ctx).items() if recorder.testing_before.get(k, k) is not v},
        frozenset(with_deferred))


def _testing_values(ctx: ScriptRunContext) -> dict:
    """The widget values Streamlit keeps for AppTest (only when it runs the app)."""
    return dict(ctx.session_state[TESTING_KEY]) if TESTING_KEY in ctx.session_state else {}


# --------------------------------------------------------------------------- replaying

def replay(recording: Recording) -> bool:
    """Send `recording` as this run's page if this session's state gives the page the same
    inputs (True); else send nothing (False), and the caller runs the page."""
    ctx = get_script_run_ctx()
    if ctx is None or _recorder() is not None:
        return False
    state = ctx.session_state
    for key, present, value in recording.reads:
        if (key in state) != present or (present and not same(state[key], value)):
            _log.debug("not replayed: the page reads %s, another value here", key)
            return False
    before = _layers(state)
    try:
        for key, present, value in recording.writes:
            if present:
                state[key] = plain_copy(value)[0]
            elif key in state:
                del state[key]
        for metadata, user_key, result in recording.widgets:
            if not same(_result_fields(state.register_widget(metadata, user_key), metadata), result):
                raise NotReplayable(metadata.id)
    except BaseException as e:          # another value, or a rerun asked for meanwhile: as before
        _restore_layers(state, before)
        if isinstance(e, NotReplayable):
            _log.debug("not replayed: widget %s has another value here", e)
            return False
        raise
    _send(ctx, recording)
    return True


_LAYERS = (("_old_state",), ("_new_session_state",), ("_new_widget_state", "states"),
           ("_new_widget_state", "widget_metadata"), ("_key_id_mapper", "_key_id_mapping"),
           ("_key_id_mapper", "_id_key_mapping"), ("_query_param_bound_widget_ids",))


def _layer(state, path: tuple[str, ...]):
    found = state._state
    for name in path:
        found = getattr(found, name)
    return found


def _layers(state) -> list:
    """Copies of the containers a replay changes in a session's state (its values, widgets' states
    and metadata, key mappings), to put back exactly where it does not go on."""
    with state._lock:
        return [copy.copy(_layer(state, path)) for path in _LAYERS]


def _restore_layers(state, copies: list) -> None:
    with state._lock:
        for path, kept in zip(_LAYERS, copies):
            layer = _layer(state, path)
            layer.clear()
            layer.update(kept)


def _result_fields(result, metadata) -> tuple:
    """What a widget's drawing depends on: its value, whether it changed, and (a segmented
    control's) whether the labels the browser sent are stale (the wire value it came in as only
    helps Streamlit reconcile the value, which is compared)."""
    labels = result.incoming_serialized_values
    try:
        stale = labels is not None and labels != metadata.serializer(result.value)
    except Exception:   # noqa: BLE001 (a value its serializer refuses: say stale, as Streamlit would differ)
        stale = True
    return result.value, result.value_changed, stale


def _send(ctx: ScriptRunContext, recording: Recording) -> None:
    for name, ids in recording.run_sets.items():
        run_set = getattr(ctx.shared, name)
        for i in ids:
            run_set.check_and_add(i)
    manager = _media_files()
    for args, kwargs in recording.media:
        manager.add(*args, **kwargs)
    renamed = {old.encode(): manager.add_deferred(*args, **kwargs).encode()
               for args, kwargs, old in recording.deferred}
    for args, kwargs in recording.fragments:
        ctx.fragment_storage.register(*args, **kwargs)
    for element_id, value in recording.testing.items():
        save_for_app_testing(ctx, element_id, value)
    messages = []
    for i, msg in enumerate(recording.messages):
        out = ForwardMsg()
        if i in recording.with_deferred:      # its download's placeholder id is this session's own
            data = msg.SerializeToString()
            for old, new in renamed.items():
                data = data.replace(old, new)
            out.ParseFromString(data)
            out.hash = ""
        else:
            out.CopyFrom(msg)
        messages.append(out)
    _deliver(ctx, messages, recording.page_hash)


def _deliver(ctx: ScriptRunContext, messages: list[ForwardMsg], page_hash: str) -> None:
    """What ctx.enqueue does for each message (they carry the page's hash already), in one hop to
    the server's event loop instead of one per message (a call_soon_threadsafe, a wake-up write
    and a signal each), where there is a server; under AppTest, ctx.enqueue."""
    runner = getattr(ctx._enqueue, "__self__", None)
    session = active_session(ctx.session_id)
    if runner is None or session is None or session._scriptrunner is not runner:
        with ctx.run_with_active_hash(page_hash):
            for msg in messages:
                ctx.enqueue(msg)
        return
    ready = []
    for msg in messages:
        populate_hash_if_needed(msg)
        cached = msg.metadata.cacheable and msg.hash and msg.hash in ctx.cached_message_hashes
        ready.append(create_reference_msg(msg) if cached else msg)
    runner._maybe_handle_execution_control_request()    # a stop or rerun asked for: as ever

    def on_loop() -> None:
        if session._scriptrunner is runner:              # as for every message of a run
            for msg in ready:
                session._enqueue_forward_msg(msg)
    session._call_soon_on_event_loop(on_loop)


def page_hash(page) -> str:
    """The hash st.Page `page` runs under (its elements carry it)."""
    return page._script_hash


def _media_files():
    from streamlit import runtime
    return runtime.get_instance().media_file_mgr


# --------------------------------------------------------------------------- the hooks

def _hook(cls, name: str, after: Callable, *, also_when_it_fails: bool = False) -> None:
    """cls.name(*a) runs as before; then, in a recording thread, after(recorder, result, *a)
    (result None where it raised, if also_when_it_fails)."""
    original = getattr(cls, name)

    def hooked(*args, **kwargs):
        try:
            result = original(*args, **kwargs)
        except Exception:
            recorder = _recorder()
            if recorder is not None and also_when_it_fails:
                after(recorder, None, *args, **kwargs)
            raise
        recorder = _recorder()
        if recorder is not None:
            after(recorder, result, *args, **kwargs)
        return result
    hooked.__wrapped__ = original
    setattr(cls, name, hooked)


def _on_enqueue(recorder: _Recorder, _result, _ctx, msg: ForwardMsg) -> None:
    kind = msg.WhichOneof("type")
    if kind in KEPT_MESSAGES:
        kept = ForwardMsg()
        kept.CopyFrom(msg)
        recorder.messages.append(kept)
    elif kind not in DROPPED_MESSAGES:
        recorder.refuse(f"a {kind} message")


def _on_widget(recorder: _Recorder, result, _state, metadata, user_key) -> None:
    try:
        recorder.widgets.append((metadata, user_key, recorder.snapshot(_result_fields(result, metadata))))
    except NotReplayable as e:
        recorder.refuse(f"widget {metadata.id}: {e}")


def _on_media(recorder: _Recorder, _url, _manager, *args, **kwargs) -> None:
    recorder.media.append((args, kwargs))


def _on_deferred(recorder: _Recorder, file_id, _manager, *args, **kwargs) -> None:
    recorder.deferred.append((args, kwargs, file_id))


def _on_fragment(recorder: _Recorder, _result, _storage, *args, **kwargs) -> None:
    recorder.fragments.append((args, kwargs))


def _on_outside_wrapper(recorder: _Recorder, *_args, **_kwargs) -> None:
    recorder.refuse("a fragment writes outside its container")   # its cursor is per session


def _on_write(recorder: _Recorder, _result, _proxy, key, *_value) -> None:
    recorder.written.add(str(key))


def _on_whole_state(recorder: _Recorder, *_args) -> None:
    recorder.refuse("the whole session state was read")


def _read_hook() -> None:
    proxy = session_state_proxy.SessionStateProxy
    original = proxy.__getitem__

    def getitem(self, key):
        recorder = _recorder()
        if recorder is None:
            return original(self, key)
        try:
            value = original(self, key)
        except KeyError:
            recorder.read(str(key), False, None)
            raise
        recorder.read(str(key), True, value)
        return value
    getitem.__wrapped__ = original
    proxy.__getitem__ = getitem


_installed = threading.Lock()
_done = False


def install() -> None:
    """The hooks, once per process (they do nothing outside a recording)."""
    global _done
    if _done:
        return
    with _installed:
        if _done:
            return
        check()
        proxy = session_state_proxy.SessionStateProxy
        _hook(ScriptRunContext, "enqueue", _on_enqueue)
        _hook(session_state.SessionState, "register_widget", _on_widget)
        _hook(media_file_manager.MediaFileManager, "add", _on_media)
        _hook(media_file_manager.MediaFileManager, "add_deferred", _on_deferred)
        _hook(MemoryFragmentStorage, "register", _on_fragment)
        _hook(MemoryFragmentStorage, "register_outside_wrapper", _on_outside_wrapper)
        _read_hook()
        _hook(proxy, "__setitem__", _on_write)
        _hook(proxy, "__delitem__", _on_write, also_when_it_fails=True)   # a key that is not there
        for name in ("__iter__", "__len__", "__str__", "to_dict"):        # stays away: a write too
            _hook(proxy, name, _on_whole_state)
        _done = True


def check(version: str | None = None) -> Library:
    """Raise InternalsChanged when something the hooks rely on is missing in the installed
    Streamlit."""
    from streamlit.navigation.page import Page
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner
    from streamlit.runtime.scriptrunner_utils.shared_run_state import SharedRunState
    from streamlit.runtime.state.common import RegisterWidgetResult

    streamlit = Library.found("streamlit", WRITTEN_FOR, "streamlit_replay", version)
    ctx_fields = {f.name for f in dataclasses.fields(ScriptRunContext)}
    shared = SharedRunState()
    streamlit.require({"session_state", "fragment_storage", "shared", "session_id", "_enqueue",
                       "cached_message_hashes"} <= ctx_fields
                      and callable(getattr(ScriptRunContext, "run_with_active_hash", None))
                      and all(callable(getattr(getattr(shared, n), "snapshot", None)) for n in _RUN_SETS),
                      "ScriptRunContext's session_state, fragment_storage, shared run sets, _enqueue, "
                      "cached_message_hashes, run_with_active_hash")
    state = session_state.SessionState()
    streamlit.require(all(hasattr(_layer(types.SimpleNamespace(_state=state), path), "clear")
                          for path in _LAYERS[:-1])
                      and isinstance(state._query_param_bound_widget_ids, set)
                      and {"_lock", "_state"} <= set(SafeSessionState.__init__.__code__.co_consts),
                      "SessionState's layers (_old_state, _new_session_state, _new_widget_state.states/"
                      "widget_metadata, _key_id_mapper mappings), SafeSessionState._lock/_state")
    streamlit.require({"value", "value_changed", "incoming_serialized_values"}
                      <= {f.name for f in dataclasses.fields(RegisterWidgetResult)}
                      and callable(getattr(session_state.SessionState, "register_widget", None))
                      and all(callable(getattr(session_state_proxy.SessionStateProxy, n, None))
                              for n in ("__getitem__", "__setitem__", "__delitem__", "__iter__", "__len__",
                                        "__str__", "to_dict")),
                      "SessionState.register_widget's result, SessionStateProxy's item methods")
    streamlit.require(all(callable(getattr(media_file_manager.MediaFileManager, n, None))
                          for n in ("add", "add_deferred"))
                      and all(callable(getattr(MemoryFragmentStorage, n, None))
                              for n in ("register", "register_outside_wrapper")),
                      "MediaFileManager.add/add_deferred, MemoryFragmentStorage.register/register_outside_wrapper")
    streamlit.require(isinstance(getattr(Page, "_script_hash", None), property)
                      and callable(getattr(ScriptRunner, "_maybe_handle_execution_control_request", None))
                      and all(callable(getattr(AppSession, n, None))
                              for n in ("_enqueue_forward_msg", "_call_soon_on_event_loop"))
                      and "_scriptrunner" in AppSession.__init__.__code__.co_names,
                      "st.Page._script_hash, ScriptRunner's execution control, AppSession._enqueue_forward_msg/"
                      "_call_soon_on_event_loop/_scriptrunner")
    return streamlit
