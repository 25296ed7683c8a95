"""The runs log (``ops.odoo_sync_runs``): one row per sync run, from start to finish.

Each call is its own short transaction, apart from the run's data: the log shows a run
as ``running`` while it works, with its counters and a heartbeat, even if its page
transactions roll back.

A run whose holder is gone would stay ``running`` for ever (and the long-run alert with
it). Each run records its process (``holder``: host, pid, PID namespace, and a token
drawn once per process, so a pid reused after a restart is not mistaken for it), and
:func:`close_interrupted_runs`, called by ``serve`` at start and every minute, closes as
``interrupted``: runs of this process that could not be finished because the database
went away (remembered here until the database is back), runs of a process of this host
that no longer exists (or restarted), and runs elsewhere without a heartbeat for
``stale_after``. A re-run continues from the checkpoint.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from odoosync.exceptions import StoreError
from odoosync.models import RunCounters, RunStatus, SyncRun
from odoosync.redact import redact_text
from odoosync.store.database import Store
from odoosync.store.locks import died_here, this_process
from odoosync.store.port import PullStore
from odoosync.store.schema import odoo_sync_runs

__all__ = [
    "start_run",
    "update_progress",
    "finish_run",
    "record_skipped",
    "get_run",
    "list_runs",
    "close_interrupted_runs",
]

_runs = odoo_sync_runs
_COUNTER_COLUMNS = tuple(RunCounters().as_dict())
_FINAL = (
    RunStatus.OK,
    RunStatus.PARTIAL,
    RunStatus.FAILED,
    RunStatus.SKIPPED,
    RunStatus.INTERRUPTED,
    RunStatus.REFUSED,
)
MAX_ERROR_CHARS = 4000

_boot = {"pid": os.getpid(), "token": uuid.uuid4().hex}  # drawn again after a fork
_unfinished: dict[int, str] = {}  # run id → why finishing it failed (this process)
_unfinished_lock = threading.Lock()


def _holder() -> dict[str, Any]:
    if _boot["pid"] != os.getpid():
        _boot.update(pid=os.getpid(), token=uuid.uuid4().hex)
    return {**this_process(), "boot": _boot["token"]}


def start_run(
    store: PullStore,
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
        store,
        job=job,
        stream=stream,
        mode=str(mode),
        trigger=str(trigger),
        backend=backend,
        status=RunStatus.RUNNING.value,
        started_at=now,
        heartbeat_at=now,
        details=dict(details or {}),
        holder=_holder(),
    )


def update_progress(
    store: PullStore, run_id: int, counters: RunCounters, details: Mapping[str, Any] | None = None
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
    store: PullStore,
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
    try:
        return _finish(store, run_id, status, counters, error=error, remaining=remaining, details=details)
    except StoreError as exc:  # the database went away: the next sweep closes it as interrupted
        with _unfinished_lock:
            _unfinished[run_id] = f"{type(exc).__name__}: {exc}"
        raise


def _finish(
    store: PullStore,
    run_id: int,
    status: RunStatus,
    counters: RunCounters,
    *,
    error: str | None,
    remaining: bool,
    details: Mapping[str, Any] | None,
) -> SyncRun:
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
        finished = conn.execute(sa.update(_runs).where(_runs.c.id == run_id).values(**values).returning(*_runs.c))
        return _to_run(finished.mappings().one())


def record_skipped(
    store: PullStore, *, job: str, stream: str, mode: str, trigger: str, backend: str = "default", reason: str
) -> int:
    """Log a run that did not start (e.g. the lock was held): status ``skipped``, ``reason`` as error."""
    now = _now()
    return _insert_run(
        store,
        job=job,
        stream=stream,
        mode=str(mode),
        trigger=str(trigger),
        backend=backend,
        status=RunStatus.SKIPPED.value,
        started_at=now,
        finished_at=now,
        heartbeat_at=now,
        duration_ms=0,
        error=_truncate(reason),
    )


def _insert_run(store: PullStore, **values: Any) -> int:
    """Insert one runs-log row in its own short transaction and return its id."""
    with store.transaction() as conn:
        run_id: int = conn.execute(sa.insert(_runs).values(**values).returning(_runs.c.id)).scalar_one()
    return run_id


def get_run(store: PullStore, run_id: int) -> SyncRun | None:
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
    backend: str | None = None,
) -> list[SyncRun]:
    """The newest runs first, optionally only one stream / status / job / backend."""
    query = sa.select(_runs).order_by(_runs.c.id.desc()).limit(max(0, limit))
    if stream is not None:
        query = query.where(_runs.c.stream == stream)
    if status is not None:
        query = query.where(_runs.c.status == RunStatus(status).value)
    if job is not None:
        query = query.where(_runs.c.job == job)
    if backend is not None:
        query = query.where(_runs.c.backend == backend)
    with store.connect() as conn:
        return [_to_run(row) for row in conn.execute(query).mappings()]


def close_interrupted_runs(store: Store, stale_after: dt.timedelta) -> dict[int, str]:
    """Close as ``interrupted`` every ``running`` run whose holder is gone; ``{id: why}``."""
    now = _now()
    cutoff = now - stale_after
    with _unfinished_lock:
        unfinished = dict(_unfinished)
    closed: dict[int, str] = {}
    with store.transaction() as conn:
        rows = conn.execute(
            sa.select(_runs.c.id, _runs.c.started_at, _runs.c.heartbeat_at, _runs.c.holder).where(
                _runs.c.status == RunStatus.RUNNING.value
            )
        ).all()
        for run_id, started_at, heartbeat_at, holder in rows:
            why = _gone(run_id, heartbeat_at or started_at, holder, cutoff, unfinished)
            if why is None:
                continue
            conn.execute(
                sa.update(_runs)
                .where(_runs.c.id == run_id, _runs.c.status == RunStatus.RUNNING.value)
                .values(
                    status=RunStatus.INTERRUPTED.value,
                    finished_at=now,
                    remaining=True,
                    error=_truncate(why),
                    duration_ms=max(0, int((now - started_at).total_seconds() * 1000)),
                )
            )
            closed[run_id] = why
    with _unfinished_lock:
        for run_id in unfinished:
            _unfinished.pop(run_id, None)
    return closed


def _gone(
    run_id: int,
    heartbeat: dt.datetime,
    holder: Mapping[str, Any] | None,
    cutoff: dt.datetime,
    unfinished: Mapping[int, str],
) -> str | None:
    """Why the run's holder is gone, or None while it may still be working."""
    if run_id in unfinished:
        return f"interrupted: the run could not be finished ({unfinished[run_id]})"
    if holder:
        me = _holder()
        same_process = all(holder.get(k) == me.get(k) for k in ("host", "pid", "pid_ns"))
        if same_process and holder.get("boot") != me["boot"]:
            return f"interrupted: its process (pid {holder.get('pid')}) restarted"
        if same_process:
            return None  # ours and not abandoned: still working
        if died_here(holder):
            return f"interrupted: its process (pid {holder.get('pid')}) is gone"
    if heartbeat < cutoff:
        return f"interrupted: no heartbeat since {heartbeat.isoformat(timespec='seconds')}"
    return None


def _update_run(conn: sa.Connection, run_id: int, values: dict[str, Any]) -> None:
    if conn.execute(sa.update(_runs).where(_runs.c.id == run_id).values(**values)).rowcount == 0:
        raise ValueError(f"no run with id {run_id}")


def _to_run(row: sa.RowMapping) -> SyncRun:
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
    """Error text as stored: credentials in URLs redacted (any sink may show it), then cut."""
    if text is None:
        return None
    text = redact_text(text)
    if len(text) <= MAX_ERROR_CHARS:
        return text
    return text[: MAX_ERROR_CHARS - 1] + "…"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
