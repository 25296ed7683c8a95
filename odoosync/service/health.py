"""What ``/api/health`` reports: one line per component of the running service.

A component is a callable returning ``None`` when it works and a short reason when it
does not (``"reconnecting: OperationalError"``). The service registers its parts
(database, Odoo, scheduler, the outbox listener, the webhook queue); the API calls each
one, never letting one's failure hide another's, and answers ``503`` when any is down, so
a load balancer or a monitor sees a listener that lost its database instead of a
cheerful ``ok``. :class:`CachedProbe` keeps a costly check (a request to Odoo) to one
call per interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Check", "CachedProbe", "check_all"]

Check = Callable[[], "str | None"]


def check_all(checks: Mapping[str, Check]) -> dict[str, dict[str, Any]]:
    """``{name: {"ok": bool, "detail": str}}`` for every check; a check that raises is down."""
    report: dict[str, dict[str, Any]] = {}
    for name, check in checks.items():
        try:
            problem = check()
        except Exception as exc:  # noqa: BLE001 - a failing check is a finding, not an error
            problem = f"{type(exc).__name__}"
        report[name] = {"ok": problem is None, "detail": problem or "ok"}
    return report


class CachedProbe:
    """Runs ``probe`` (raising when the component is down) at most every ``seconds``."""

    def __init__(self, probe: Callable[[], Any], seconds: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self._probe = probe
        self._seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._problem: str | None = None

    def __call__(self) -> str | None:
        with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self._seconds:
                try:
                    self._probe()
                    self._problem = None
                except Exception as exc:  # noqa: BLE001 - reported by the health check
                    self._problem = f"unreachable: {type(exc).__name__}"
                self._checked_at = now
            return self._problem
