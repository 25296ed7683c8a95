"""The simulator's clock: real UTC time, or frozen / moved by tests.

Odoo stamps ``create_date``/``write_date`` with the transaction's start time
(PostgreSQL's ``now()``, microseconds included) and serves them cut to the second;
other datetimes it sets (``fields.Datetime.now()``) are whole seconds. Tests need many
edits inside one second and edits "in the past", so the clock can be frozen, advanced
and released; a frozen clock still gives each transaction its own microseconds.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

__all__ = ["Clock", "format_datetime", "format_stored"]


def format_datetime(moment: datetime) -> str:
    """Odoo's wire format for datetimes: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def format_stored(moment: datetime) -> str:
    """A stamp as PostgreSQL stores it: with microseconds (served cut to 19 characters)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


class Clock:
    """UTC time for stamps; ``freeze``/``advance``/``release`` for tests."""

    def __init__(self, frozen_at: datetime | None = None):
        self._lock = threading.Lock()
        self._frozen: datetime | None = None
        self._tick = 0
        if frozen_at is not None:
            self.freeze(frozen_at)

    def now(self) -> datetime:
        """Current UTC time (naive, like Odoo's ``fields.Datetime.now()``), whole seconds."""
        with self._lock:
            moment = self._frozen or datetime.now(UTC).replace(tzinfo=None)
        return moment.replace(microsecond=0)

    def stamp(self, at: datetime | None = None) -> datetime:
        """A transaction's start as Odoo's ``cr.now()`` records it: ``at`` (default now)
        with microseconds that are never zero, distinct per call within a second (a
        frozen clock or a whole-second ``at`` gets a counter's)."""
        with self._lock:
            if at is None and self._frozen is None:
                moment = datetime.now(UTC).replace(tzinfo=None)
                if moment.microsecond:
                    return moment
            else:
                moment = at or self._frozen or datetime.now(UTC).replace(tzinfo=None)
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC).replace(tzinfo=None)
            if moment.microsecond and at is not None:
                return moment
            self._tick = self._tick % 999_999 + 1
            return moment.replace(microsecond=self._tick)

    def freeze(self, at: datetime | None = None) -> datetime:
        """Stop time at ``at`` (default: now). Aware datetimes are converted to UTC."""
        at = at or self.now()
        if at.tzinfo is not None:
            at = at.astimezone(UTC).replace(tzinfo=None)
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
