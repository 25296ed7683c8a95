"""What a pull run is asked (:class:`PullOptions`, :class:`Repair`) and what it answers
(:class:`Progress` events, a :class:`StreamResult`), plus the engine's defaults."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from odoosync.cursor import DEFAULT_OVERLAP
from odoosync.exceptions import ConfigError
from odoosync.models import RunCounters, RunStatus, SyncMode, Trigger
from odoosync.pull.reconcile import DEFAULT_MAX_DELETE_SHARE

__all__ = [
    "DEFAULT_MAX_DELETE_SHARE",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_PARALLEL_STREAMS",
    "JOB",
    "PROBE_ROWS",
    "Progress",
    "PullOptions",
    "Repair",
    "StreamResult",
    "checkpoint_key",
]

JOB = "pull"
DEFAULT_PAGE_SIZE = 500  # records per search_read: ~0.5 MB of JSON for leads, few round trips
DEFAULT_PARALLEL_STREAMS = 4  # streams at once; requests in flight stay capped by the client
PROBE_ROWS = 10  # rows per bounds probe: Odoo may hide some of them after SQL's LIMIT


def checkpoint_key(backend: str, stream: str) -> str:
    """``pull:<backend>:<stream>``: where a stream's state lives (and its lock's name)."""
    return f"pull:{backend}:{stream}"


@dataclass(frozen=True)
class PullOptions:
    """How to run. ``budget`` in seconds (None: no limit); ``odoo_id`` implies ``record``."""

    mode: SyncMode = SyncMode.INCREMENTAL
    odoo_id: int | None = None
    budget: float | None = None
    overlap: dt.timedelta = DEFAULT_OVERLAP
    page_size: int = DEFAULT_PAGE_SIZE
    reconcile: bool = True
    trigger: Trigger = Trigger.MANUAL
    company_id: int | None = None
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE
    allow_mass_delete: bool = False

    def __post_init__(self) -> None:
        if self.odoo_id is not None and self.mode != SyncMode.RECORD:
            object.__setattr__(self, "mode", SyncMode.RECORD)
        if self.mode == SyncMode.RECORD and self.odoo_id is None:
            raise ConfigError("mode 'record' needs an Odoo id (--odoo-id N)")
        if self.page_size < 1:
            raise ConfigError(f"page size must be at least 1 (got {self.page_size})")
        if self.budget is not None and self.budget <= 0:
            raise ConfigError(f"the budget must be positive (got {self.budget} s)")
        if not 0 <= self.max_delete_share <= 1:
            raise ConfigError(f"max_delete_share must be between 0 and 1 (got {self.max_delete_share})")


@dataclass(frozen=True)
class Progress:
    """A progress event: ``phase`` is ``start``, ``page``, ``reconcile`` or ``done``."""

    stream: str
    phase: str
    counters: RunCounters
    done: int = 0
    total: int | None = None


@dataclass(frozen=True)
class StreamResult:
    """What one stream's run did (also stored as its ``ops.odoo_sync_runs`` row)."""

    stream: str
    model: str
    mode: str
    status: RunStatus
    counters: RunCounters
    remaining: bool = False
    duration_ms: int = 0
    run_id: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "model": self.model,
            "mode": self.mode,
            "status": str(self.status),
            **self.counters.as_dict(),
            "remaining": self.remaining,
            "duration_ms": self.duration_ms,
            "run_id": self.run_id,
            "error": self.error,
        }


@dataclass(frozen=True)
class Repair:
    """What a repair run does: read and write ``read`` (missing or stale in the database),
    and mark deleted those of ``gone`` that a direct read confirms Odoo no longer has,
    within the mass-delete limit counted on ``present`` rows."""

    read: tuple[int, ...] = ()
    gone: tuple[int, ...] = ()
    present: int = 0
