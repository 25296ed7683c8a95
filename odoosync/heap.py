"""The garbage collector's settings and the C allocator's arenas for the commands that
sync (``sync``, ``serve``, ``worker``, ``demo``), set once their modules are loaded.

A pull allocates millions of short-lived objects (decoded JSON, mapped rows) and few
cycles. With Python's defaults the collector runs every 700 allocations and rescans
the whole heap (every loaded module, the schema, the settings) over and over: 0.8-1.0 s
of a full seed-scale import's 5 s of CPU (``docs/performance.md``, "The collector").
Freezing what is loaded takes it out of every scan; collecting the young generation
every 20,000 allocations (and the older ones 20 times rarer each) bounds the garbage
cycles can hold to a few MiB while cutting the collector's share to a third.

The C allocator is told to keep at most ``MALLOC_ARENAS`` arenas (glibc only). By default
glibc gives each new thread an arena of its own, up to eight per core, and a sync runs a
dozen threads (read-ahead, prepare, request workers, stream runs): each arena keeps the
freed pages of the large buffers (response bodies, statement parameters) that passed
through it, and a seed-scale import's peak RSS was 13 MiB higher at scale 10 and 6 MiB
at scale 1 (``docs/performance.md``, "Memory (session 8)"). Python already serialises the
allocating work, so two arenas cost no measurable time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import platform

__all__ = ["settle"]

YOUNG_THRESHOLD = 20_000  # allocations between two young collections (Python's default: 700)
OLDER_EVERY = 20  # young collections per middle one, and middle per old (default: 10)
MALLOC_ARENAS = 2  # glibc's default: 8 per core, one per thread until then
_M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


def settle() -> None:
    """Collect once, freeze the survivors out of later scans and raise the thresholds.
    Process-wide: only an entry point calls it, never the library."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_EVERY, OLDER_EVERY)
    limit_malloc_arenas()


def limit_malloc_arenas() -> bool:
    """Cap glibc's malloc arenas at ``MALLOC_ARENAS`` (threads made later share them);
    False where the C library is not glibc (nothing changes there)."""
    if platform.libc_ver()[0] != "glibc":
        return False  # musl, macOS, Windows: no such parameter
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    return bool(libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS))
