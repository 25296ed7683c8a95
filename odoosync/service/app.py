"""The composition root: one object that builds and runs the service from :class:`Settings`.

Everything a running service is made of is built here and nowhere else: the store
(migration checked), the Odoo client and its link (``odoo_link.py``), the jobs, the
schedule (settings, then ``ops.odoo_sync_config``, then pauses and one job per sheet),
the outbox waker, the event bus, the sheet engine with its cache, and the web context and
ASGI app. ``odoosync serve``, ``odoosync demo --serve``, the tests and the benches all go
through it, so what they exercise is what production runs.

Lifecycle (procrastinate's ``App`` is the model)::

    with App(settings) as app:        # open(): build, nothing started
        app.start(host, port)         # API thread, outbox waker, catch-up then schedule
        app.wait(stop_event)          # until stopped; sweeps runs whose holder is gone
    # stop(): jobs, waker, scheduler, webhook queue, event streams, API; close(): resources

A store or client passed in is used and left open (the demo owns its own); otherwise the
app opens them from the settings and closes them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from odoosync.exceptions import ConfigError
from odoosync.push.outbox import OutboxWaker
from odoosync.service.dispatcher import DEFERRED_JOBS, Dispatcher
from odoosync.service.events import EventBus
from odoosync.service.health import CachedProbe
from odoosync.service.jobs import STARTUP_JOBS, Jobs
from odoosync.service.odoo_link import OdooLink
from odoosync.service.operations import open_store
from odoosync.service.schedule_state import ScheduleSource
from odoosync.service.scheduler import SCHEDULE_CONFIG_KEY, Scheduler, resolve_schedule
from odoosync.service.task_queue import require_postgres
from odoosync.settings import Settings
from odoosync.store import runs as run_store
from odoosync.store.sync_config import config_get

if TYPE_CHECKING:
    from fastapi import FastAPI

    from odoosync.odoo.client import OdooClient
    from odoosync.store import Store

__all__ = ["App", "ENGINES", "until_signal", "settings_for", "close_interrupted_runs"]

log = logging.getLogger("odoosync.serve")

SHUTDOWN_GRACE_SECONDS = 20.0
_STALE_RUN_AFTER = dt.timedelta(minutes=5)  # a live run beats its heartbeat every page
_SWEEP_SECONDS = 60.0  # how often runs whose holder is gone are closed
_JOBS_WITHOUT_ODOO = frozenset({"sla"})  # the SLA check reads and writes the app database only
ENGINES = ("in-process", "procrastinate")


class App:
    """The service assembled from settings: ``open`` builds, ``start`` runs, ``stop`` and
    ``close`` undo them in reverse order.

    ``scheduled=False`` keeps the API and the outbox worker only (pg_cron calls the jobs);
    ``catch_up=False`` starts the schedule without first bringing every stream up to date
    (the demo has just synced). ``engine="procrastinate"`` (PostgreSQL) queues the Odoo jobs
    of every backend for ``odoosync worker`` processes instead of running them here
    (``service/dispatcher.py``).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        client: OdooClient | None = None,
        scheduled: bool = True,
        catch_up: bool = True,
        poll_seconds: float = 2.0,
        engine: str = "in-process",
    ) -> None:
        if engine not in ENGINES:
            raise ConfigError(f"engine must be one of {', '.join(ENGINES)} (got {engine!r})")
        self.settings = settings
        self.engine = engine
        self._given_store = store
        self._given_client = client
        self._scheduled = scheduled
        self._catch_up = catch_up
        self._poll_seconds = poll_seconds
        self._resources = contextlib.ExitStack()
        self._stop = threading.Event()
        self._server: Any = None
        self._api: threading.Thread | None = None
        self._catch_up_thread: threading.Thread | None = None
        self.url: str | None = None

    # ------------------------------------------------------------------ build

    def open(self) -> App:
        """Build every component; nothing runs yet. Raises before anything is started."""
        from odoosync.sheets.cache import LeadsCache
        from odoosync.sheets.engine import SheetSync, SyncSettings
        from odoosync.sheets.fetch import SheetFetcher
        from odoosync.web.app import WebContext, create_app
        from odoosync.web.auth import Tokens
        from odoosync.web.sheets_api import install as install_sheets_api

        settings = self.settings
        self.dispatcher: Dispatcher | None = None
        try:
            if self.engine == "procrastinate":
                require_postgres(settings.database_url)
            self.store = self._given_store or self._resources.enter_context(open_store(settings))
            self.client = self._given_client or self._open_client()
            close_interrupted_runs(self.store)
            self.events = EventBus()
            self.jobs = Jobs(
                self.store,
                self.client,
                events=self.events,
                backend=self.client.config.name if self.client else "default",
                overlap=dt.timedelta(seconds=settings.overlap_seconds),
                page_size=settings.page_size,
                sla_webhook_url=settings.sla_webhook_url,
                push_lease=dt.timedelta(seconds=settings.push_lease_seconds),
            )
            # Without Odoo (none configured, or down) the API, sheets and SLA checks still run;
            # the catch-up thread reaches for Odoo, so the API is up at once either way.
            self.link = OdooLink(self.client)
            functions = _odoo_guarded(self.jobs.functions(), self.link)
            if self.engine == "procrastinate":  # the workers reach each backend's Odoo, not this process
                self.dispatcher = self._open_dispatcher()
                functions.update(self.dispatcher.functions(DEFERRED_JOBS))
            schedule = resolve_schedule(
                tuple(functions),
                toml=settings.schedule,
                database=_schedule_rows(config_get(self.store, SCHEDULE_CONFIG_KEY)),
            )
            sheet_settings = SyncSettings(max_delete_share=settings.sheets_max_delete_share)
            leads_cache = LeadsCache(self.store)
            sheets = None
            if self._scheduled:
                sheets = SheetSync(
                    self.store,
                    SheetFetcher(allow_private=settings.sheets_allow_private, allow_files=settings.sheets_allow_files),
                    cache=leads_cache,
                    settings=sheet_settings,
                )
            else:
                functions = {name: f for name, f in functions.items() if name == "outbox"}
                schedule = {name: cron for name, cron in schedule.items() if name == "outbox"}
            self.functions = functions
            # persisted pauses and one job per sheet, applied now (before the catch-up) and every minute
            self.scheduler = Scheduler(
                functions, schedule, on_skip=self.jobs.record_skip, source=ScheduleSource(self.store, sheets)
            )
            self.scheduler.refresh()
            self.waker = OutboxWaker(
                self.store, lambda: self.jobs.wake_outbox(self.scheduler), poll_seconds=self._poll_seconds
            )
            self.context: WebContext = WebContext(
                store=self.store,
                tokens=Tokens(admin=settings.api_token, read=settings.read_token),
                events=self.events,
                jobs=None,
                scheduler=self.scheduler,
                client_stats=self.client.stats.snapshot if self.client else None,
                webhook_secret=settings.webhook_secret,
                odoo_status=self.link.status,
                dispatcher=self.dispatcher,
            )
            self.context.components.update({"odoo": _odoo_check(self.link), "listener": self.waker.problem})
            self.link.on_ready = lambda: setattr(self.context, "jobs", self.jobs)  # Odoo reached: its endpoints open
            self.web: FastAPI = create_app(self.context)
            self._sheets_web = install_sheets_api(
                self.web,
                self.store,
                allow_private=settings.sheets_allow_private,
                allow_files=settings.sheets_allow_files,
                cache=leads_cache,
                settings=sheet_settings,
            )
            self._resources.callback(self._sheets_web.close)
        except BaseException:
            self._resources.close()
            raise
        return self

    def _open_dispatcher(self) -> Dispatcher:
        """The task queue (its schema created on first use) and the dispatcher deferring to it."""
        from odoosync.service.task_queue import ensure_queue_schema, make_queue_app

        ensure_queue_schema(self.store)
        queue_app = make_queue_app(self.settings.database_url, pool_size=2).open()
        self._resources.callback(queue_app.close)
        return Dispatcher(queue_app, self.settings, self.store)

    def _open_client(self) -> OdooClient | None:
        """The Odoo client (opening it is cheap: no request), or None when no Odoo is configured."""
        from odoosync.odoo.client import OdooClient

        if self.settings.odoo is None:
            return None
        return self._resources.enter_context(OdooClient(self.settings.odoo))

    # ------------------------------------------------------------------ run

    def start(self, host: str = "127.0.0.1", port: int = 8000) -> str:
        """Serve the API (port 0: any free one), start the outbox waker and the catch-up, which
        starts the schedule; return the API's base URL once it listens."""
        import uvicorn

        self._server = uvicorn.Server(
            uvicorn.Config(
                self.web, host=host, port=port, lifespan="off", log_level="warning", timeout_graceful_shutdown=3
            )
        )
        # uvicorn captures signals only on the main thread; in its own thread it leaves them to us.
        self._api = api = _thread(self._server.run, "api")
        while not self._server.started and api.is_alive():
            api.join(0.02)
        if not api.is_alive():
            raise ConfigError(f"the API could not listen on {host}:{port} (is the port in use?)")
        bound = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://{host}:{bound}"
        self.waker.start()
        self._catch_up_thread = catch_up = _thread(self._catch_up_then_schedule, "catch-up")
        scheduler = self.scheduler
        self.context.components["scheduler"] = lambda: (
            None if scheduler.running or (catch_up.is_alive() and not self._stop.is_set()) else "not running"
        )
        log.info("serving on %s (jobs: %s)", self.url, ", ".join(scheduler.job_names()))
        return self.url

    def wait(self, stop: threading.Event) -> None:
        """Block until ``stop`` is set or the API dies, closing runs whose holder is gone every minute."""
        swept = time.monotonic()
        while not stop.wait(0.5):
            if self._api is not None and not self._api.is_alive():
                raise ConfigError("the API stopped unexpectedly")
            if time.monotonic() - swept >= _SWEEP_SECONDS:
                swept = time.monotonic()
                close_interrupted_runs(self.store)

    def stop(self) -> None:
        """Stop in order: running pulls finish their page and close as ``partial`` (locks
        released), then the waker, the schedule, the webhook queue, event streams, the API."""
        if self._stop.is_set():
            return
        self._stop.set()
        log.info("stopping: current pages finish, runs close as partial, locks are released")
        self.jobs.stop()
        self.waker.stop()
        if self._catch_up_thread is not None:
            self._catch_up_thread.join(SHUTDOWN_GRACE_SECONDS)
        self.scheduler.shutdown(wait=True)
        queue = getattr(self.web.state, "webhook_queue", None)
        if queue is not None:
            queue.stop()  # the pull in flight ends before the database closes
        self.jobs.join(SHUTDOWN_GRACE_SECONDS)
        self.events.close()  # open event streams end, so the API stops without cancelling them
        if self._api is not None:
            self._server.should_exit = True
            self._api.join(10)
        log.info("stopped")

    def close(self) -> None:
        """Stop if running, then close what ``open`` opened (store and client it was not given)."""
        if hasattr(self, "jobs"):
            self.stop()
        self._resources.close()

    def __enter__(self) -> App:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _catch_up_then_schedule(self) -> None:
        """Bring the database up to date in dependency order, then start the schedule.

        Reference data first, then partners, leads, chatter and activities, so that a fresh
        database never maps messages onto leads it does not have yet. A job the operator
        paused (the scheduler was refreshed from the database before this) is left out.
        Without Odoo there is nothing to catch up: the schedule starts at once (sheets, SLA),
        and the link is retried in the background and by the Odoo jobs.
        """
        if self.dispatcher is not None and self._catch_up:
            self.dispatcher.catch_up()  # the workers catch each backend up, in order
        linked = self.dispatcher is None and self.link.configured and self.link.try_now()
        for job in STARTUP_JOBS if linked and self._catch_up else ():
            if self._stop.is_set():
                return
            if job in self.scheduler.job_names() and not self.scheduler.info(job).paused:
                try:
                    self.functions[job]("schedule")
                except Exception as exc:  # noqa: BLE001 - the schedule retries it
                    log.error("start-up %s failed: %s: %s", job, type(exc).__name__, exc)
        if not self._stop.is_set():
            self.scheduler.start()
        self.link.retry_in_background(self.jobs.stopping)


def _thread(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def until_signal(stop: threading.Event | None = None) -> Iterator[threading.Event]:
    """An event set by SIGTERM/SIGINT while the block runs (on the main thread; elsewhere
    only by the caller), the previous handlers restored after."""
    import signal

    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def settings_for(base: Settings | None = None, **values: Any) -> Settings:
    """Settings built in code (demo, tests, benches): ``base`` (or defaults without Odoo) with ``values``."""
    return dataclasses.replace(base or Settings(odoo=None), **values)


def close_interrupted_runs(store: Store) -> None:
    """Runs whose holder is gone (killed, or cut off from the database) end ``interrupted``;
    a database still away is tried again at the next sweep."""
    try:
        closed = run_store.close_interrupted_runs(store, _STALE_RUN_AFTER)
    except Exception as exc:  # noqa: BLE001 - the next sweep tries again
        log.warning("could not close interrupted runs: %s", type(exc).__name__)
        return
    for run_id, why in closed.items():
        log.info("run %d closed: %s", run_id, why)


def _odoo_check(link: OdooLink) -> Callable[[], str | None]:
    """``/api/health``'s Odoo component: fine when none is configured (sheets only); down
    while it has not been reached; once reached, a cached probe of its version."""
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


def _schedule_rows(value: object) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"ops.odoo_sync_config '{SCHEDULE_CONFIG_KEY}' must be a JSON object of job → cron")
    return {str(k): str(v) for k, v in value.items()}
