"""The one error a live class shows a visitor: RoomError, whose text is one plain line."""
from __future__ import annotations


class RoomError(ValueError):
    """Refused: an unknown or ended room, a wrong key, bad input or a limit. str(e) is one plain
    line for the visitor (show it with cnnviz.ui.plain_text.plain, as it may quote their input)."""


class StoreUnavailable(RoomError):
    """The shared store (Redis) did not answer; the room itself is not lost."""
