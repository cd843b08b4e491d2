"""Where cnnviz runs: a public demo (the default) or on your own machine.

Set the environment variable ``CNNVIZ_MODE`` before starting the app:

    CNNVIZ_MODE=public   (the default) for hosting: visitors may upload pictures, but no file a
                         visitor gives is ever opened as a model.
    CNNVIZ_MODE=local    on your own computer: the network explorer may also open your own
                         ``.keras`` model (checked first, see cnnviz.model_files).

    CNNVIZ_MODE=local streamlit run app.py

Any other value stops the app at start-up with a clear message. UI-free; no TensorFlow.
"""
from __future__ import annotations

import os

ENV = "CNNVIZ_MODE"
PUBLIC = "public"
LOCAL = "local"
MODES = (PUBLIC, LOCAL)


class SettingsError(ValueError):
    """A setting has a value cnnviz does not know."""


def mode() -> str:
    """'public' or 'local', read from $CNNVIZ_MODE (unset or empty means 'public')."""
    raw = os.environ.get(ENV, "")
    value = raw.strip().lower() or PUBLIC
    if value not in MODES:
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise SettingsError(f"{ENV}={shown!r} is not a mode cnnviz knows: use {ENV}=public "
                            f"(the default, for hosting) or {ENV}=local (on your own computer).")
    return value


def is_public() -> bool:
    """True unless the app was started with CNNVIZ_MODE=local."""
    return mode() == PUBLIC
