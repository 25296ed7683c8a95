"""Planning a full read: cut the id range into partitions walked concurrently.

Odoo ids only grow, so a keyset walk (``id > last``, ``order: id``) never skips or
repeats a record however the table changes underneath, unlike ``offset`` paging. To read
in parallel the range ``[min id, max id]`` is cut into equal slices; each slice is its
own keyset walk. The last slice ends at the highest id Odoo had when the walk began
(records created later are the next increment's), or is open-ended when that is unknown.
Pure functions; the engine fetches the bounds.
"""

from __future__ import annotations

import math

from odoosync.cursor import FullWalk, Partition

__all__ = ["plan_partitions", "plan_walk"]


def plan_partitions(
    min_id: int | None, max_id: int | None, count: int, page_size: int, *, bounded: bool = False
) -> tuple[Partition, ...]:
    """At most ``count`` partitions covering ``[min_id, ∞)`` (``[min_id, max_id]`` when
    ``bounded``), none smaller than a page.

    ``min_id`` None (nothing matches yet) gives one open partition from the start;
    ``max_id`` None or below ``min_id``, one open partition from ``min_id``.
    """
    if count < 1 or page_size < 1:
        raise ValueError("count and page_size must be at least 1")
    if min_id is None:
        return (Partition(0, None),)
    if max_id is None or max_id < min_id:
        return (Partition(min_id - 1, None),)
    span = max_id - min_id + 1
    parts = max(1, min(count, math.ceil(span / page_size)))
    step = math.ceil(span / parts)
    start = min_id - 1
    bounds = [start + i * step for i in range(parts)]
    last = max_id if bounded else None
    return tuple(Partition(after, bounds[i + 1] if i + 1 < parts else last) for i, after in enumerate(bounds))


def plan_walk(
    min_id: int | None, max_id: int | None, count: int, page_size: int, start=None, *, bounded: bool = False
) -> FullWalk:
    """A fresh :class:`FullWalk` over ``[min_id, ∞)`` (or up to ``max_id``) that began at ``start``."""
    return FullWalk(plan_partitions(min_id, max_id, count, page_size, bounded=bounded), start)
