"""The library API: what ``import odoosync`` offers, the same operations as the CLI.

``odoosync.connect(...)`` returns a :class:`Connection`: settings checked once, and one
method per operation (``sync``, ``verify``, ``push``, ``status``, ``sheets``, ``upgrade``),
each a thin call into ``odoosync.service.operations`` (or the push worker and the sheet
engine) that opens the database and Odoo for the call and closes them after, and
returns a typed result. The CLI is a shell over the same functions, so both give the
same answers and the same errors (``odoosync.exceptions``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from odoosync.cursor_text import describe_cursor
from odoosync.models import SyncMode, SyncRun, Trigger
from odoosync.push.engine import PushEngine, PushResult
from odoosync.push.worker import run_once
from odoosync.service import operations
from odoosync.service.operations import SyncReport, VerifyReport
from odoosync.settings import Settings, load_settings
from odoosync.sheets.engine import SheetSync, SheetSyncResult, SyncSettings
from odoosync.sheets.fetch import SheetFetcher
from odoosync.sheets.state import SheetState, list_states, resolve_customer
from odoosync.store import Store

__all__ = ["connect", "Connection", "Sheets", "StreamStatus", "open_sheet_sync"]

_ARGUMENT_VARIABLES = {
    "database_url": "DATABASE_URL",
    "odoo_url": "ODOO_URL",
    "odoo_db": "ODOO_DB",
    "odoo_username": "ODOO_USERNAME",
    "odoo_password": "ODOO_PASSWORD",
    "odoo_api_key": "ODOO_API_KEY",
}


def connect(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    odoo_url: str | None = None,
    odoo_db: str | None = None,
    odoo_username: str | None = None,
    odoo_password: str | None = None,
    odoo_api_key: str | None = None,
) -> Connection:
    """A :class:`Connection` from ``settings``, or from the environment and
    ``odoosync.toml`` with the arguments given here taking precedence (checked the same
    way: a :class:`~odoosync.exceptions.ConfigError` lists every problem)."""
    arguments = {
        "database_url": database_url,
        "odoo_url": odoo_url,
        "odoo_db": odoo_db,
        "odoo_username": odoo_username,
        "odoo_password": odoo_password,
        "odoo_api_key": odoo_api_key,
    }
    given = {_ARGUMENT_VARIABLES[name]: value for name, value in arguments.items() if value is not None}
    if settings is not None and given:
        raise TypeError("give either settings or connection arguments, not both")
    return Connection(settings if settings is not None else load_settings({**os.environ, **given}))


@dataclass(frozen=True)
class StreamStatus:
    """One stream as ``odoosync status`` shows it."""

    stream: str
    model: str
    rows: int
    last_run: Mapping[str, Any] | None
    last_success_at: str | None
    cursor: Mapping[str, Any] | None
    quarantined: int

    @property
    def cursor_text(self) -> str:
        """How far the stream has read, in words."""
        return describe_cursor(self.cursor)


class Connection:
    """odoosync for one configuration. Every call opens what it needs and closes it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.sheets = Sheets(settings)

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Nothing stays open between calls; the ``with`` block only scopes the name."""

    def upgrade(self) -> str | None:
        """Create or upgrade the database schema (safe to repeat); the revision it is at."""
        with Store(self.settings.database_url, app_schema=self.settings.store_schema) as store:
            store.upgrade()
            return store.current_revision()

    def sync(
        self,
        stream: str = "all",
        *,
        mode: SyncMode | str = SyncMode.INCREMENTAL,
        odoo_id: int | None = None,
        budget: float | None = None,
        allow_mass_delete: bool = False,
    ) -> SyncReport:
        """Pull ``stream`` (a stream, a model name or ``all``) from Odoo into the database."""
        return operations.sync(
            self.settings, stream, mode=mode, odoo_id=odoo_id, budget=budget, allow_mass_delete=allow_mass_delete
        )

    def verify(self, stream: str = "all", *, repair: bool = False, allow_mass_delete: bool = False) -> VerifyReport:
        """Compare Odoo's id sets and write stamps with the database; ``repair`` syncs the drift."""
        return operations.verify(self.settings, stream, repair=repair, allow_mass_delete=allow_mass_delete)

    def push(self) -> PushResult:
        """Push every change the app queued in the outbox that is ready now."""
        with operations.open_store(self.settings) as store, operations.open_client(self.settings) as client:
            engine = PushEngine(
                store, client, backend=client.config.name, lease=dt.timedelta(seconds=self.settings.push_lease_seconds)
            )
            return run_once(engine)

    def status(self) -> list[StreamStatus]:
        """Every stream: rows held, last run, last success, where it resumes."""
        with operations.open_store(self.settings) as store:
            return [
                StreamStatus(
                    row["stream"],
                    row["model"],
                    row["rows"],
                    row["last_run"],
                    row["last_success_at"],
                    row["cursor"],
                    row["quarantined"],
                )
                for row in operations.stream_status(store)
            ]

    def runs(self, limit: int = 20, *, stream: str | None = None) -> list[SyncRun]:
        """The most recent runs, newest first, with their counters and errors."""
        from odoosync.store import runs as run_store

        with operations.open_store(self.settings) as store:
            return run_store.list_runs(store, limit, stream=stream)


class Sheets:
    """Leads from customers' Google Sheets (configured with ``odoosync sheets add``)."""

    def __init__(self, settings: Settings):
        self._settings = settings

    def sync(self, customer: str | int, *, allow_mass_delete: bool = False) -> SheetSyncResult:
        """Sync one customer's sheet (id or name) into leads now."""
        with self._engine() as engine:
            return engine.sync(
                resolve_customer(engine.store, str(customer)),
                trigger=Trigger.MANUAL.value,
                allow_mass_delete=allow_mass_delete,
            )

    def sync_all(self, *, allow_mass_delete: bool = False) -> Sequence[SheetSyncResult]:
        """Sync every sheet that is not paused."""
        with self._engine() as engine:
            return engine.sync_all(trigger=Trigger.MANUAL.value, allow_mass_delete=allow_mass_delete)

    def status(self) -> list[SheetState]:
        """Every configured sheet: paused or running, last sync, rows, errors."""
        with operations.open_store(self._settings) as store:
            return list_states(store)

    def _engine(self) -> AbstractContextManager[SheetSync]:
        return open_sheet_sync(self._settings)


@contextmanager
def open_sheet_sync(settings: Settings) -> Iterator[SheetSync]:
    """The sheet engine with its database and fetcher, for one call (the CLI's too)."""
    with (
        operations.open_store(settings) as store,
        SheetFetcher(allow_private=settings.sheets_allow_private, allow_files=settings.sheets_allow_files) as fetcher,
    ):
        yield SheetSync(store, fetcher, settings=SyncSettings(max_delete_share=settings.sheets_max_delete_share))
