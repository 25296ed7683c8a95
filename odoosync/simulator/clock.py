"""The simulator's clock: real UTC time, or frozen / moved by tests.

Odoo stamps ``create_date``/``write_date`` with the transaction's start time at
one-second precision. Tests need many edits inside one second and edits "in the past",
so the clock can be frozen, advanced and released.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

__all__ = ["Clock", "format_datetime"]


def format_datetime(moment: datetime) -> str:
    """Odoo's wire format for datetimes: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class Clock:
    """UTC time for stamps; ``freeze``/``advance``/``release`` for tests."""

    def __init__(self, frozen_at: datetime | None = None):
        self._lock = threading.Lock()
        self._frozen: datetime | None = None
        if frozen_at is not None:
            self.freeze(frozen_at)

    def now(self) -> datetime:
        """Current UTC time (naive, like Odoo's ``fields.Datetime.now()``), whole seconds."""
        with self._lock:
            moment = self._frozen or datetime.now(timezone.utc).replace(tzinfo=None)
        return moment.replace(microsecond=0)

    def freeze(self, at: datetime | None = None) -> datetime:
        """Stop time at ``at`` (default: now). Aware datetimes are converted to UTC."""
        at = at or self.now()
        if at.tzinfo is not None:
            at = at.astimezone(timezone.utc).replace(tzinfo=None)
        with self._lock:
            self._frozen = at.replace(microsecond=0)
            return self._frozen

    def advance(self, seconds: float = 1.0) -> datetime:
        """Move a frozen clock forward (freezing it at now first if it was running)."""
        with self._lock:
            base = self._frozen
        if base is None:
            base = self.freeze()
        return self.freeze(base + timedelta(seconds=seconds))

    def release(self) -> None:
        """Let the clock follow real time again."""
        with self._lock:
            self._frozen = None

    @property
    def frozen(self) -> bool:
        return self._frozen is not None
