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

A full walk hands each written round's memory back with :func:`release_free_memory`:
a round's thousands of records and rows, freed at once, leave free pages scattered
through the heap, which glibc keeps (it returns only the heap's top by itself) and the
next round fills in a different pattern. Returning them after every round took the
leads import's peak at scale 10 from 114-115 to 109 MiB and at scale 20 from 121 to
117.5 MiB, for about 1 ms a round (``docs/performance.md``, "Memory (session 9)").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import platform

__all__ = ["release_free_memory", "settle"]

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
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS))


def release_free_memory() -> bool:
    """Return the C allocator's free pages to the operating system, wherever they lie in
    its heap (glibc's ``malloc_trim``); False where the C library is not glibc. Safe from
    any thread and any caller: it frees nothing that is in use."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if platform.libc_ver()[0] != "glibc":
        return None  # musl, macOS, Windows: neither mallopt's parameter nor malloc_trim
    return ctypes.CDLL(ctypes.util.find_library("c"))
