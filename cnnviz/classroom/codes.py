"""Room codes: 6 characters from an alphabet without look-alikes (no 0 O 1 I L), said aloud or
copied from a projector without mistakes.

Why guessing a code is impractical: there are 31**6 = 887,503,681 codes. A server holds at most
Limits.max_rooms = 50 rooms, so a random guess hits a running class with probability
50 / 887,503,681 = 1 in 17.7 million. Rooms.join refuses an address after
Limits.joins_per_minute = 20 failed joins within a minute, so one address makes at most
20 * 60 * 3 = 3,600 guesses in the 3 hours a room lives without its teacher: a 1 in 4,900 chance of
landing in some class (3,600 / 17.7 million), and that class's teacher sees the stranger's
nickname and can end the room. Reading a room's answers or steering it needs the teacher's key
(secrets.token_urlsafe(24), 192 bits), which is never guessed.
"""
from __future__ import annotations

import secrets

from cnnviz.classroom.errors import RoomError

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 6
_ALLOWED = frozenset(ALPHABET)


def new_code() -> str:
    """A random room code (secrets: not predictable from earlier codes)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def parse_code(text: str) -> str:
    """A code as typed or linked ("  ab3-k7q " -> "AB3K7Q"); RoomError(one line) when it cannot be one.
    Spaces and dashes are ignored, so a code read out in two halves still works."""
    if not isinstance(text, str) or len(text) > 4 * LENGTH:
        raise RoomError(f"A class code has {LENGTH} letters and digits.")
    code = "".join(c for c in text.strip().upper() if c not in " -")
    if len(code) != LENGTH:
        raise RoomError(f"A class code has {LENGTH} letters and digits.")
    if not set(code) <= _ALLOWED:
        raise RoomError("A class code uses only the letters A-Z without I, L and O, and the digits 2-9.")
    return code
