"""How pushes of one Odoo model behave: batch size, retries, backoff, conflicts, deletes.

Read from ``ops.odoo_sync_config`` under ``sb_to_odoo:<model>``, e.g.
``{"max_batch": 50, "max_attempts": 5, "base_backoff_seconds": 10,
"conflict_policy": "odoo_wins", "on_delete": "archive"}``; every key is optional.
Validation reports every problem at once.

The retry decision is pure (:meth:`PushPolicy.decide`): a transient Odoo error is
retried at ``now + base_backoff_seconds * 2^(attempts-1)`` (10 s, 20 s, 40 s, 80 s by
default; longer when Odoo's ``Retry-After`` says so) until ``max_attempts`` attempts were
made; a permanent error (validation, access, missing record) gives up at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from odoosync.backoff import exponential_delay
from odoosync.exceptions import ConfigError, OdooError, OdooTransientError, RateLimited
from odoosync.push.conflicts import ConflictPolicy

__all__ = ["PushPolicy", "Retry", "GiveUp", "CONFIG_PREFIX", "parse_policy"]

CONFIG_PREFIX = "sb_to_odoo:"
DELETE_MODES = ("archive", "unlink")


@dataclass(frozen=True)
class Retry:
    """Try again at ``at``."""

    at: dt.datetime


@dataclass(frozen=True)
class GiveUp:
    """Stop: the item is ``failed`` with ``reason``."""

    reason: str


@dataclass(frozen=True)
class PushPolicy:
    """Push settings of one model, with the design's defaults."""

    max_batch: int = 50
    max_attempts: int = 5
    base_backoff_seconds: float = 10.0
    conflict_policy: ConflictPolicy = ConflictPolicy.ODOO_WINS
    on_delete: str = "archive"  # a lead deleted in the app: archive it in Odoo, or unlink

    def backoff(self, attempts: int) -> dt.timedelta:
        """The wait after the ``attempts``-th failed attempt (1-based)."""
        return dt.timedelta(seconds=exponential_delay(self.base_backoff_seconds, attempts))

    def decide(self, error: BaseException, attempts: int, now: dt.datetime) -> Retry | GiveUp:
        """Retry a transient error with backoff until ``max_attempts``; give up otherwise."""
        message = _describe(error)
        if not isinstance(error, OdooTransientError):
            return GiveUp(message)
        if attempts >= self.max_attempts:
            return GiveUp(f"gave up after {attempts} attempts: {message}")
        delay = self.backoff(attempts)
        if isinstance(error, RateLimited) and error.retry_after:
            delay = max(delay, dt.timedelta(seconds=error.retry_after))
        return Retry(now + delay)


def _describe(error: BaseException) -> str:
    name = type(error).__name__
    if isinstance(error, OdooError) and error.odoo_name:
        name = f"{name} ({error.odoo_name})"
    return f"{name}: {error}"


def parse_policy(model: str, value: Mapping[str, Any] | None) -> PushPolicy:
    """A validated policy from a config value; every problem reported at once."""
    value = dict(value or {})
    problems: list[str] = []
    where = f"{CONFIG_PREFIX}{model}"
    known = {"max_batch", "max_attempts", "base_backoff_seconds", "conflict_policy", "on_delete"}
    for key in sorted(set(value) - known):
        problems.append(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
    kwargs: dict[str, Any] = {}
    for key in ("max_batch", "max_attempts"):
        if key in value:
            number = value[key]
            if not isinstance(number, int) or isinstance(number, bool) or number < 1:
                problems.append(f"{where}: {key} must be a whole number ≥ 1, got {number!r}")
            else:
                kwargs[key] = number
    if "base_backoff_seconds" in value:
        seconds = value["base_backoff_seconds"]
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
            problems.append(f"{where}: base_backoff_seconds must be a number ≥ 0, got {seconds!r}")
        else:
            kwargs["base_backoff_seconds"] = float(seconds)
    if "conflict_policy" in value:
        try:
            kwargs["conflict_policy"] = ConflictPolicy.parse(str(value["conflict_policy"]))
        except ConfigError as exc:
            problems.append(f"{where}: {exc}")
    if "on_delete" in value:
        if value["on_delete"] not in DELETE_MODES:
            problems.append(f"{where}: on_delete must be one of {', '.join(DELETE_MODES)}, got {value['on_delete']!r}")
        else:
            kwargs["on_delete"] = value["on_delete"]
    if problems:
        raise ConfigError(problems[0], problems)
    return PushPolicy(**kwargs)
