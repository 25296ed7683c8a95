"""``Simulator``: a generated Odoo database served over HTTP on loopback, for tests and demos.

Usage::

    with Simulator(scale=0.02, seed=1) as sim:
        client = make_client(sim.url, sim.db, sim.login, sim.password)   # or sim.api_key
        with sim.env() as env:                       # direct access, same stamping rules
            env["crm.lead"].write([7], {"stage_id": 2})
        sim.clock.freeze(); sim.clock.advance(1)     # control write_date stamps
        sim.request_log.count("search_read")         # what the client asked for

The in-process ``env()`` is a superuser view (all companies, no record rules) unless
``sudo=False``; every write in one ``with`` block shares one ``write_date``, which
``stamp=`` can set to an older moment (a long transaction that commits late).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any

from odoosync.simulator.clock import Clock
from odoosync.simulator.faults import Faults, RequestLog
from odoosync.simulator.generator import HIDDEN_MESSAGES, Counts, generate, seed_base
from odoosync.simulator.records import ADMIN_UID, Database, Env
from odoosync.simulator.server import Credentials, OdooServer, version_info

__all__ = ["Simulator", "DEFAULT_DB", "DEFAULT_LOGIN", "DEFAULT_PASSWORD"]

DEFAULT_DB = "odoosync_demo"
DEFAULT_LOGIN = "admin"
DEFAULT_PASSWORD = "admin"


class Simulator:
    """An Odoo that runs here. ``scale=None`` gives only the base records (no CRM data)."""

    def __init__(
        self,
        scale: float | None = 0.02,
        seed: int = 0,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        version: str = "17.0",
        latency_ms: float = 0,
        faults: Faults | str | None = None,
        clock: Clock | None = None,
        hidden_messages: float = HIDDEN_MESSAGES,
        db: str = DEFAULT_DB,
    ):
        self.clock = clock or Clock()
        major = version_info(version)["server_version_info"][0]  # raises ValueError on a bad version
        self.database = Database(self.clock, major=major)
        if scale is None:
            seed_base(self.database)
            self.counts: Counts | None = None
        else:
            # raises ValueError unless scale > 0
            self.counts = generate(self.database, scale, seed, hidden_messages=hidden_messages)
        self.db = db
        self.login = DEFAULT_LOGIN
        self.password = DEFAULT_PASSWORD
        self.uid = ADMIN_UID
        self.version = version
        self.faults = Faults.parse(faults, seed=seed) if isinstance(faults, str) or faults is None else faults
        self.request_log = RequestLog()
        self._api_key = _new_api_key()
        self._credentials = Credentials(self.db, self.login, self.password, self._api_key)
        self._server = OdooServer(
            (host, port),
            self.database,
            self._credentials,
            version=version,
            latency_ms=latency_ms,
            faults=self.faults,
            request_log=self.request_log,
        )
        self._thread: threading.Thread | None = None
        self._lifecycle = threading.Lock()
        self._serving = False
        self._stopped = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Simulator:
        """Serve in a background thread (idempotent)."""
        with self._lifecycle:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"odoo-simulator:{self.port}",
                    daemon=True,
                )
                self._serving = True
                self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop()`` is called from elsewhere (the CLI)."""
        with self._lifecycle:
            self._serving = True
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop serving, release the port and cut open keep-alive connections; handlers
        sleeping in a fault wake up (idempotent)."""
        with self._lifecycle:
            if self._stopped:
                return
            self._stopped = True
            self._server.stopping.set()
            if self._serving:
                self._server.shutdown()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server.server_close()
            self._server.close_connections()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- addresses and credentials -----------------------------------------------------------

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_key(self) -> str:
        """The key issued at start or by the last ``rotate_api_key()`` (even once expired)."""
        return self._api_key

    def expire_api_key(self) -> None:
        """The current key stops working (RPC: AccessDenied; JSON-2: 401 Invalid apikey)."""
        self._credentials.set_api_key(None)

    def rotate_api_key(self) -> str:
        """Revoke the current key and issue a new one; returns it."""
        self._api_key = _new_api_key()
        self._credentials.set_api_key(self._api_key)
        return self._api_key

    @property
    def latency_ms(self) -> float:
        return self._server.latency_ms

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        self._server.latency_ms = value

    # -- direct data access ------------------------------------------------------------------

    @contextmanager
    def env(
        self,
        context: Mapping[str, Any] | None = None,
        *,
        stamp: datetime | None = None,
        sudo: bool = True,
    ) -> Iterator[Env]:
        """One transaction on the data, as a call would run it (``stamp``: its write_date)."""
        with self.database.transaction(context=context, stamp=stamp, sudo=sudo) as env:
            yield env

    @contextmanager
    def as_sync_user(self) -> Iterator[Env]:
        """One transaction as the sync user sees the data over RPC: every company of the
        user, archived records included, record rules and Odoo's after-LIMIT access
        filters applied (another user's notifications are not there)."""
        user = self.database.tables["res.users"].rows[self.uid]
        companies = sorted(user.get("company_ids") or [user["company_id"]])
        with self.env({"active_test": False, "allowed_company_ids": companies}, sudo=False) as env:
            yield env


def _new_api_key() -> str:
    return secrets.token_hex(20)
