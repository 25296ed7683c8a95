"""CLI commands: ``odoosync serve``, ``odoosync sla check``, ``odoosync schema --sql|--pg-cron``.

``serve`` is the one long-running process: the scheduler (``odoosync.service.scheduler``),
the outbox worker (woken by ``LISTEN/NOTIFY`` on PostgreSQL, polling on SQLite) and the
HTTP API (``odoosync.web``), all calling the job functions of ``odoosync.service.jobs``. The
scheduler follows the database (``odoosync.service.schedule_state``): jobs an operator paused stay
paused across restarts, and sheets added or changed by other processes are scheduled
within a minute.

Stopping (SIGTERM or Ctrl-C): running pulls finish their current page and close as
``partial``, their locks are released, the API stops, and the process exits.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Annotated, Any

import typer

from odoosync.cli.common import err_console, fail_cleanly, print_json, styled
from odoosync.exceptions import ConfigError

if TYPE_CHECKING:  # the service's parts are imported when `serve` runs, so `--help` starts at once
    from odoosync.odoo.client import OdooClient
    from odoosync.service.events import EventBus
    from odoosync.service.jobs import Jobs
    from odoosync.service.odoo_link import OdooLink
    from odoosync.service.scheduler import OutboxWaker, Scheduler

__all__ = ["register", "serve", "sla_check", "schema"]

log = logging.getLogger("odoosync.serve")

_SHUTDOWN_GRACE_SECONDS = 20.0
_STALE_RUN_AFTER = dt.timedelta(minutes=5)  # a live run beats its heartbeat every page
_SWEEP_SECONDS = 60.0  # how often runs whose holder is gone are closed
_JOBS_WITHOUT_ODOO = frozenset({"sla"})  # the SLA check reads and writes the app database only

sla_app = typer.Typer(help="SLA breach checks.", no_args_is_help=True)
JsonOutput = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback unless tokens are set).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    no_schedule: Annotated[
        bool, typer.Option("--no-schedule", help="API and outbox worker only (pg_cron calls the jobs).")
    ] = False,
    poll: Annotated[float, typer.Option("--poll", min=0.2, help="SQLite: seconds between outbox checks.")] = 2.0,
) -> None:
    """Run the scheduler, the outbox worker and the HTTP API in one process.

    Example: ODOOSYNC_API_TOKEN=... odoosync serve --host 0.0.0.0 --port 8000
    """
    # The web stack is imported here, not at module level, so that every other command
    # starts without paying for FastAPI/uvicorn.
    from odoosync.service.events import EventBus
    from odoosync.service.jobs import Jobs
    from odoosync.service.odoo_link import OdooLink
    from odoosync.service.operations import open_store
    from odoosync.service.schedule_state import ScheduleSource
    from odoosync.service.scheduler import SCHEDULE_CONFIG_KEY, OutboxWaker, Scheduler, resolve_schedule
    from odoosync.settings import load_settings
    from odoosync.sheets.cache import LeadsCache
    from odoosync.sheets.engine import SheetSync, SyncSettings
    from odoosync.sheets.fetch import SheetFetcher
    from odoosync.web.app import WebContext, create_app
    from odoosync.web.auth import Tokens, check_bind_address
    from odoosync.store.sync_config import config_get
    from odoosync.web.sheets_api import install as install_sheets_api

    with fail_cleanly():
        settings = load_settings()
        tokens = Tokens(admin=settings.api_token, read=settings.read_token)
        check_bind_address(host, tokens)
        with open_store(settings) as store, _odoo_client(settings) as client:
            _close_interrupted_runs(store)
            events = EventBus()
            jobs = Jobs(
                store, client, events=events, backend=client.config.name if client else "default",
                overlap=dt.timedelta(seconds=settings.overlap_seconds), page_size=settings.page_size,
                sla_webhook_url=settings.sla_webhook_url, push_lease=dt.timedelta(seconds=settings.push_lease_seconds),
            )
            # Without Odoo (none configured, or down) the API, sheets and SLA checks still run;
            # the catch-up thread reaches for Odoo, so the API is up at once either way.
            link = OdooLink(client)
            functions = _odoo_guarded(jobs.functions(), link)
            schedule = resolve_schedule(
                tuple(functions), toml=settings.schedule, database=_mapping(config_get(store, SCHEDULE_CONFIG_KEY))
            )
            leads_cache = LeadsCache(store)
            sheet_settings = SyncSettings(max_delete_share=settings.sheets_max_delete_share)
            sheets = None
            if no_schedule:
                functions = {name: f for name, f in functions.items() if name == "outbox"}
                schedule = {name: cron for name, cron in schedule.items() if name == "outbox"}
            else:
                sheets = SheetSync(
                    store,
                    SheetFetcher(allow_private=settings.sheets_allow_private, allow_files=settings.sheets_allow_files),
                    cache=leads_cache, settings=sheet_settings,
                )
            # persisted pauses and one job per sheet, applied now (before the catch-up) and every minute
            scheduler = Scheduler(functions, schedule, on_skip=jobs.record_skip, source=ScheduleSource(store, sheets))
            scheduler.refresh()
            waker = OutboxWaker(store, lambda: jobs.wake_outbox(scheduler), poll_seconds=poll)
            context = WebContext(
                store=store, tokens=tokens, events=events, jobs=None, scheduler=scheduler,
                client_stats=client.stats.snapshot if client else None, webhook_secret=settings.webhook_secret,
                odoo_status=link.status,
            )
            context.components.update({"odoo": _odoo_check(link), "listener": waker.problem})
            link.on_ready = lambda: setattr(context, "jobs", jobs)  # Odoo reached: its endpoints open
            app = create_app(context)
            install_sheets_api(
                app, store, allow_private=settings.sheets_allow_private, allow_files=settings.sheets_allow_files,
                cache=leads_cache, settings=sheet_settings,
            )
            _run_until_signal(app, host, port, jobs, scheduler, waker, events, functions, link)


def _odoo_client(settings) -> AbstractContextManager[OdooClient | None]:
    """The Odoo client (opening it is cheap: no request), or None when no Odoo is configured."""
    from odoosync.odoo.client import OdooClient

    return OdooClient(settings.odoo) if settings.odoo is not None else nullcontext()


def _odoo_check(link: OdooLink) -> Callable[[], str | None]:
    """``/api/health``'s Odoo component: fine when none is configured (sheets only); down
    while it has not been reached; once reached, a cached probe of its version."""
    from odoosync.service.health import CachedProbe

    probe = CachedProbe(link.client.version, seconds=30) if link.client is not None else None

    def check() -> str | None:
        if probe is None:
            return None
        if not link.ready:
            return link.status()
        return probe()

    return check


def _odoo_guarded(functions: dict[str, Callable[[str], Any]], link: OdooLink) -> dict[str, Callable[[str], Any]]:
    """Jobs that need Odoo go through the link (each fire retries it); without Odoo they are left out."""
    guarded = {}
    for name, function in functions.items():
        if name in _JOBS_WITHOUT_ODOO:
            guarded[name] = function
        elif link.configured:
            guarded[name] = link.guard(function)
    return guarded


def _run_until_signal(
    app, host: str, port: int, jobs: Jobs, scheduler: Scheduler, waker: OutboxWaker, events: EventBus,
    functions: dict[str, Callable[[str], Any]], link: OdooLink,
) -> None:
    """Serve until SIGTERM/SIGINT, then stop in order: jobs, scheduler, worker, event streams, API."""
    import uvicorn

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, lifespan="off", log_level="warning", timeout_graceful_shutdown=3)
    )
    # uvicorn captures signals only on the main thread; in its own thread it leaves them to us.
    api_thread = threading.Thread(target=server.run, name="api", daemon=True)
    api_thread.start()
    waker.start()
    catch_up = threading.Thread(
        target=_catch_up_then_schedule, args=(jobs, scheduler, functions, link), name="catch-up", daemon=True
    )
    catch_up.start()
    app.state.context.components["scheduler"] = lambda: (
        None if scheduler.running or (catch_up.is_alive() and not stop.is_set()) else "not running"
    )
    log.info("serving on http://%s:%d (jobs: %s)", host, port, ", ".join(scheduler.job_names()))
    swept = time.monotonic()
    try:
        while not stop.wait(0.5):
            if not api_thread.is_alive():
                raise ConfigError(f"the API could not listen on {host}:{port} (is the port in use?)")
            if time.monotonic() - swept >= _SWEEP_SECONDS:
                swept = time.monotonic()
                _close_interrupted_runs(jobs.store)
    finally:
        log.info("stopping: current pages finish, runs close as partial, locks are released")
        jobs.stop()
        waker.stop()
        catch_up.join(_SHUTDOWN_GRACE_SECONDS)
        scheduler.shutdown(wait=True)
        jobs.join(_SHUTDOWN_GRACE_SECONDS)
        events.close()  # open event streams end, so the API stops without cancelling them
        server.should_exit = True
        api_thread.join(10)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("stopped")


def _close_interrupted_runs(store) -> None:
    """Runs whose holder is gone (killed, or cut off from the database) end ``interrupted``;
    a database still away is tried again at the next sweep."""
    from odoosync.store import runs as run_store

    try:
        closed = run_store.close_interrupted_runs(store, _STALE_RUN_AFTER)
    except Exception as exc:  # noqa: BLE001 - the next sweep tries again
        log.warning("could not close interrupted runs: %s", type(exc).__name__)
        return
    for run_id, why in closed.items():
        log.info("run %d closed: %s", run_id, why)


def _catch_up_then_schedule(
    jobs: Jobs, scheduler: Scheduler, functions: dict[str, Callable[[str], Any]], link: OdooLink
) -> None:
    """Bring the database up to date in dependency order, then start the schedule.

    Reference data first, then partners, leads, chatter and activities, so that a fresh
    database never maps messages onto leads it does not have yet. A job the operator
    paused (the scheduler was refreshed from the database before this) is left out.
    Without Odoo there is nothing to catch up: the schedule starts at once (sheets, SLA),
    and the link is retried in the background and by the Odoo jobs.
    """
    from odoosync.service.jobs import STARTUP_JOBS

    linked = link.configured and link.try_now()
    for job in STARTUP_JOBS if linked else ():
        if jobs.stopping.is_set():
            return
        if job in scheduler.job_names() and not scheduler.info(job).paused:
            try:
                functions[job]("schedule")
            except Exception as exc:  # noqa: BLE001 - the schedule retries it
                log.error("start-up %s failed: %s: %s", job, type(exc).__name__, exc)
    if not jobs.stopping.is_set():
        scheduler.start()
    link.retry_in_background(jobs.stopping)


def _mapping(value: object) -> Mapping[str, str]:
    from odoosync.service.scheduler import SCHEDULE_CONFIG_KEY

    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"ops.odoo_sync_config '{SCHEDULE_CONFIG_KEY}' must be a JSON object of job → cron")
    return {str(k): str(v) for k, v in value.items()}


@sla_app.command("check")
def sla_check(json: JsonOutput = False) -> None:
    """Escalate leads past their deadline and resolve those no longer in breach.

    Example: odoosync sla check --json
    """
    from odoosync.service.jobs import run_sla_check
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings

    with fail_cleanly():
        settings = load_settings()
        with open_store(settings) as store:
            result = run_sla_check(store, trigger="manual", webhook_url=settings.sla_webhook_url)
    if json:
        print_json(result.as_dict())
        return
    typer.echo(f"SLA: {len(result.breached)} new breach(es), {len(result.resolved)} resolved")
    for breach in result.breached:
        typer.echo(f"  breach  lead {breach.lead_id}: {breach.title} ({breach.hours_overdue} h overdue, owner {breach.owner or '-'})")
    for resolved in result.resolved:
        typer.echo(f"  resolved lead {resolved.lead_id}: {resolved.title} ({resolved.reason})")
    if result.webhook_error:
        err_console.print(styled("warning:", "yellow", result.webhook_error))


def schema(
    sql: Annotated[bool, typer.Option("--sql", help="Print the PostgreSQL DDL of odoosync's tables and triggers.")] = False,
    pg_cron: Annotated[bool, typer.Option("--pg-cron", help="Print pg_cron + pg_net SQL calling this API.")] = False,
    url: Annotated[str, typer.Option("--url", help="With --pg-cron: the API's public base URL.")] = "http://127.0.0.1:8000",
    token_source: Annotated[
        str, typer.Option("--token-source", help="With --pg-cron: vault:<secret name> or setting:<name>.")
    ] = "vault:odoosync_api_token",
) -> None:
    """Print SQL: the schema (--sql) or the pg_cron jobs for Supabase (--pg-cron).

    Example: odoosync schema --pg-cron --url https://sync.example.com > cron.sql
    """
    if sql == pg_cron:
        raise typer.BadParameter("choose exactly one of --sql or --pg-cron")
    with fail_cleanly():
        if pg_cron:
            from odoosync.service.pg_cron import pg_cron_sql
            from odoosync.service.scheduler import DEFAULT_SCHEDULE, resolve_schedule
            from odoosync.settings import load_settings

            settings = load_settings()
            schedule = resolve_schedule(tuple(DEFAULT_SCHEDULE), toml=settings.schedule)
            typer.echo(pg_cron_sql(url, schedule, token_source), nl=False)
        else:
            typer.echo(_schema_sql())


def _schema_sql() -> str:
    """The tables (from ``store/schema.py``, row-level security on) and the outbox triggers, as PostgreSQL DDL."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex, CreateSchema, CreateTable

    from odoosync.store import triggers
    from odoosync.store.schema import OPS_SCHEMA, metadata, row_level_security_statements

    dialect = postgresql.dialect()
    statements = [str(CreateSchema(OPS_SCHEMA, if_not_exists=True).compile(dialect=dialect))]
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        statements += [str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes]
    statements += row_level_security_statements()
    statements += triggers.create_statements("postgresql")
    return ";\n\n".join(statements) + ";"


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``sla check`` and ``schema`` to the top-level app."""
    app.command("serve")(serve)
    app.add_typer(sla_app, name="sla")
    app.command("schema")(schema)
