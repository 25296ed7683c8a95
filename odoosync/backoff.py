"""The one backoff formula: ``base * 2^(attempt-1)`` seconds, at most ``cap``.

Every retry schedule in odoosync grows the same way; callers add what is theirs on top
(the Odoo client draws a random delay up to it, "full jitter"; a 429's ``Retry-After``
is a floor). Pure: no sleeping, no clock.
"""

from __future__ import annotations

__all__ = ["exponential_delay"]


def exponential_delay(base: float, attempt: int, *, cap: float | None = None) -> float:
    """Seconds to wait after the ``attempt``-th failed attempt (1-based; 0 counts as 1)."""
    delay = base * 2 ** max(attempt - 1, 0)
    return delay if cap is None else min(delay, cap)
