"""The runs log (``ops.odoo_sync_runs``): one row per sync run, from start to finish.

Each call is its own short transaction, apart from the run's data: the log shows a run
as ``running`` while it works, with its counters and a heartbeat, even if its page
transactions roll back. A process that dies leaves a ``running`` row behind;
``close_stale_runs`` closes such rows as ``partial`` once their heartbeat is older than
a threshold (a re-run continues from the checkpoint).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from odoosync.models import RunCounters, RunStatus, SyncRun
from odoosync.store.database import Store
from odoosync.store.schema import odoo_sync_runs

__all__ = [
    "start_run",
    "update_progress",
    "finish_run",
    "record_skipped",
    "get_run",
    "list_runs",
    "close_stale_runs",
]

_runs = odoo_sync_runs
_COUNTER_COLUMNS = tuple(RunCounters().as_dict())
_FINAL = (RunStatus.OK, RunStatus.PARTIAL, RunStatus.FAILED, RunStatus.SKIPPED, RunStatus.REFUSED)
MAX_ERROR_CHARS = 4000


def start_run(
    store: Store,
    *,
    job: str,
    stream: str,
    mode: str,
    trigger: str,
    backend: str = "default",
    details: Mapping[str, Any] | None = None,
) -> int:
    """Record a run as ``running`` and return its id."""
    now = _now()
    return _insert_run(
        store, job=job, stream=stream, mode=str(mode), trigger=str(trigger), backend=backend,
        status=RunStatus.RUNNING.value, started_at=now, heartbeat_at=now, details=dict(details or {}),
    )


def update_progress(
    store: Store, run_id: int, counters: RunCounters, details: Mapping[str, Any] | None = None
) -> None:
    """Store the counters so far (absolute, not increments) and beat the heartbeat."""
    # A heartbeat proves the run alive: a run closed as stale by mistake is running again.
    values: dict[str, Any] = {
        **counters.as_dict(),
        "heartbeat_at": _now(),
        "status": RunStatus.RUNNING.value,
        "finished_at": None,
        "duration_ms": None,
        "error": None,
        "remaining": False,
    }
    if details is not None:
        values["details"] = dict(details)
    with store.transaction() as conn:
        _update_run(conn, run_id, values)


def finish_run(
    store: Store,
    run_id: int,
    status: RunStatus | str,
    counters: RunCounters,
    *,
    error: str | None = None,
    remaining: bool = False,
    details: Mapping[str, Any] | None = None,
) -> SyncRun:
    """Close the run with its final status and counters; returns the finished run."""
    status = RunStatus(status)
    if status not in _FINAL:
        raise ValueError(f"a run finishes as one of {[s.value for s in _FINAL]}, not {status.value!r}")
    with store.transaction() as conn:
        started_at = conn.execute(sa.select(_runs.c.started_at).where(_runs.c.id == run_id)).scalar_one_or_none()
        if started_at is None:
            raise ValueError(f"no run with id {run_id}")
        finished_at = _now()
        values: dict[str, Any] = {
            **counters.as_dict(),
            "status": status.value,
            "finished_at": finished_at,
            "heartbeat_at": finished_at,
            "duration_ms": max(0, int((finished_at - started_at).total_seconds() * 1000)),
            "error": _truncate(error),
            "remaining": remaining,
        }
        if details is not None:
            values["details"] = dict(details)
        _update_run(conn, run_id, values)
    run = get_run(store, run_id)
    assert run is not None
    return run


def record_skipped(
    store: Store, *, job: str, stream: str, mode: str, trigger: str, backend: str = "default", reason: str
) -> int:
    """Log a run that did not start (e.g. the lock was held): status ``skipped``, ``reason`` as error."""
    now = _now()
    return _insert_run(
        store, job=job, stream=stream, mode=str(mode), trigger=str(trigger), backend=backend,
        status=RunStatus.SKIPPED.value, started_at=now, finished_at=now, heartbeat_at=now,
        duration_ms=0, error=_truncate(reason),
    )


def _insert_run(store: Store, **values: Any) -> int:
    """Insert one runs-log row in its own short transaction and return its id."""
    with store.transaction() as conn:
        return conn.execute(sa.insert(_runs).values(**values).returning(_runs.c.id)).scalar_one()


def get_run(store: Store, run_id: int) -> SyncRun | None:
    """The run with this id, or None."""
    with store.connect() as conn:
        row = conn.execute(sa.select(_runs).where(_runs.c.id == run_id)).mappings().one_or_none()
    return _to_run(row) if row is not None else None


def list_runs(
    store: Store,
    limit: int = 50,
    *,
    stream: str | None = None,
    status: RunStatus | str | None = None,
    job: str | None = None,
) -> list[SyncRun]:
    """The newest runs first, optionally only one stream / status / job."""
    query = sa.select(_runs).order_by(_runs.c.id.desc()).limit(max(0, limit))
    if stream is not None:
        query = query.where(_runs.c.stream == stream)
    if status is not None:
        query = query.where(_runs.c.status == RunStatus(status).value)
    if job is not None:
        query = query.where(_runs.c.job == job)
    with store.connect() as conn:
        return [_to_run(row) for row in conn.execute(query).mappings()]


def close_stale_runs(store: Store, older_than: dt.timedelta, *, reason: str | None = None) -> list[int]:
    """Close ``running`` rows whose heartbeat is older than ``older_than`` as ``partial``.

    For runs whose process died (killed, crashed, machine restarted). Returns their ids.
    """
    now = _now()
    cutoff = now - older_than
    message = reason or f"the process stopped reporting (no heartbeat since before {cutoff.isoformat()})"
    heartbeat = sa.func.coalesce(_runs.c.heartbeat_at, _runs.c.started_at)
    with store.transaction() as conn:
        stale = conn.execute(
            sa.select(_runs.c.id, _runs.c.started_at).where(
                _runs.c.status == RunStatus.RUNNING.value, heartbeat < cutoff
            )
        ).all()
        for run_id, started_at in stale:
            conn.execute(
                sa.update(_runs)
                .where(_runs.c.id == run_id, _runs.c.status == RunStatus.RUNNING.value)
                .values(
                    status=RunStatus.PARTIAL.value,
                    finished_at=now,
                    duration_ms=max(0, int((now - started_at).total_seconds() * 1000)),
                    error=message,
                    remaining=True,
                )
            )
    return [run_id for run_id, _ in stale]


def _update_run(conn: sa.Connection, run_id: int, values: dict[str, Any]) -> None:
    if conn.execute(sa.update(_runs).where(_runs.c.id == run_id).values(**values)).rowcount == 0:
        raise ValueError(f"no run with id {run_id}")


def _to_run(row: Mapping[str, Any]) -> SyncRun:
    return SyncRun(
        id=row["id"],
        job=row["job"],
        stream=row["stream"],
        mode=row["mode"],
        trigger=row["trigger"],
        backend=row["backend"],
        status=RunStatus(row["status"]),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        heartbeat_at=row["heartbeat_at"],
        counters=RunCounters(**{name: row[name] for name in _COUNTER_COLUMNS}),
        error=row["error"],
        remaining=row["remaining"],
        details=row["details"] or {},
        stored_duration_ms=row["duration_ms"],
    )


def _truncate(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_ERROR_CHARS:
        return text
    return text[: MAX_ERROR_CHARS - 1] + "…"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
