"""Value objects shared by the engines, the store, the CLI and the API.

Small, immutable and free of I/O: what a sync run counted (``RunCounters``), how it
ended (``RunStatus``), who started it (``Trigger``), what it did (``SyncMode``), a run
as recorded in ``ops.odoo_sync_runs`` (``SyncRun``) and a stored cursor
(``Checkpoint``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

__all__ = ["RunCounters", "RunStatus", "Trigger", "SyncMode", "SyncRun", "Checkpoint", "VERIFY_JOB", "PARTIAL_MODES"]


VERIFY_JOB = "verify"
"""The runs log's job name for ``odoosync verify`` checks (they sync nothing)."""

PARTIAL_MODES = ("record", "repair")
"""Pull modes that touch a few records of a stream, not the stream (no freshness)."""


class RunStatus(StrEnum):
    """How a run ended (``running`` while it has not)."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # stopped early (budget, SIGTERM, crash): a re-run continues
    FAILED = "failed"
    SKIPPED = "skipped"  # not run: another run held the lock, or a stream it comes after failed
    INTERRUPTED = "interrupted"  # its process died or lost the database: closed by a sweep
    REFUSED = "refused"  # a sheet sync the mass-delete guard refused: nothing changed (sheets/deletes.py)


class Trigger(StrEnum):
    """Who asked for the run."""

    MANUAL = "manual"
    SCHEDULE = "schedule"
    API = "api"
    WEBHOOK = "webhook"


class SyncMode(StrEnum):
    """What a pull run reads."""

    FULL = "full"
    INCREMENTAL = "incremental"
    MISSING = "missing"
    RECORD = "record"  # one record, ``--odoo-id N``


@dataclass(frozen=True)
class RunCounters:
    """What a run did, row by row and call by call. Counters add up with ``+``."""

    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    failed: int = 0
    rpc_calls: int = 0
    retries: int = 0
    rejected: int = 0  # records the database refused, quarantined in ops.odoo_sync_rejects

    def __add__(self, other: RunCounters) -> RunCounters:
        return RunCounters(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class SyncRun:
    """One row of ``ops.odoo_sync_runs``."""

    id: int
    job: str
    stream: str
    mode: str
    trigger: str
    backend: str
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    heartbeat_at: dt.datetime | None = None
    counters: RunCounters = field(default_factory=RunCounters)
    error: str | None = None
    remaining: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    stored_duration_ms: int | None = None

    @property
    def duration_ms(self) -> int:
        """Milliseconds from start to finish (to now while the run is still going)."""
        if self.stored_duration_ms is not None:
            return self.stored_duration_ms
        end = self.finished_at or dt.datetime.now(dt.UTC)
        return max(0, int((end - self.started_at).total_seconds() * 1000))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: counters flattened, timestamps ISO 8601, ``duration_ms`` included."""
        return {
            "id": self.id,
            "job": self.job,
            "stream": self.stream,
            "mode": self.mode,
            "trigger": self.trigger,
            "backend": self.backend,
            "status": str(self.status),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "heartbeat_at": _iso(self.heartbeat_at),
            **self.counters.as_dict(),
            "duration_ms": self.duration_ms,
            "error": self.error,
            "remaining": self.remaining,
            "details": self.details,
        }


@dataclass(frozen=True)
class Checkpoint:
    """One row of ``ops.odoo_sync_checkpoints``: where a stream resumes."""

    key: str
    cursor: dict[str, Any]
    updated_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "cursor": self.cursor, "updated_at": _iso(self.updated_at)}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
