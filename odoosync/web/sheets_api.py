"""The leads-sheet API, with the paths and camelCase fields its first clients used.

Six endpoints from the seed (``/api/leads/sync/status``, ``/status/all``, ``/trigger``,
``/pause``, ``/resume``, ``/metrics``), ``/trigger/all`` (every customer, as the CLI's
``sheets sync --all``), plus ``GET /api/leads`` and ``GET /api/leads/count`` served
from the 5-minute cache. ``customerId`` is a customer's
id or name. ``GET`` needs the read token, ``POST`` the admin token (``web/auth.py``).

The router's working parts (the sync engine with its address policy, the cache, a small
thread pool for triggered syncs) are a :class:`SheetsWeb` that the service installs with
:func:`install` (so the scheduler's syncs and the API share one cache). Without that, a
default is built on first use from the context's store, with private networks refused.
A trigger answers ``202`` with the run id once the sync holds its lock, ``409`` when the
sheet is paused or another sync of it is running (naming the holder). Pause and resume
refresh the service's scheduler at once, so the sheet's job stops or starts firing now.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder

from odoosync.exceptions import SheetNotConfigured
from odoosync.sheets.cache import LeadsCache
from odoosync.sheets.engine import SheetSync, SheetSyncResult, SyncSettings
from odoosync.sheets.fetch import SheetFetcher
from odoosync.sheets.metrics import sheet_metrics
from odoosync.sheets.state import SheetState, get_state, list_states, resolve_customer, set_paused
from odoosync.store import Store
from odoosync.web.auth import require_admin, require_read

__all__ = ["router", "SheetsWeb", "install", "camel_case", "state_payload"]

router = APIRouter(prefix="/api/leads", tags=["leads sheets"])

Read = Annotated[str, Depends(require_read)]
Admin = Annotated[str, Depends(require_admin)]
CustomerId = Annotated[str, Query(alias="customerId", min_length=1, max_length=200, description="customer id or name")]
AllowMassDelete = Annotated[
    bool,
    Query(
        alias="allowMassDelete",
        description="accept a sync that deletes more than the allowed share of a customer's leads (or all of them)",
    ),
]
OptionalCustomerId = Annotated[
    str | None,
    Query(alias="customerId", min_length=1, max_length=200, description="customer id or name; all if absent"),
]

_TRIGGER_WAIT_SECONDS = 10.0
_STATE_FIELDS = {  # lead_sync_states column → the seed's field name
    "customer_id": "customerId",
    "customer_name": "customerName",
    "sheet_url": "sheetUrl",
    "column_map": "columnMap",
    "key_column": "keyColumn",
    "schedule": "schedule",
    "push_to_odoo": "pushToOdoo",
    "is_paused": "isPaused",
    "is_running": "isRunning",
    "last_sync_at": "lastSyncAt",
    "sync_duration_ms": "syncDuration",
    "rows_processed": "rowsProcessed",
    "rows_inserted": "rowsInserted",
    "rows_updated": "rowsUpdated",
    "rows_deleted": "rowsDeleted",
    "error_count": "errorCount",
    "retry_count": "retryCount",
    "progress_percent": "progressPercent",
    "progress_message": "progressMessage",
    "last_error": "lastError",
    "refused_deletes": "refusedDeletes",
}


@dataclass
class SheetsWeb:
    """What the endpoints use: the engine, the cache, and the pool that runs triggered syncs."""

    engine: SheetSync
    cache: LeadsCache
    pool: ThreadPoolExecutor

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.engine.fetcher.close()
        self.cache.close()


def install(
    app: FastAPI,
    store: Store,
    *,
    allow_private: bool = False,
    allow_files: bool = False,
    cache: LeadsCache | None = None,
    settings: SyncSettings = SyncSettings(),
) -> SheetsWeb:
    """Give the app its sheet engine (the service calls this with the settings' address policy)."""
    cache = cache or LeadsCache(store)
    sheets = SheetsWeb(
        engine=SheetSync(
            store, SheetFetcher(allow_private=allow_private, allow_files=allow_files), cache=cache, settings=settings
        ),
        cache=cache,
        pool=ThreadPoolExecutor(max_workers=2, thread_name_prefix="sheet-sync"),
    )
    app.state.sheets = sheets
    return sheets


_install_lock = threading.Lock()


def _sheets(request: Request) -> SheetsWeb:
    with _install_lock:
        sheets = getattr(request.app.state, "sheets", None)
        if sheets is None:
            sheets = install(request.app, request.app.state.context.store)
    return sheets


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def state_payload(state: SheetState) -> dict[str, Any]:
    """A sheet's status with the seed's camelCase field names."""
    values = state.as_dict()
    return jsonable_encoder({api_name: values[column] for column, api_name in _STATE_FIELDS.items()})


def _customer(store: Store, ref: str) -> int:
    try:
        return resolve_customer(store, ref)
    except SheetNotConfigured as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None


def _state(store: Store, ref: str) -> SheetState:
    try:
        return get_state(store, _customer(store, ref))
    except SheetNotConfigured as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None


def _result_payload(result: SheetSyncResult) -> dict[str, Any]:
    payload = {camel_case(k): v for k, v in result.as_dict().items()}
    payload["errors"] = [{camel_case(k): v for k, v in error.items()} for error in payload["errors"]]
    return jsonable_encoder(payload)


# ---------------------------------------------------------------------------- the seed's six


@router.get("/sync/status", summary="One customer's sheet sync status")
def sync_status(request: Request, _: Read, customer_id: CustomerId) -> dict[str, Any]:
    return state_payload(_state(_sheets(request).engine.store, customer_id))


@router.get("/sync/status/all", summary="Every customer's sheet sync status")
def sync_status_all(request: Request, _: Read) -> list[dict[str, Any]]:
    return [state_payload(state) for state in list_states(_sheets(request).engine.store)]


@router.post(
    "/sync/trigger",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Sync one customer's sheet now, in the background: 202 with the run id",
    responses={409: {"description": "the sheet is paused, or a sync of it is running"}},
)
def sync_trigger(
    request: Request, _: Admin, customer_id: CustomerId, allow_mass_delete: AllowMassDelete = False
) -> dict[str, Any]:
    sheets = _sheets(request)
    state = _state(sheets.engine.store, customer_id)
    if state.is_paused:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="the sheet is paused: resume it first")
    started = threading.Event()
    run: dict[str, int] = {}

    def on_started(run_id: int) -> None:
        run["id"] = run_id
        started.set()

    future = sheets.pool.submit(
        sheets.engine.sync, state.customer_id, trigger="api", on_started=on_started, allow_mass_delete=allow_mass_delete
    )
    future.add_done_callback(lambda _: started.set())
    started.wait(_TRIGGER_WAIT_SECONDS)
    if future.done() and future.exception() is None:
        result = future.result()
        if result.status in ("skipped", "paused"):
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail={"message": result.message, "holder": result.holder, "runId": result.run_id},
            )
        return {
            "accepted": True,
            "customerId": state.customer_id,
            "runId": result.run_id,
            "status": result.status,
            "result": _result_payload(result),
        }
    return {"accepted": True, "customerId": state.customer_id, "runId": run.get("id"), "status": "running"}


@router.post(
    "/sync/trigger/all",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Sync every customer's sheet: 202 with each customer queued or paused; wait=true: 200 with each result",
)
def sync_trigger_all(
    request: Request,
    response: Response,
    _: Admin,
    allow_mass_delete: AllowMassDelete = False,
    wait: Annotated[bool, Query(description="answer when every sync is done, with each result")] = False,
) -> dict[str, Any]:
    """The CLI's ``sheets sync --all`` over HTTP: paused sheets are left alone (and listed as such)."""
    sheets = _sheets(request)
    states = list_states(sheets.engine.store)
    active = [state.customer_id for state in states if not state.is_paused]

    def sync_all() -> dict[int, SheetSyncResult]:
        return {
            customer_id: sheets.engine.sync(customer_id, trigger="api", allow_mass_delete=allow_mass_delete)
            for customer_id in active
        }

    future = sheets.pool.submit(sync_all)
    if not wait:
        queued = [
            {
                "customerId": state.customer_id,
                "customerName": state.customer_name,
                "status": "paused" if state.is_paused else "queued",
            }
            for state in states
        ]
        return {"accepted": True, "customers": queued}
    results = future.result()
    response.status_code = status.HTTP_200_OK
    customers = [
        _result_payload(results[state.customer_id]) | {"customerName": state.customer_name}
        if state.customer_id in results
        else {
            "customerId": state.customer_id,
            "customerName": state.customer_name,
            "status": "paused",
            "message": "the sheet is paused: resume it first",
        }
        for state in states
    ]
    return {"accepted": True, "customers": customers}


@router.post("/sync/pause", summary="Pause a sheet: a running sync stops at its next chunk and rolls back")
def sync_pause(request: Request, _: Admin, customer_id: CustomerId) -> dict[str, Any]:
    return _set_paused(request, customer_id, True)


@router.post("/sync/resume", summary="Resume a paused sheet")
def sync_resume(request: Request, _: Admin, customer_id: CustomerId) -> dict[str, Any]:
    return _set_paused(request, customer_id, False)


def _set_paused(request: Request, customer_id: str, paused: bool) -> dict[str, Any]:
    """Pause or resume the sheet, and its scheduled job at once (not at the next refresh)."""
    store = _sheets(request).engine.store
    state = set_paused(store, _state(store, customer_id).customer_id, paused)
    scheduler = request.app.state.context.scheduler
    if scheduler is not None:
        scheduler.refresh()
    return state_payload(state)


@router.get("/sync/metrics", summary="Duration, rows, errors, retries, success and error rates")
def sync_metrics(request: Request, _: Read, customer_id: CustomerId) -> dict[str, Any]:
    store = _sheets(request).engine.store
    metrics = sheet_metrics(store, _state(store, customer_id).customer_id)
    return jsonable_encoder({camel_case(name): value for name, value in metrics.items()})


# ---------------------------------------------------------------------------- cached reads


@router.get("", summary="Recent live leads (cached for 5 minutes, refreshed by a sheet sync that changed them)")
def recent_leads(
    request: Request,
    _: Read,
    customer_id: OptionalCustomerId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    sheets = _sheets(request)
    resolved = _customer(sheets.engine.store, customer_id) if customer_id else None
    leads = sheets.cache.recent(resolved, limit)
    return jsonable_encoder(
        {"customerId": resolved, "leads": [{camel_case(k): v for k, v in lead.items()} for lead in leads]}
    )


@router.get("/count", summary="Number of live leads (cached for 5 minutes)")
def lead_count(request: Request, _: Read, customer_id: OptionalCustomerId = None) -> dict[str, Any]:
    sheets = _sheets(request)
    resolved = _customer(sheets.engine.store, customer_id) if customer_id else None
    return {"customerId": resolved, "count": sheets.cache.count(resolved)}
