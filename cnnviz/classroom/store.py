"""Where a live class's rooms are kept: in this process (MemoryStore) or in Redis (RedisStore).

Both stores only store; every rule of a room lives once in cnnviz.classroom.rooms. The contract
is a handful of hash operations, each atomic on its own:

    hget(key, field) -> bytes | None        hgetall(key) -> {field: bytes}
    hset(key, {field: bytes})               hsetnx(key, field, value) -> bool (set if absent)
    hdel(key, *fields) -> int               hincrby(key, field, amount) -> int
    hlen(key) -> int                        delete(*keys)
    expire(keys, seconds)                   scan(prefix) -> [key, ...]

Keys and fields are str, values bytes. A key whose expiry has passed is gone (hgetall gives {}).
store_from_env() picks RedisStore when CNNVIZ_REDIS_URL is set (several app processes share a
class), else a MemoryStore (one process, nothing to install).
"""
from __future__ import annotations

import functools
import os
import threading
import time

from cnnviz.classroom.errors import StoreUnavailable

REDIS_URL_ENV = "CNNVIZ_REDIS_URL"


class MemoryStore:
    """The store inside one process: thread-safe (Streamlit runs each session in a thread of the
    same process), with expiry read from `clock` (injectable for tests): a key is gone once its
    time has passed, and its memory is freed when it is next touched or by the sweep that a
    write makes at most once every SWEEP_EVERY seconds (keys nobody reads again, such as an
    abandoned room's, are freed too)."""

    SWEEP_EVERY = 60.0

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._hashes: dict[str, dict[str, bytes]] = {}
        self._expires: dict[str, float] = {}
        self._swept = clock()

    def __len__(self) -> int:
        """Keys held in memory, expired or not (what the sweep frees)."""
        with self._lock:
            return len(self._hashes)

    def _live(self, key: str) -> dict[str, bytes] | None:   # with the lock held
        when = self._expires.get(key)
        if when is not None and self._clock() >= when:
            self._hashes.pop(key, None)
            self._expires.pop(key, None)
        return self._hashes.get(key)

    def _hash(self, key: str) -> dict[str, bytes]:           # with the lock held; made if absent
        now = self._clock()
        if now - self._swept >= self.SWEEP_EVERY:
            self._swept = now
            for gone in [k for k, when in self._expires.items() if now >= when]:
                self._hashes.pop(gone, None)
                del self._expires[gone]
        found = self._live(key)
        if found is None:
            found = self._hashes[key] = {}
        return found

    def _drop_if_empty(self, key: str) -> None:              # Redis removes an empty hash too
        if not self._hashes.get(key, True):
            self._hashes.pop(key, None)
            self._expires.pop(key, None)

    def hget(self, key: str, field: str) -> bytes | None:
        with self._lock:
            return (self._live(key) or {}).get(field)

    def hgetall(self, key: str) -> dict[str, bytes]:
        with self._lock:
            return dict(self._live(key) or {})

    def hset(self, key: str, mapping: dict[str, bytes]) -> None:
        with self._lock:
            self._hash(key).update({f: bytes(v) for f, v in mapping.items()})

    def hsetnx(self, key: str, field: str, value: bytes) -> bool:
        with self._lock:
            fields = self._hash(key)
            if field in fields:
                return False
            fields[field] = bytes(value)
            return True

    def hdel(self, key: str, *fields: str) -> int:
        with self._lock:
            found = self._live(key) or {}
            gone = sum(found.pop(f, None) is not None for f in fields)
            self._drop_if_empty(key)
            return gone

    def hincrby(self, key: str, field: str, amount: int = 1) -> int:
        with self._lock:
            fields = self._hash(key)
            value = int(fields.get(field, b"0")) + amount
            fields[field] = str(value).encode()
            return value

    def hlen(self, key: str) -> int:
        with self._lock:
            return len(self._live(key) or {})

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._hashes.pop(key, None)
                self._expires.pop(key, None)

    def expire(self, keys, seconds: int) -> None:
        with self._lock:
            when = self._clock() + seconds
            for key in keys:
                if self._live(key) is not None:
                    self._expires[key] = when

    def scan(self, prefix: str) -> list[str]:
        with self._lock:
            return [k for k in list(self._hashes) if k.startswith(prefix) and self._live(k) is not None]


def _reachable(method):
    """Redis errors (server down, timeout) become StoreUnavailable: a RoomError with one line."""
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except self._redis_errors as e:
            raise StoreUnavailable("The class's shared store is not answering; try again in a moment.") from e
    return call


class RedisStore:
    """The store in a Redis server (redis-py), shared by every app process that uses the same URL.
    Each operation is one Redis command (expire: one pipeline), so each is atomic."""

    def __init__(self, url: str):
        import redis   # only a deployment with CNNVIZ_REDIS_URL needs it
        self._redis_errors = redis.exceptions.RedisError   # down, timed out, refused (auth, memory)
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                           health_check_interval=30, retry_on_timeout=True)

    @_reachable
    def hget(self, key, field):
        return self._redis.hget(key, field)

    @_reachable
    def hgetall(self, key):
        return {f.decode(): v for f, v in self._redis.hgetall(key).items()}

    @_reachable
    def hset(self, key, mapping):
        self._redis.hset(key, mapping=mapping)

    @_reachable
    def hsetnx(self, key, field, value):
        return bool(self._redis.hsetnx(key, field, value))

    @_reachable
    def hdel(self, key, *fields):
        return int(self._redis.hdel(key, *fields)) if fields else 0

    @_reachable
    def hincrby(self, key, field, amount=1):
        return int(self._redis.hincrby(key, field, amount))

    @_reachable
    def hlen(self, key):
        return int(self._redis.hlen(key))

    @_reachable
    def delete(self, *keys):
        if keys:
            self._redis.delete(*keys)

    @_reachable
    def expire(self, keys, seconds):
        with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.expire(key, int(seconds))
            pipe.execute()

    @_reachable
    def scan(self, prefix):
        pattern = "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"
        return [k.decode() for k in self._redis.scan_iter(match=pattern, count=500)]

    def close(self) -> None:
        self._redis.close()


def store_from_env():
    """RedisStore(CNNVIZ_REDIS_URL) when it is set, else a MemoryStore."""
    url = os.environ.get(REDIS_URL_ENV, "").strip()
    return RedisStore(url) if url else MemoryStore()
