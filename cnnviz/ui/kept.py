"""A process-wide keep of values within a byte budget: least recently used dropped first.

Shared by the encoded pictures (figures.encoding) and the pages' results (session_memo): both
keep what many sessions ask for again, and both must not grow without bound.
"""
from __future__ import annotations

import collections
import threading


class Kept:
    """Values under keys, at most `budget` bytes in all (each value's size as the caller gives
    it); a value larger than an eighth of the budget is not kept. Thread-safe."""

    def __init__(self, budget: int):
        self.budget = budget
        self.size = 0
        self._values: "collections.OrderedDict[object, tuple[object, int]]" = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, default=None):
        """The value under `key` (now the most recently used), or `default`. TypeError for a key
        that cannot be hashed."""
        with self._lock:
            found = self._values.get(key)
            if found is None:
                return default
            self._values.move_to_end(key)
            return found[0]

    def put(self, key, value, size: int) -> None:
        if size > self.budget // 8:
            return
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self._values[key] = (value, size)
            self.size += size
            while self.size > self.budget:
                self.size -= self._values.popitem(last=False)[1][1]
