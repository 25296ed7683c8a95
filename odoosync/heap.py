"""The garbage collector's settings for the commands that sync (``sync``, ``serve``,
``worker``, ``demo``), set once their modules are loaded.

A pull allocates millions of short-lived objects (decoded JSON, mapped rows) and few
cycles. With Python's defaults the collector runs every 700 allocations and rescans
the whole heap (every loaded module, the schema, the settings) over and over: 0.8-1.0 s
of a full seed-scale import's 5 s of CPU (``docs/performance.md``, "The collector").
Freezing what is loaded takes it out of every scan; collecting the young generation
every 20,000 allocations (and the older ones 20 times rarer each) bounds the garbage
cycles can hold to a few MiB while cutting the collector's share to a third.
"""

from __future__ import annotations

import gc

__all__ = ["settle"]

YOUNG_THRESHOLD = 20_000  # allocations between two young collections (Python's default: 700)
OLDER_EVERY = 20  # young collections per middle one, and middle per old (default: 10)


def settle() -> None:
    """Collect once, freeze the survivors out of later scans and raise the thresholds.
    Process-wide: only an entry point calls it, never the library."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_EVERY, OLDER_EVERY)
