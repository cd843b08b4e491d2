"""Page settings <-> the address bar (st.query_params), so a link reproduces a view.

A page declares its settings as Params: the name in the URL, the st.session_state key of the
widget that holds the value, the default, and a parser that turns URL text into a valid value
or raises ValueError with a short reason. Then:

    restore(PARAMS, "convolution")   # top of the page, before its widgets
    ...widgets...
    publish()                        # end of the run (app.py) and of every fragment (fragment())

restore() applies a link that came from outside (a shared or pasted address): every setting of
the scope takes the link's value, or its default when the link leaves it out or holds a bad
value; bad values are reported in one line. An address without any of the scope's settings
(after moving to another page, Streamlit empties it) changes nothing. publish() writes the
current settings back; values equal to their default are left out, so links stay short.
"""
from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from cnnviz.compat import streamlit_internals
from cnnviz.typed import quote

MAX_VALUE_CHARS = 200       # a longer value is refused before it is parsed
MAX_QUERY_CHARS = 4000      # a longer address is ignored as a whole
PROBLEMS_KEY = "cnnviz_url_problems"
_PUBLISHED = "cnnviz_url_published_"   # + scope: what publish() last wrote for the scope
_ACTIVE_SCOPES = "cnnviz_url_scopes"   # scopes restored in this run: publish() writes them all
_FROM_LINK = "cnnviz_url_from_link"    # {number key: (URL name, value)} a link has just set
_OPEN_AS_LINK = "cnnviz_url_open_as_link"   # open_as_link(): the next full run takes the address as a link
_AS_LINK = "cnnviz_url_as_link"             # this run takes the address as a link
AFTER_PUBLISH: list[Callable[[dict[str, str]], None]] = []   # called with what publish() wrote


@dataclass(frozen=True)
class Param:
    name: str                          # in the URL
    key: str                           # in st.session_state (the widget's key)
    default: Any
    parse: Callable[[str], Any]        # URL text -> value; ValueError(reason) if unusable
    encode: Callable[[Any], str] = str
    max_chars: int = MAX_VALUE_CHARS   # a longer value is refused before it is parsed
    lo: Any = None                     # a number's range, in links and in its widget (widget())
    hi: Any = None

    def text(self, value: Any) -> str | None:
        """The URL text for value, or None when it is the default (left out of links)."""
        if value is None or value == self.default:
            return None
        return self.encode(value)


# --------------------------------------------------------------------------- parsers

def _number_text(text: str) -> str:
    text = text.strip().replace("−", "-")
    if not text:
        raise ValueError("is empty")
    return text


def integer(name: str, key: str, lo: int, hi: int, default: int) -> Param:
    def parse(text: str) -> int:
        text = _number_text(text)
        if not re.fullmatch(r"[+-]?\d{1,9}", text):
            raise ValueError(f"{quote(text)} is not a whole number from {lo} to {hi}")
        value = int(text)
        if not lo <= value <= hi:
            raise ValueError(f"{value} is outside {lo} to {hi}")
        return value
    return Param(name, key, default, parse, lo=lo, hi=hi)


def number(name: str, key: str, lo: float, hi: float, default: float) -> Param:
    def parse(text: str) -> float:
        text = _number_text(text)
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{quote(text)} is not a number from {lo:g} to {hi:g}") from None
        if not math.isfinite(value) or not lo <= value <= hi:
            raise ValueError(f"{quote(text)} is outside {lo:g} to {hi:g}")
        return value
    return Param(name, key, default, parse, encode=lambda v: f"{v:g}", lo=lo, hi=hi)


def number_pair(name: str, key: str, lo: float, hi: float, default: tuple[float, float]) -> Param:
    """Two numbers 'a,b' with lo <= a < b <= hi (a range slider)."""
    one = number(name, key, lo, hi, default[0]).parse

    def parse(text: str) -> tuple[float, float]:
        parts = text.split(",")
        if len(parts) != 2:
            raise ValueError(f"{quote(text)} is not two numbers like {default[0]:g},{default[1]:g}")
        a, b = one(parts[0]), one(parts[1])
        if a >= b:
            raise ValueError(f"{quote(text)} does not go from a smaller to a larger number")
        return (a, b)
    return Param(name, key, tuple(default), parse, encode=lambda v: f"{v[0]:g},{v[1]:g}", lo=lo, hi=hi)


def flag(name: str, key: str, default: bool) -> Param:
    words = {"1": True, "true": True, "yes": True, "on": True,
             "0": False, "false": False, "no": False, "off": False}

    def parse(text: str) -> bool:
        try:
            return words[text.strip().lower()]
        except KeyError:
            raise ValueError(f"{quote(text)} is not 1 or 0") from None
    return Param(name, key, default, parse, encode=lambda v: "1" if v else "0")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def choice(name: str, key: str, options: Sequence | Mapping, default: Any,
           what: str = "option") -> Param:
    """One of `options`; in the URL as a short lower-case slug of the option ("sobel-x").

    options: the widget's options, or a mapping {option: URL text} where the slug would not do.
    """
    texts = dict(options) if isinstance(options, Mapping) else {o: _slug(o) for o in options}
    by_text = {t: o for o, t in texts.items()}
    by_text.update({_slug(o): o for o in texts})          # 'Sobel x' and 'sobel-x' both work

    def parse(text: str) -> Any:
        for candidate in (text.strip(), _slug(text)):
            if candidate in by_text:
                return by_text[candidate]
        shown = ", ".join(list(texts.values())[:8]) + (", …" if len(texts) > 8 else "")
        raise ValueError(f"{quote(text)} is not a known {what} ({shown})")
    return Param(name, key, default, parse, encode=lambda v: texts.get(v, _slug(v)))


def choices(name: str, key: str, options: Sequence, default: Sequence, what: str = "option") -> Param:
    """Several of `options`, comma-separated ('relu,tanh'); an empty value means none."""
    one = choice(name, key, options, None, what)

    def parse(text: str) -> list:
        picked = [one.parse(t) for t in text.split(",") if t.strip()]
        return list(dict.fromkeys(picked))
    return Param(name, key, list(default), parse,
                 encode=lambda values: ",".join(one.encode(v) for v in values))


def text(name: str, key: str, default: str, max_chars: int = MAX_VALUE_CHARS,
         check: Callable[[str], Any] | None = None) -> Param:
    """Free text the page validates itself (e.g. typed numbers); its length is checked here, and
    `check` (raising ValueError with a reason) may refuse it at once."""
    def parse(value: str) -> str:
        if len(value) > max_chars:
            raise ValueError(f"{quote(value)} is longer than {max_chars} characters")
        if check is not None:
            check(value)
        return value
    return Param(name, key, default, parse, max_chars=max_chars)


def identifier(name: str, key: str, default: str | None, what: str) -> Param:
    """A short name (a layer, a network) that the page checks against what exists."""
    def parse(value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", value.strip()):
            raise ValueError(f"{quote(value)} is not a {what} name")
        return value.strip()
    return Param(name, key, default, parse)


def widget(params: Sequence[Param], key: str, widget_key: str | None = None) -> dict[str, Any]:
    """The min_value, max_value and key of the widget for the number setting `key`, from its
    Param: a link accepts exactly what the widget can show (st.slider(label, **widget(...))).
    widget_key: the widget's own key where it differs from the setting's."""
    p = next(p for p in params if p.key == key)
    if p.lo is None:
        raise ValueError(f"{p.name} is not a number setting")
    return {"min_value": p.lo, "max_value": p.hi, "key": widget_key or key}


def page_widget(key: str) -> dict[str, Any]:
    """widget() for a setting of the page now running, for code that does not hold its PARAMS."""
    return widget([p for params in st.session_state[_ACTIVE_SCOPES].values() for p in params], key)


# --------------------------------------------------------------------------- reading and writing

def _incoming(names: set[str]) -> dict[str, str]:
    return {k: st.query_params.get(k) for k in st.query_params if k in names}


def _problem(message: str) -> None:
    st.session_state.setdefault(PROBLEMS_KEY, []).append(message)


def begin_run() -> None:
    """Start of a full run (app.py): forget the scopes of the page shown before."""
    st.session_state[_ACTIVE_SCOPES] = {}
    st.session_state[_FROM_LINK] = {}
    st.session_state[_AS_LINK] = st.session_state.pop(_OPEN_AS_LINK, False)


def open_as_link(token: str | None = None) -> None:
    """The next full run takes the address bar as a freshly opened link, also where it leaves a
    scope's settings out (they take their defaults): a view a student follows is a whole view.
    token: names this opening (link_token), the same for every session that opens the same view."""
    st.session_state[_OPEN_AS_LINK] = token or True


def link_token() -> str | None:
    """The token of the link this run opens (open_as_link), or None: widgets that must start
    afresh with a link can key themselves by it instead of by how often this session started
    them afresh, so every student who follows one view gets the same widgets."""
    token = st.session_state.get(_AS_LINK)
    return token if isinstance(token, str) else None


def restore(params: Sequence[Param], scope: str) -> bool:
    """Apply the address bar's values for `params` if they came from outside; True if applied."""
    state = st.session_state
    state.setdefault(_ACTIVE_SCOPES, {})[scope] = list(params)
    size = sum(len(k) + len(v) + 2 for k in st.query_params for v in st.query_params.get_all(k))
    if size > MAX_QUERY_CHARS:
        if state.get(_PUBLISHED + scope) != "too long":
            _problem(f"the link is {size:,} characters long (at most {MAX_QUERY_CHARS:,} are read), "
                     "so all of it was ignored")
            state[_PUBLISHED + scope] = "too long"
        return False
    incoming = _incoming({p.name for p in params})
    if not state.get(_AS_LINK) and (not incoming or incoming == state.get(_PUBLISHED + scope)):
        return False
    from_link = state.setdefault(_FROM_LINK, {})
    for p in params:
        raw = incoming.get(p.name)
        value = p.default
        if raw is not None:
            try:
                if len(raw) > p.max_chars:
                    raise ValueError(f"{quote(raw)} is too long")
                value = p.parse(raw)
                if p.lo is not None:      # a number: its widget may have to clamp it (take_linked)
                    from_link[p.key] = (p.name, value)
            except ValueError as exc:
                _problem(f"{p.name} ({exc})")
        if value is None:
            discard(p.key)
        else:
            state[p.key] = list(value) if isinstance(value, list) else value
    state[_PUBLISHED + scope] = incoming
    return True


def discard(key: str) -> None:
    """Remove `key` from the session state, if there: a removal, not a read of its old value (a
    page that reads no value does not depend on it, see follow_render.py)."""
    with contextlib.suppress(KeyError):
        del st.session_state[key]


def set_defaults(params: Sequence[Param]) -> None:
    """Give each setting its default unless the session (or a link) holds a value: for pages whose
    widgets take their value from st.session_state alone, so the default is written once, here."""
    for p in params:
        if p.default is not None:
            st.session_state.setdefault(p.key, p.default)


def current(params: Sequence[Param]) -> dict[str, str]:
    """The URL values of `params` as the session holds them now (defaults left out)."""
    out = {}
    for p in params:
        value = st.session_state.get(p.key)
        if isinstance(value, list) and isinstance(p.default, tuple):
            value = tuple(value)
        encoded = p.text(value)
        if encoded is not None:
            out[p.name] = encoded
    return out


def publish() -> dict[str, str]:
    """Write the settings of every scope restored in this run to the address bar."""
    state = st.session_state
    wanted: dict[str, str] = {}
    for scope, params in state.get(_ACTIVE_SCOPES, {}).items():
        values = current(params)
        wanted.update(values)
        state[_PUBLISHED + scope] = values or None
    if wanted != st.query_params.to_dict():
        st.query_params.from_dict(wanted)
    state.pop(_AS_LINK, None)
    for hook in AFTER_PUBLISH:
        hook(wanted)
    return wanted


def take_linked(key: str) -> tuple[str, Any] | None:
    """(URL name, value) if a link has just set the setting `key` (once), else None: for a widget
    whose range depends on the picture, to say when the link's value does not fit it."""
    return st.session_state.get(_FROM_LINK, {}).pop(key, None)


def take_problems() -> str | None:
    """One line about the linked values that could not be used (once), or None."""
    problems = st.session_state.pop(PROBLEMS_KEY, None)
    if not problems:
        return None
    return ("Some settings in this link could not be used, so their defaults are shown: "
            + "; ".join(dict.fromkeys(problems)) + ".")


def fragment(func=None, **fragment_options):
    """st.fragment that also writes the settings to the address bar when it reruns alone."""
    def wrap(f):
        @functools.wraps(f)
        def run_and_publish(*args, **kwargs):
            try:
                return f(*args, **kwargs)
            finally:
                if streamlit_internals.in_fragment_rerun():   # a full run publishes at its end
                    publish()
        return st.fragment(run_and_publish, **fragment_options)
    return wrap(func) if func is not None else wrap
