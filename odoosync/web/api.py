"""The operator API: status, runs, triggers, outbox, checkpoints, schedule, SLA, metrics, events.

Every handler is a thin shell over a library function (the same ones the CLI calls).
``GET`` endpoints need the read token, everything else the admin token (``web/auth.py``);
``/api/health`` needs none. Inputs are declared with types and bounds, so bad input is a
``422`` naming the field, before any handler runs.

Handlers are plain ``def`` functions: FastAPI runs them in its thread pool, matching the
project's one (synchronous) execution model.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

from cachetools import TTLCache
from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from odoosync import __version__
from odoosync.cursor_text import describe_cursor
from odoosync.exceptions import SheetNotConfigured
from odoosync.models import RunStatus, SyncMode
from odoosync.pull import rejects
from odoosync.pull.verify import latest_drift
from odoosync.push.outbox import STATUSES as OUTBOX_STATUSES
from odoosync.push.outbox import discard, list_items, retry_failed, status_counts, statuses_of
from odoosync.service.dispatcher import DEFERRED_JOBS
from odoosync.service.freshness import overall_colour, read_status
from odoosync.service.health import check_all
from odoosync.service.metrics import CONTENT_TYPE, read_metrics, render_prometheus, webhook_queue_metrics
from odoosync.service.operations import stream_status
from odoosync.service.schedule_state import set_job_paused
from odoosync.service.task_queue import queue_status
from odoosync.store import checkpoints as checkpoint_store
from odoosync.store import runs as run_store
from odoosync.web.app import WebContext
from odoosync.web.auth import require_admin, require_read

__all__ = ["router", "metrics_router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api")
metrics_router = APIRouter()

Read = Annotated[str, Depends(require_read)]
Admin = Annotated[str, Depends(require_admin)]

_NAME = r"^[A-Za-z0-9_.:\-]{1,200}$"


def _context(request: Request) -> WebContext:
    return request.app.state.context


def _jobs(request: Request) -> Any:
    jobs = _context(request).jobs
    if jobs is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="no sync jobs in this process: configure Odoo (ODOO_URL, ...) and run `odoosync serve`",
        )
    return jobs


def _scheduler(request: Request) -> Any:
    scheduler = _context(request).scheduler
    if scheduler is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="the scheduler is not running in this process")
    return scheduler


# ---------------------------------------------------------------------------- health, status


@router.get(
    "/health",
    tags=["status"],
    summary="Each component of the service: database, Odoo, scheduler, listener, webhook queue (no token needed)",
    responses={503: {"description": "a component is down (named in components)"}},
)
def health(request: Request, response: Response) -> dict[str, Any]:
    context = _context(request)

    def database() -> str | None:
        context.store.check_migrated()
        return None

    components = check_all({"database": database, **context.components, **_webhook_check(request)})
    scheduler = context.scheduler
    ok = all(c["ok"] for c in components.values())
    if not ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    body = {
        "ok": ok,
        "version": __version__,
        "database": "ok" if components["database"]["ok"] else components["database"]["detail"],
        "scheduler": "running" if scheduler is not None and scheduler.running else "stopped",
        "components": components,
    }
    if context.odoo_status is not None:  # ok, not configured (sheets only), connecting, unreachable since ...
        body["odoo"] = context.odoo_status()
    return body


def _webhook_check(request: Request) -> dict[str, Any]:
    queue = getattr(request.app.state, "webhook_queue", None)  # built on the first webhook
    return {} if queue is None else {"webhook_queue": queue.problem}


@router.get(
    "/status",
    tags=["status"],
    summary="Per stream: freshness (green/amber/red), rows, last success, last and next run; outbox",
)
def get_status(
    request: Request,
    _: Read,
    backend: Annotated[
        str, Query(pattern=_NAME, description="The Odoo backend (`odoosync backends list`); `default` unless given.")
    ] = "default",
) -> dict[str, Any]:
    context = _context(request)
    streams: list[str] = []
    next_runs: dict[str, dt.datetime | None] = {}
    if context.jobs is not None:
        streams = context.jobs.stream_names()
        if context.scheduler is not None and context.jobs.backend == backend:  # it schedules its own backend only
            next_runs = context.jobs.next_runs_by_stream(context.scheduler)
    statuses = read_status(context.store, streams=streams, next_runs=next_runs, backend=backend)
    rows = _row_counts(request, backend)
    quarantined = rejects.counts(context.store, backend=backend)
    return {
        "freshness": overall_colour(statuses),
        "streams": [
            {**s.as_dict(), "rows": rows.get(s.stream), "quarantined": quarantined.get(s.stream, 0)} for s in statuses
        ],
        "outbox": status_counts(context.store),
        "scheduler": "running" if context.scheduler is not None and context.scheduler.running else "stopped",
        "now": dt.datetime.now(dt.UTC).isoformat(),
    }


_ROWS_TTL_SECONDS = 5.0
_rows_lock = threading.Lock()


def _row_counts(request: Request, backend: str) -> dict[str, int]:
    """A backend's rows per stream, counted at most every few seconds: ``COUNT(*)`` of every
    stream's table is the dearest part of a status answer, and a dashboard polls it."""
    with _rows_lock:
        cache = getattr(request.app.state, "row_counts", None)
        if cache is None:
            cache = request.app.state.row_counts = TTLCache(maxsize=64, ttl=_ROWS_TTL_SECONDS)
        rows = cache.get(backend)
        if rows is None:
            rows = cache[backend] = {
                e["stream"]: e["rows"] for e in stream_status(_context(request).store, backend=backend)
            }
    return rows


# ---------------------------------------------------------------------------- runs and triggers


class RunStatusFilter(StrEnum):
    running = "running"
    ok = "ok"
    partial = "partial"
    failed = "failed"
    skipped = "skipped"
    interrupted = "interrupted"
    refused = "refused"


@router.get("/runs", tags=["runs"], summary="Recent runs, newest first")
def get_runs(
    request: Request,
    _: Read,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    stream: Annotated[str | None, Query(pattern=_NAME)] = None,
    status_: Annotated[RunStatusFilter | None, Query(alias="status")] = None,
    job: Annotated[str | None, Query(pattern=_NAME)] = None,
    backend: Annotated[str | None, Query(pattern=_NAME, description="Only this Odoo backend's runs.")] = None,
) -> dict[str, Any]:
    runs = run_store.list_runs(
        _context(request).store,
        limit,
        stream=stream,
        status=RunStatus(status_.value) if status_ else None,
        job=job,
        backend=backend,
    )
    return {"runs": [run.as_dict() for run in runs]}


@router.get("/workers", tags=["workers"], summary="The distributed engine: live workers and queued jobs by backend")
def get_workers(request: Request, _: Read) -> dict[str, Any]:
    """``engine`` is ``in-process`` until ``serve --engine procrastinate`` or a worker has run."""
    return queue_status(_context(request).store).as_dict()


@router.get("/runs/{run_id}", tags=["runs"], summary="One run")
def get_run(request: Request, _: Read, run_id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
    run = run_store.get_run(_context(request).store, run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no run with id {run_id}")
    return run.as_dict()


class TriggerRequest(BaseModel):
    """How to run the stream (all optional: an incremental run of the whole stream)."""

    model_config = {"extra": "forbid"}

    mode: SyncMode = SyncMode.INCREMENTAL
    odoo_id: int | None = Field(default=None, ge=1, le=2**62, description="one record (mode 'record')")
    budget: float | None = Field(default=None, gt=0, le=86400, description="seconds; stops cleanly before")


@router.post(
    "/sync/{stream}",
    tags=["runs"],
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a pull run in the background: 202 with its run id, 409 naming the lock holder",
    responses={409: {"description": "a run of this stream holds the lock"}},
)
def trigger_sync(
    request: Request,
    _: Admin,
    stream: Annotated[str, Path(pattern=_NAME)],
    body: Annotated[TriggerRequest | None, Body()] = None,
) -> dict[str, Any]:
    body = body or TriggerRequest()
    if body.odoo_id is not None and body.mode not in (SyncMode.RECORD, SyncMode.INCREMENTAL):
        raise HTTPException(422, detail="odoo_id goes with mode 'record'")
    mode = SyncMode.RECORD if body.odoo_id is not None else body.mode
    if mode is SyncMode.RECORD and body.odoo_id is None:
        raise HTTPException(422, detail="mode 'record' needs odoo_id")
    run_id = _jobs(request).start_sync(stream, mode=mode, odoo_id=body.odoo_id, budget=body.budget, trigger="api")
    return {"run_id": run_id, "stream": stream, "mode": mode.value}


@router.post(
    "/jobs/{job}",
    tags=["runs"],
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run one scheduled job now, in the background (what pg_cron calls)",
)
def run_job(request: Request, _: Admin, job: Annotated[str, Path(pattern=_NAME)]) -> dict[str, Any]:
    dispatcher = _context(request).dispatcher
    if dispatcher is not None and job in DEFERRED_JOBS:  # serve --engine procrastinate: the workers run it
        deferred = dispatcher.defer(job, "api")
        return {"job": job, "accepted": True, "queued": deferred.queued, "waiting": deferred.waiting}
    jobs = _jobs(request)
    try:
        jobs.start_job(job, trigger="api")
    except KeyError:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no job {job!r}: jobs are {', '.join(jobs.functions())}"
        ) from None
    return {"job": job, "accepted": True}


# ---------------------------------------------------------------------------- outbox


class OutboxStatusFilter(StrEnum):
    queued = "queued"
    processing = "processing"
    done = "done"
    failed = "failed"
    discarded = "discarded"


assert {s.value for s in OutboxStatusFilter} == set(OUTBOX_STATUSES)


@router.get("/outbox", tags=["outbox"], summary="Outbox items, newest first, and counts by status")
def get_outbox(
    request: Request,
    _: Read,
    status_: Annotated[OutboxStatusFilter | None, Query(alias="status")] = None,
    model: Annotated[str | None, Query(pattern=_NAME)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    store = _context(request).store
    items = list_items(store, status=status_.value if status_ else None, model=model, limit=limit)
    return {"counts": status_counts(store), "items": [item.as_dict() for item in items]}


class RetryRequest(BaseModel):
    model_config = {"extra": "forbid"}

    ids: list[Annotated[int, Field(ge=1, le=2**62)]] | None = Field(
        default=None, max_length=10000, description="failed items to re-queue; all failed items when omitted"
    )


@router.post("/outbox/retry", tags=["outbox"], summary="Re-queue failed outbox items")
def retry_outbox(request: Request, _: Admin, body: Annotated[RetryRequest | None, Body()] = None) -> dict[str, Any]:
    body = body or RetryRequest()
    context = _context(request)
    requeued = retry_failed(context.store, now=dt.datetime.now(dt.UTC), ids=body.ids)
    if requeued and context.jobs is not None and context.scheduler is not None:
        context.jobs.wake_outbox(context.scheduler)
    return {"requeued": requeued}


class DiscardRequest(BaseModel):
    model_config = {"extra": "forbid"}

    ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        min_length=1, max_length=10000, description="failed items to give up on"
    )


@router.post("/outbox/discard", tags=["outbox"], summary="Give up on failed outbox items (their lead is marked)")
def discard_outbox(request: Request, _: Admin, body: Annotated[DiscardRequest, Body()]) -> dict[str, Any]:
    store = _context(request).store
    statuses = statuses_of(store, body.ids)
    wrong = [i for i in body.ids if statuses.get(i) != "failed"]
    if wrong:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"not failed items (only those can be discarded): {wrong}")
    return {"discarded": [item.id for item in discard(store, body.ids, now=dt.datetime.now(dt.UTC))]}


# ---------------------------------------------------------------------------- checkpoints


@router.get("/checkpoints", tags=["checkpoints"], summary="Where each stream resumes")
def get_checkpoints(request: Request, _: Read, prefix: Annotated[str, Query(max_length=200)] = "") -> dict[str, Any]:
    found = checkpoint_store.list_checkpoints(_context(request).store, prefix)
    return {"checkpoints": [{**c.as_dict(), "described": describe_cursor(c.cursor)} for c in found]}


@router.delete("/checkpoints/{key}", tags=["checkpoints"], summary="Forget a checkpoint: the next run starts over")
def delete_checkpoint(request: Request, _: Admin, key: Annotated[str, Path(pattern=_NAME)]) -> dict[str, Any]:
    if not checkpoint_store.reset(_context(request).store, key):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no checkpoint {key!r}")
    return {"reset": key}


# ---------------------------------------------------------------------------- schedule


@router.get("/schedule", tags=["schedule"], summary="Jobs, their cron, paused or not, next run")
def get_schedule(request: Request, _: Read) -> dict[str, Any]:
    scheduler = _context(request).scheduler
    if scheduler is None:
        return {"running": False, "jobs": []}
    return {"running": scheduler.running, "jobs": [job.as_dict() for job in scheduler.describe()]}


class ScheduleAction(StrEnum):
    pause = "pause"
    resume = "resume"


@router.post(
    "/schedule/{job}/{action}",
    tags=["schedule"],
    summary="Pause or resume one job; the pause is kept in the database and survives a restart",
)
def change_schedule(
    request: Request,
    _: Admin,
    job: Annotated[str, Path(pattern=_NAME)],
    action: ScheduleAction,
) -> dict[str, Any]:
    scheduler = _scheduler(request)
    if job not in scheduler.job_names():
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no job {job!r}: jobs are {', '.join(scheduler.job_names())}"
        )
    paused = action is ScheduleAction.pause
    try:
        set_job_paused(_context(request).store, job, paused)
    except SheetNotConfigured as exc:  # removed by another process since the last refresh
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    if paused:
        scheduler.pause(job)
    else:
        scheduler.resume(job)
    scheduler.refresh()  # after any refresh that read the database before this change
    return scheduler.info(job).as_dict()


# ---------------------------------------------------------------------------- SLA


@router.post("/sla/check", tags=["sla"], summary="Run the SLA breach check now")
def sla_check(request: Request, _: Admin) -> dict[str, Any]:
    return _jobs(request).check_sla(trigger="api").as_dict()


# ---------------------------------------------------------------------------- quarantine


@router.get(
    "/rejects", tags=["status"], summary="Records Odoo holds that the database refused (quarantined, retried every run)"
)
def list_quarantined(
    request: Request, _: Read, stream: str | None = Query(None), limit: int = Query(100, ge=1, le=1000)
) -> dict[str, Any]:
    store = _context(request).store
    return {"counts": rejects.counts(store), "rejects": rejects.list_rejects(store, stream=stream, limit=limit)}


# ---------------------------------------------------------------------------- verify


@router.get("/verify", tags=["verify"], summary="The last verify of each stream: missing, extra and stale records")
def verify_status(request: Request, _: Read) -> dict[str, Any]:
    streams = latest_drift(_context(request).store)
    known = [d["drift"] for d in streams if d.get("drift") is not None]
    return {"drift": sum(known) if known else None, "streams": streams}


@router.post(
    "/verify",
    tags=["verify"],
    status_code=status.HTTP_202_ACCEPTED,
    summary="Verify every stream now (in the background); with repair=true, sync exactly the drifting records",
)
def verify_now(request: Request, _: Admin, repair: bool = Query(False)) -> dict[str, Any]:
    _jobs(request).start_verify(trigger="api", repair=repair)
    return {"started": True, "repair": repair}


# ---------------------------------------------------------------------------- metrics and events


@router.get("/metrics", tags=["metrics"], summary="Every metric as JSON (the same numbers as /metrics)")
def metrics_json(request: Request, _: Read) -> dict[str, Any]:
    context = _context(request)
    queue = getattr(request.app.state, "webhook_queue", None)
    return {
        **read_metrics(context.store, client_stats=context.client_stats),
        "webhook_queue": webhook_queue_metrics(queue),
    }


@metrics_router.get(
    "/metrics",
    tags=["metrics"],
    summary="Prometheus text exposition",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics_prometheus(request: Request, _: Read) -> Response:
    return Response(render_prometheus(request.app.state.registry), media_type=CONTENT_TYPE)


@router.get(
    "/events",
    tags=["events"],
    summary="Server-Sent Events: run.started, run.progress, run.finished",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def events(
    request: Request,
    _: Read,
    max_seconds: Annotated[float, Query(gt=0, le=86400, description="close the stream after this long")] = 3600,
    heartbeat: Annotated[float, Query(ge=0.05, le=60)] = 15,
) -> StreamingResponse:
    slots, client = request.app.state.stream_slots, request.client.host if request.client else "-"
    slots.acquire(client)  # 429 over the cap: each open stream holds one of the API's threads
    subscription = _context(request).events.subscribe()

    def stream() -> Iterator[str]:
        try:
            with subscription:
                yield ": connected\n\n"
                deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=max_seconds)
                while not subscription.ended and (left := (deadline - dt.datetime.now(dt.UTC)).total_seconds()) > 0:
                    event = subscription.get(timeout=min(heartbeat, left))
                    if event is not None:
                        yield event.as_sse()
                    elif not subscription.ended:
                        yield ": keep-alive\n\n"
        finally:
            slots.release(client)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


# ---------------------------------------------------------------------------- the older edge function's endpoint


class CompatMode(StrEnum):
    odoo_to_sb = "odoo_to_sb"
    sb_to_odoo = "sb_to_odoo"
    both = "both"


def _compat(request: Request, mode: CompatMode, model: str) -> dict[str, Any]:
    return _jobs(request).compat_sync(mode.value, model, trigger="api")


_COMPAT_DOC = (
    "The older edge function's endpoint, for cron jobs written for it: runs one page (pull) and/or one "
    'outbox batch (push) and answers `{"ok": true, "result": {...}}`. Admin token: it changes data.'
)


@router.get("/odoo-sync", tags=["compat"], summary="Edge-function compatible sync (GET)", description=_COMPAT_DOC)
def compat_get(
    request: Request,
    _: Admin,
    mode: CompatMode = CompatMode.odoo_to_sb,
    model: Annotated[str, Query(pattern=_NAME)] = "res.partner",
) -> dict[str, Any]:
    return _compat(request, mode, model)


class CompatBody(BaseModel):
    """The older cron jobs send ``{"mode": ..., "model": ...}`` as the body; other keys are ignored."""

    model_config = {"extra": "ignore"}

    mode: CompatMode | None = None
    model: Annotated[str, Field(pattern=_NAME)] | None = None


@router.post("/odoo-sync", tags=["compat"], summary="Edge-function compatible sync (POST)", description=_COMPAT_DOC)
def compat_post(
    request: Request,
    _: Admin,
    mode: CompatMode | None = None,
    model: Annotated[str | None, Query(pattern=_NAME)] = None,
    body: Annotated[CompatBody | None, Body()] = None,
) -> dict[str, Any]:
    body = body or CompatBody()
    return _compat(request, mode or body.mode or CompatMode.odoo_to_sb, model or body.model or "res.partner")
