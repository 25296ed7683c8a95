"""The service's link to Odoo: configured or not, reachable or not, and retried.

``odoosync serve`` must run without Odoo: a sheets-only deployment has none, and an Odoo
that is down at start-up must not keep the API, the sheets and the SLA checks from
running. What must not happen either is a pull before the allowed companies are known
(an unset ``ODOO_COMPANY_IDS`` means "every company the user may access", which takes a
call to Odoo; pulling without it would read the main company only and move the cursors
past the others). So the first call that needs Odoo goes through :meth:`OdooLink.ensure`:
it logs in and resolves the companies once, and raises while Odoo cannot be reached.
It is retried in the background (:meth:`OdooLink.retry_in_background`) and by every
scheduled job that needs Odoo (:meth:`OdooLink.guard`); ``/api/health`` reports
:meth:`OdooLink.status`, and the endpoints that need Odoo answer ``503`` until then.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from odoosync.exceptions import OdooError
from odoosync.odoo.client import OdooClient
from odoosync.service.operations import allowed_companies

__all__ = ["OdooLink"]

log = logging.getLogger("odoosync.odoo_link")


class OdooLink:
    """Whether the service can use Odoo now; ``client`` is None when none is configured."""

    def __init__(self, client: OdooClient | None, *, on_ready: Callable[[], None] | None = None):
        self.client = client
        self.on_ready = on_ready  # called once, when Odoo is first reached
        self._lock = threading.Lock()
        self._ready = False
        self._problem: str | None = None
        self._since: dt.datetime | None = None

    @property
    def configured(self) -> bool:
        return self.client is not None

    @property
    def ready(self) -> bool:
        return self._ready

    def status(self) -> str:
        """For ``/api/health``: ``ok``, ``not configured``, ``connecting`` or ``unreachable since ...: why``."""
        if self.client is None:
            return "not configured"
        if self._ready:
            return "ok"
        if self._problem is None:
            return "connecting"
        since = self._since.strftime("%Y-%m-%d %H:%M:%S UTC") if self._since else "start-up"
        return f"unreachable since {since}: {self._problem} (retrying)"

    def ensure(self) -> None:
        """Log in and resolve the companies once; ``OdooError`` while Odoo cannot be used."""
        if self._ready:
            return
        if self.client is None:
            raise OdooError("Odoo is not configured: set ODOO_URL, ODOO_DB, ODOO_USERNAME and ODOO_API_KEY")
        with self._lock:
            if self._ready:
                return
            try:
                if self.client.config.company_ids:
                    self.client.uid  # noqa: B018 - logs in
                else:
                    companies = allowed_companies(self.client)
                    self.client.config = dataclasses.replace(self.client.config, company_ids=companies)
            except OdooError as exc:
                if self._problem is None:
                    self._since = dt.datetime.now(dt.UTC)
                    log.warning("Odoo cannot be used yet (%s); the service runs without it and retries", exc)
                self._problem = str(exc) or type(exc).__name__
                raise
            self._ready = True
            self._problem = None
        log.info("Odoo is reachable: %s", self.client.config.url)
        if self.on_ready is not None:
            self.on_ready()

    def try_now(self) -> bool:
        """One attempt (start-up); False when Odoo cannot be used yet."""
        try:
            self.ensure()
        except OdooError:
            return False
        return True

    def retry_in_background(self, stopping: threading.Event, *, first: float = 2.0, cap: float = 60.0) -> None:
        """Keep trying (2 s, 4 s, ... capped at a minute) until Odoo answers or the service stops."""
        if self.client is None or self._ready:
            return

        def loop() -> None:
            delay = first
            while not self._ready and not stopping.wait(delay):
                self.try_now()
                delay = min(cap, delay * 2)

        threading.Thread(target=loop, name="odoo-link", daemon=True).start()

    def guard(self, function: Callable[[str], Any]) -> Callable[[str], Any]:
        """A job function that first makes sure Odoo can be used (and so retries the link)."""

        def guarded(trigger: str) -> Any:
            self.ensure()
            return function(trigger)

        return guarded
