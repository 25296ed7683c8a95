"""``odoosync demo --serve``: after the demo's sync, keep serving the dashboard, live.

The last step of the demo (:func:`serving_step`) runs what ``odoosync serve`` runs (the
schedule, the outbox waker, the API and dashboard) over the demo's database and its
simulator, and wires the simulator's automation webhooks to the service, so an edit in
the simulator (over XML-RPC, JSON-RPC or JSON-2) shows in ``leads`` and on the page
within seconds. A fresh admin token and webhook secret are made for the session; the
URL, the token and the simulator's address are printed. Ctrl-C or SIGTERM stops it.
"""

from __future__ import annotations

import secrets
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn

from odoosync.demo.run import DemoContext, Step, SummaryRow
from odoosync.service.events import EventBus
from odoosync.exceptions import ConfigError
from odoosync.service.jobs import Jobs
from odoosync.service.scheduler import OutboxWaker, Scheduler, resolve_schedule
from odoosync.simulator.webhooks import attach
from odoosync.web.app import WebContext, create_app
from odoosync.web.auth import Tokens, is_loopback

__all__ = ["ServingInfo", "serving_step"]


@dataclass(frozen=True)
class ServingInfo:
    """What the operator needs: where the dashboard is, its token, where Odoo is."""

    url: str
    token: str
    odoo_url: str
    odoo_db: str
    odoo_login: str
    odoo_password: str

    def describe(self) -> str:
        """What the terminal shows while serving."""
        return (
            f"Dashboard: {self.url}  (token: {self.token}, for this session only)\n"
            f"Odoo simulator: {self.odoo_url}  database {self.odoo_db}, login {self.odoo_login}, "
            f"password {self.odoo_password}\n"
            "Edit a lead in the simulator (e.g. over XML-RPC): it shows on the dashboard within seconds. "
            "Ctrl-C stops."
        )


def serving_step(
    announce: Callable[[ServingInfo], None],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    stop: threading.Event | None = None,
) -> Step:
    """A demo step that serves until SIGINT/SIGTERM (or ``stop`` is set); ``announce`` is
    called once the dashboard answers."""
    if not is_loopback(host):
        raise ConfigError(f"demo --serve listens on loopback only (got {host})")

    def serve(ctx: DemoContext) -> list[SummaryRow]:
        token, secret = secrets.token_urlsafe(18), secrets.token_urlsafe(24)
        events = EventBus()
        jobs = Jobs(ctx.store, ctx.client, events=events, backend=ctx.client.config.name)
        functions = jobs.functions()
        scheduler = Scheduler(functions, resolve_schedule(tuple(functions)), on_skip=jobs.record_skip)
        waker = OutboxWaker(ctx.store, lambda: jobs.wake_outbox(scheduler))
        context = WebContext(
            store=ctx.store, tokens=Tokens(admin=token), events=events, jobs=jobs, scheduler=scheduler,
            client_stats=ctx.client.stats.snapshot, webhook_secret=secret,
        )
        app = create_app(context)
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, lifespan="off", log_level="warning", timeout_graceful_shutdown=2)
        )
        api = threading.Thread(target=server.run, name="demo-api", daemon=True)
        api.start()
        while not server.started and api.is_alive():
            api.join(0.05)
        if not api.is_alive():
            raise ConfigError(f"the dashboard could not listen on {host}:{port} (is the port in use? try --port)")
        url = f"http://{host}:{port}"
        sender = attach(ctx.simulator, f"{url}/api/webhooks/odoo?token={secret}")
        scheduler.start()
        waker.start()
        sim = ctx.simulator
        announce(ServingInfo(f"{url}/", token, sim.url, sim.db, sim.login, sim.password))
        stopping = stop or threading.Event()
        previous = {}
        if threading.current_thread() is threading.main_thread():
            previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not stopping.wait(0.5) and api.is_alive():
                pass
        finally:
            ctx.simulator.database.before_commit = None
            sender.close()
            jobs.stop()
            queue = getattr(app.state, "webhook_queue", None)
            if queue is not None:
                queue.stop()  # the pull in flight ends before the demo closes the database
            waker.stop()
            scheduler.shutdown(wait=True)
            jobs.join(10)
            events.close()
            server.should_exit = True
            api.join(10)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return []

    return serve
