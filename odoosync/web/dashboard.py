"""The operator's dashboard: one static page at ``/`` and the two reads only it needs.

The page (``web/static/``: ``index.html``, ``app.js``, ``style.css``) is plain HTML and
JavaScript shipped inside the package: no build step, nothing loaded from the internet.
It calls the same API as every other client, with the token the operator types in
(kept in the tab's ``sessionStorage``), and follows ``/api/events`` by reading the
Server-Sent Events body through ``fetch()``, which can send the ``Authorization``
header (``EventSource`` cannot, and a token in the URL would end up in access logs).

Three read-only endpoints exist for the page, under ``/api/dashboard``:

* ``GET /api/dashboard/sla``: open SLA breaches (escalated, still open, not deleted);
* ``GET /api/dashboard/leads``: the most recently changed leads, so an Odoo edit that
  reaches the database shows on the page;
* ``GET /api/dashboard/charts``: the last 24 hours as points for the page's charts (see
  :func:`charts`), drawn by the page as inline SVG.

Everything from Odoo or a sheet is inserted by the page with ``textContent``; the
static files are served with a Content-Security-Policy that forbids inline scripts, so
even a rendering mistake could not run a lead's title as code.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, Response

from odoosync.models import VERIFY_JOB
from odoosync.store.schema import leads, odoo_sync_runs
from odoosync.web.auth import require_read

__all__ = ["router", "api_router", "STATIC_FILES", "CONTENT_SECURITY_POLICY"]

STATIC_FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "style.css": "text/css",
    "favicon.svg": "image/svg+xml",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/dashboard", tags=["dashboard"])

Read = Annotated[str, Depends(require_read)]


def _static(name: str) -> Response:
    path = resources.files("odoosync.web") / "static" / name
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="not found")
    with resources.as_file(path) as file:
        return FileResponse(file, media_type=STATIC_FILES[name], headers=_HEADERS)


@router.get("/")
def index() -> Response:
    """The dashboard page (no token needed: it holds no data, it asks the API)."""
    return _static("index.html")


@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for this path whatever the page says."""
    return _static("favicon.svg")


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """One of the page's own files; nothing else on disk is reachable."""
    if name not in STATIC_FILES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="not found")
    return _static(name)


_LEAD_COLUMNS = (
    leads.c.id,
    leads.c.odoo_id,
    leads.c.title,
    leads.c.stage,
    leads.c.status,
    leads.c.owner_name,
    leads.c.source,
    leads.c.deadline,
    leads.c.odoo_write_date,
    leads.c.updated_at,
)


@api_router.get("/sla", summary="Open SLA breaches: escalated leads still open, most overdue first")
def open_breaches(request: Request, _: Read, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    store = request.app.state.context.store
    query = (
        sa.select(*_LEAD_COLUMNS, leads.c.sla_escalated_at)
        .where(leads.c.sla_escalated_at.is_not(None), leads.c.deleted_at.is_(None), leads.c.status == "open")
        .order_by(leads.c.deadline.asc(), leads.c.id.asc())
        .limit(limit)
    )
    with store.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(leads)
            .where(leads.c.sla_escalated_at.is_not(None), leads.c.deleted_at.is_(None), leads.c.status == "open")
        ).scalar_one()
    return {"count": int(count), "breaches": jsonable_encoder(rows)}


@api_router.get("/leads", summary="The most recently changed live leads")
def recent_leads(request: Request, _: Read, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> dict[str, Any]:
    store = request.app.state.context.store
    query = (
        sa.select(*_LEAD_COLUMNS)
        .where(leads.c.deleted_at.is_(None))
        .order_by(leads.c.updated_at.desc(), leads.c.id.desc())
        .limit(limit)
    )
    with store.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    return {"leads": jsonable_encoder(rows)}


_CHART_POINTS = 2000  # per series: a day of minute-by-minute runs of a few streams


@api_router.get("/charts", summary="The last 24 hours as chart points: runs, lag, outbox, verify drift")
def charts(request: Request, _: Read, hours: Annotated[int, Query(ge=1, le=168)] = 24) -> dict[str, Any]:
    """Points for the dashboard's charts, from the runs log and the leads themselves.

    * ``runs``: each pull run's duration and rows written (inserted + updated + deleted);
    * ``lag``: per lead changed in Odoo in the window, its ``write_date`` to the moment the
      app row was written, tagged ``webhook`` when a webhook-triggered leads run wrote it,
      else ``polling`` (the schedule or a manual run);
    * ``outbox``: per hour, items pushed and failed (the push runs' counters);
    * ``drift``: each verify check's drift.
    """
    store = request.app.state.context.store
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(hours=hours)
    r = odoo_sync_runs.c
    with store.connect() as conn:
        runs = list(
            conn.execute(
                sa.select(
                    r.job,
                    r.stream,
                    r.trigger,
                    r.status,
                    r.started_at,
                    r.finished_at,
                    r.duration_ms,
                    r.inserted,
                    r.updated,
                    r.deleted,
                    r.failed,
                    r.details,
                )
                .where(r.started_at >= since, r.status != "running")
                .order_by(r.started_at.desc())
                .limit(_CHART_POINTS * 3)
            ).mappings()
        )
        changed = list(
            conn.execute(
                sa.select(leads.c.updated_at, leads.c.odoo_write_date)
                .where(leads.c.updated_at >= since, leads.c.odoo_write_date >= since)  # changed in Odoo in the window
                .order_by(leads.c.updated_at.desc())
                .limit(_CHART_POINTS)
            ).mappings()
        )
    pulls = [run for run in runs if run["job"] == "pull"]
    webhook_windows = [
        (run["started_at"], run["finished_at"])
        for run in pulls
        if run["stream"] == "leads" and run["trigger"] == "webhook" and run["finished_at"]
    ]
    return {
        "since": since.isoformat(),
        "now": now.isoformat(),
        "runs": [
            {
                "stream": run["stream"],
                "at": run["started_at"].isoformat(),
                "seconds": (run["duration_ms"] or 0) / 1000,
                "rows": run["inserted"] + run["updated"] + run["deleted"],
                "status": run["status"],
            }
            for run in pulls[:_CHART_POINTS]
        ],
        "lag": [
            {
                "at": lead["updated_at"].isoformat(),
                "seconds": round((lead["updated_at"] - lead["odoo_write_date"]).total_seconds(), 3),
                "via": "webhook"
                if any(start <= lead["updated_at"] <= end + dt.timedelta(seconds=1) for start, end in webhook_windows)
                else "polling",
            }
            for lead in changed
            if lead["updated_at"] >= lead["odoo_write_date"]
        ],
        "outbox": _hourly([run for run in runs if run["job"] == "push"], since, hours),
        "drift": [
            {"stream": run["stream"], "at": run["started_at"].isoformat(), "drift": int(run["details"]["drift"])}
            for run in runs
            if run["job"] == VERIFY_JOB and isinstance((run["details"] or {}).get("drift"), int)
        ],
    }


def _hourly(pushes: list[Any], since: dt.datetime, hours: int) -> list[dict[str, Any]]:
    """Items pushed (created, written or deleted in Odoo) and failed, per hour of the window."""
    start = since.replace(minute=0, second=0, microsecond=0)
    buckets = [
        {"hour": (start + dt.timedelta(hours=i)).isoformat(), "pushed": 0, "failed": 0} for i in range(hours + 1)
    ]
    for run in pushes:
        index = min(int((run["started_at"] - start).total_seconds() // 3600), hours)
        buckets[index]["pushed"] += run["inserted"] + run["updated"] + run["deleted"]
        buckets[index]["failed"] += run["failed"]
    return buckets
