"""Keep the server's memory flat: fewer malloc arenas for the many threads Streamlit starts.

Streamlit runs every script run in a thread of its own. glibc gives threads their own malloc
arenas (up to 8 per core) and keeps the memory freed in each, so the server's RSS climbed for
hundreds of reruns before it levelled off (benchmarks/bench_soak.py, 500 reruns over every page:
+68 MB; with two arenas +19 MB, the same speed). MALLOC_ARENA_MAX=2 in the environment does the
same for a whole process; this sets it from inside, for `streamlit run app.py` as people type it.
"""
from __future__ import annotations

import ctypes
import ctypes.util

ARENAS = 2
_M_ARENA_MAX = -8   # glibc's mallopt() parameter number (malloc.h)


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc for at most `arenas` malloc arenas from now on; False where that is not glibc."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        return bool(ctypes.CDLL(name).mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):   # musl, macOS, Windows: no mallopt, nothing to do
        return False
