"""The outbox worker: the run loop around the push engine (no SQL here).

``run_once`` pushes until nothing is ready and records the run in ``ops.odoo_sync_runs``
(job ``push``: fetched = items claimed, inserted = creates, updated = writes and calls,
deleted = unlinks and archives, skipped = no-ops, failed, rpc_calls, retries =
items rescheduled with backoff; conflicts in ``details``). ``run_forever`` repeats it
until ``stop`` is set (SIGTERM in the CLI); idle, the outbox's one listener
(:class:`~odoosync.push.outbox.OutboxWaker`) wakes it: the triggers' PostgreSQL notification,
or a poll every ``poll_seconds`` on SQLite.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from odoosync.models import RunCounters, RunStatus
from odoosync.push.engine import PushEngine, PushResult
from odoosync.push.outbox import OutboxWaker
from odoosync.store import runs

__all__ = ["run_once", "run_forever"]


def run_once(engine: PushEngine, *, trigger: str = "manual", already: PushResult | None = None) -> PushResult:
    """Push everything ready now, as one recorded run (``already``: a pass made before)."""
    run_id = runs.start_run(
        engine.store, job="push", stream="outbox", mode="push", trigger=trigger, backend=engine.backend
    )
    result = PushResult()
    if already is not None:
        result.add(already)
    try:
        result.add(engine.push_all())
    except Exception as exc:
        runs.finish_run(engine.store, run_id, RunStatus.FAILED, _counters(result), error=f"{type(exc).__name__}: {exc}")
        raise
    status = RunStatus.OK if result.failed == 0 else RunStatus.PARTIAL
    runs.finish_run(
        engine.store,
        run_id,
        status,
        _counters(result),
        error="; ".join(result.errors[:5]) or None,
        details=result.as_dict(),
    )
    return result


def run_forever(
    engine: PushEngine,
    *,
    stop: threading.Event,
    poll_seconds: float = 2.0,
    on_result: Callable[[PushResult], None] | None = None,
) -> None:
    """Push in a loop until ``stop`` is set; idle passes are not recorded as runs. Idle,
    it waits for the triggers' notification (PostgreSQL) or ``poll_seconds`` (SQLite).
    ``on_result`` hears of every pass that pushed something (the CLI logs it)."""
    woken = threading.Event()
    waker = OutboxWaker(engine.store, woken.set, poll_seconds=poll_seconds).start()
    try:
        while not stop.is_set():
            woken.clear()  # a change queued from here on wakes the wait below
            first = engine.push_batch()
            if first.claimed:
                result = run_once(engine, trigger="schedule", already=first)
                if on_result is not None:
                    on_result(result)
                continue
            woken.wait(poll_seconds)
    finally:
        waker.stop()


def _counters(result: PushResult) -> RunCounters:
    return RunCounters(
        fetched=result.claimed,
        inserted=result.created,
        updated=result.written,
        deleted=result.deleted,
        skipped=result.skipped,
        failed=result.failed,
        rpc_calls=result.rpc_calls,
        retries=result.retried,
    )
