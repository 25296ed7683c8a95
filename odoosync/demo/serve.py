"""``odoosync demo --serve``: after the demo's sync, keep serving the dashboard, live.

The last step of the demo (:func:`serving_step`) runs what ``odoosync serve`` runs (the
same :class:`~odoosync.service.app.App`: schedule, outbox waker, API and dashboard) over the
demo's database and its simulator, and wires the simulator's automation webhooks to the service, so an edit in
the simulator (over XML-RPC, JSON-RPC or JSON-2) shows in ``leads`` and on the page
within seconds. A fresh admin token and webhook secret are made for the session; the
URL, the token and the simulator's address are printed. Ctrl-C or SIGTERM stops it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from odoosync.demo.run import DemoContext, Step, SummaryRow
from odoosync.exceptions import ConfigError
from odoosync.service.app import App, settings_for, until_signal
from odoosync.simulator.webhooks import attach
from odoosync.web.auth import is_loopback

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
        settings = settings_for(odoo=ctx.client.config, api_token=token, webhook_secret=secret)
        with (
            App(settings, store=ctx.store, client=ctx.client, catch_up=False) as service,
            until_signal(stop) as stopping,
        ):
            url = service.start(host, port)
            sender = attach(ctx.simulator, f"{url}/api/webhooks/odoo?token={secret}")
            try:
                sim = ctx.simulator
                announce(ServingInfo(f"{url}/", token, sim.url, sim.db, sim.login, sim.password))
                service.wait(stopping)
            finally:
                ctx.simulator.database.before_commit = None
                sender.close()
        return []

    return serve
