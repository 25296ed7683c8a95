"""A stored checkpoint in words, for the CLI and the dashboard: people read
"changes up to 2026-12-03 14:02:11 (record 812)", not a JSON document.

Works on the stored JSON (``ops.odoo_sync_checkpoints.cursor``, see ``odoosync.cursor``)
and never fails on a shape it does not know: it then shows the keys it found.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["describe_cursor"]


def describe_cursor(state: Mapping[str, Any] | None) -> str:
    """One line: how far the stream has read, and any read in progress."""
    if not state:
        return "nothing read yet"
    parts = []
    cursor = state.get("cursor")
    if isinstance(cursor, Mapping) and cursor.get("write_date"):
        parts.append(
            f"changes up to {cursor['write_date']}" + (f" (record {cursor['id']})" if cursor.get("id") else "")
        )
    walk = state.get("walk")
    if isinstance(walk, Mapping) and isinstance(walk.get("partitions"), list):
        partitions = walk["partitions"]
        done = sum(1 for p in partitions if isinstance(p, list | tuple) and len(p) > 2 and p[2])
        parts.append(f"full read in progress: {done} of {len(partitions)} parts done")
    increment = state.get("increment")
    if isinstance(increment, Mapping) and isinstance(increment.get("since"), Mapping):
        parts.append(
            f"reading changes since {increment['since'].get('write_date')}, after record {increment.get('after', 0)}"
        )
    if not parts:
        keys = ", ".join(sorted(str(k) for k in state if state[k] not in (None, {}, [])))
        return f"stored ({keys})" if keys else "nothing read yet"
    return "; ".join(parts)
