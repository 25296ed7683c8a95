"""The FastAPI application: wiring of routers, tokens and the service's parts.

``create_app(context)`` builds the app around a :class:`WebContext` (the store, the
tokens, the event bus, and, when ``odoosync serve`` runs them, the jobs and the
scheduler). Routers are separate modules mounted here: the operator API
(``web/api.py``), the leads-sheet API (``web/sheets_api.py``) and, later, the Odoo
webhook receiver and the dashboard. ``/`` is left for the dashboard's static files.

OpenAPI is served at ``/openapi.json`` with Swagger UI at ``/docs`` (no CDN needed for
the spec itself; the UI page loads its assets as FastAPI ships it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from odoosync import __version__
from odoosync.exceptions import ConfigError, LockHeld, NotMigrated, OdooSyncError, StoreError
from odoosync.odoo.stats import StatsSnapshot
from odoosync.redact import redact_text
from odoosync.service.events import EventBus
from odoosync.service.health import Check
from odoosync.service.metrics import make_registry
from odoosync.store import Store
from odoosync.web.auth import Tokens
from odoosync.web.limits import BodyLimit, StreamSlots
from odoosync.web.origin import HostOriginGuard
from odoosync.web.webhooks import MAX_BODY_BYTES as WEBHOOK_MAX_BODY_BYTES

if TYPE_CHECKING:
    from odoosync.service.dispatcher import Dispatcher
    from odoosync.service.jobs import Jobs
    from odoosync.service.scheduler import Scheduler

__all__ = ["WebContext", "create_app"]


@dataclass
class WebContext:
    """What the HTTP layer may use. ``jobs``/``scheduler`` are None when not running
    (e.g. an API-only process without Odoo): endpoints needing them answer ``503``."""

    store: Store
    tokens: Tokens = field(default_factory=Tokens)
    events: EventBus = field(default_factory=EventBus)
    jobs: Jobs | None = None
    scheduler: Scheduler | None = None
    client_stats: Callable[[], StatsSnapshot] | None = None
    webhook_secret: str | None = field(default=None, repr=False)  # ODOOSYNC_WEBHOOK_SECRET (web/webhooks.py)
    # name → check for /api/health (odoosync.service.health): Odoo, scheduler, outbox listener
    components: dict[str, Check] = field(default_factory=dict)
    odoo_status: Callable[[], str] | None = None  # /api/health's "odoo" (odoo_link.py); None: not reported
    # serve --engine procrastinate: webhooks of other backends become queued increments (web/webhooks.py)
    dispatcher: Dispatcher | None = None


def create_app(context: WebContext) -> FastAPI:
    """The ASGI app for ``odoosync serve`` and the tests."""
    from odoosync.web import api

    app = FastAPI(
        title="odoosync",
        version=__version__,
        description=(
            "Operator API of odoosync: freshness, runs, triggers, outbox, checkpoints, schedule, "
            "SLA, metrics. Bearer tokens: ODOOSYNC_READ_TOKEN for GET, ODOOSYNC_API_TOKEN for everything."
        ),
    )
    app.state.context = context
    app.state.tokens = context.tokens
    app.state.registry = make_registry(
        context.store, context.client_stats, webhook_queue=lambda: getattr(app.state, "webhook_queue", None)
    )
    app.state.stream_slots = StreamSlots()
    app.include_router(api.router)
    app.include_router(api.metrics_router)
    _mount_routers(app)
    _install_error_handlers(app)
    # Outermost first: a refused Host or Origin costs nothing, an oversized body is never
    # read; both before any route, so before authentication.
    app.add_middleware(BodyLimit, limits={"/api/webhooks/": WEBHOOK_MAX_BODY_BYTES})
    app.add_middleware(HostOriginGuard, loopback_only=not context.tokens.configured)
    return app


def _mount_routers(app: FastAPI) -> None:
    """The routers of the other web modules (imported here: they import this module)."""
    from odoosync.web import dashboard, webhooks
    from odoosync.web.sheets_api import router as sheets_router

    app.include_router(sheets_router)
    app.include_router(webhooks.router)
    app.include_router(dashboard.api_router)
    app.include_router(dashboard.router)


def _install_error_handlers(app: FastAPI) -> None:
    """Our exceptions as clear HTTP answers; never a stack trace, never a secret."""

    @app.exception_handler(LockHeld)
    async def _lock_held(request: Request, exc: LockHeld) -> JSONResponse:
        return JSONResponse({"detail": redact_text(str(exc)), "holder": exc.holder}, status_code=409)

    @app.exception_handler(ConfigError)
    async def _config(request: Request, exc: ConfigError) -> JSONResponse:
        problems = [redact_text(str(p)) for p in exc.problems]
        return JSONResponse({"detail": redact_text(str(exc)), "problems": problems}, status_code=422)

    @app.exception_handler(NotMigrated)
    async def _not_migrated(request: Request, exc: NotMigrated) -> JSONResponse:
        return JSONResponse({"detail": redact_text(str(exc))}, status_code=503)

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": redact_text(f"database error: {exc}")}, status_code=503)

    @app.exception_handler(OdooSyncError)
    async def _ours(request: Request, exc: OdooSyncError) -> JSONResponse:
        return JSONResponse({"detail": redact_text(f"{type(exc).__name__}: {exc}")}, status_code=502)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes the rejected input back; a token pasted into the wrong
        # field would then appear in the answer. Name the field and the problem only.
        errors = [
            {"loc": list(error.get("loc", ())), "msg": error.get("msg", "invalid"), "type": error.get("type", "")}
            for error in exc.errors()
        ]
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]) for e in errors if e["loc"])
        return JSONResponse({"detail": errors, "message": f"invalid input: {fields}"}, status_code=422)
