"""``lead_sync_states``: one row per customer's sheet — its configuration and its last outcome.

Configuration (``sheet_url``, ``column_map``, ``key_column``, ``schedule``,
``push_to_odoo``, ``is_paused``) is written by ``sheets add`` / pause / resume; the
outcome (``checksum``, ``etag``, counters, ``last_error``) by the sync itself, in the
sync's own transaction; ``is_running`` and the progress fields are written in short
transactions of their own so other connections see them while the sync works.

``etag`` keeps the validator of the last successful fetch: the server's ``ETag`` when it
sent one (always quoted, by RFC 9110), else its ``Last-Modified`` date, which the fetch
sends back as ``If-None-Match`` or ``If-Modified-Since``; from a server that sends
neither, ``sha256:<hash of the body>``, compared locally so a byte-identical download is
not parsed again.

Customers are referred to by their ``customers.id`` or, for people, by name
(``--customer acme``); ``sheets add`` creates a customer that does not exist yet.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa

from odoosync.exceptions import SheetNotConfigured
from odoosync.sheets.previous import forget
from odoosync.store import Store
from odoosync.store.database import translate_error
from odoosync.store.schema import customers, lead_sync_states

__all__ = [
    "SheetState",
    "resolve_customer",
    "get_state",
    "list_states",
    "save_config",
    "set_paused",
    "remove_state",
    "set_running",
    "ProgressReporter",
    "validators_from",
    "validator_of",
    "CONTENT_HASH_PREFIX",
]

_states = lead_sync_states
CONTENT_HASH_PREFIX = "sha256:"
_NUMERIC_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only, within BIGINT


@dataclass(frozen=True)
class SheetState:
    """One row of ``lead_sync_states`` plus the customer's name."""

    customer_id: int
    customer_name: str | None
    sheet_url: str
    column_map: dict[str, str]
    key_column: str | None
    schedule: str | None
    push_to_odoo: bool
    checksum: str | None
    etag: str | None
    is_paused: bool
    is_running: bool
    last_sync_at: dt.datetime | None
    sync_duration_ms: int | None
    rows_processed: int
    rows_inserted: int
    rows_updated: int
    rows_deleted: int
    error_count: int
    retry_count: int
    progress_percent: int
    progress_message: str | None
    last_error: str | None
    refused_deletes: int | None  # the mass-delete guard's last refusal (None: not refused)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _select() -> sa.Select:
    return sa.select(_states, customers.c.name.label("customer_name")).join(
        customers, customers.c.id == _states.c.customer_id
    )


def _to_state(row: sa.RowMapping) -> SheetState:
    values = {f.name: row[f.name] for f in fields(SheetState)}
    values["column_map"] = dict(values["column_map"] or {})
    return SheetState(**values)


def resolve_customer(store: Store, ref: str | int, *, create: bool = False) -> int:
    """``customers.id`` for an id or a name; ``create`` adds a customer named ``ref`` if none exists.

    Looking up is a read (``Store.connect``): on SQLite a write transaction would queue
    behind a running sync's diff, and every per-customer endpoint resolves its customer.
    Only ``create`` opens a write transaction, and only when the customer is missing.
    """
    text = str(ref).strip()
    if not text:
        raise SheetNotConfigured("a customer id or name is required")
    with store.connect() as conn:
        found = _find_customer(conn, text, create=create)
    if found is not None:
        return found
    if not create:
        raise SheetNotConfigured(f"no customer named {text!r}")
    with store.transaction() as conn:
        found = _find_customer(conn, text, create=True)  # again: another writer may have created it
        if found is not None:
            return found
        return conn.execute(sa.insert(customers).values(name=text).returning(customers.c.id)).scalar_one()


def _find_customer(conn: sa.Connection, text: str, *, create: bool) -> int | None:
    if _NUMERIC_ID.fullmatch(text):
        found = conn.execute(sa.select(customers.c.id).where(customers.c.id == int(text))).scalar_one_or_none()
        if found is not None:
            return found
        if not create:
            raise SheetNotConfigured(f"no customer with id {text}")
    return conn.execute(
        sa.select(customers.c.id).where(customers.c.name == text).order_by(customers.c.id).limit(1)
    ).scalar_one_or_none()


def get_state(store: Store, customer_id: int) -> SheetState:
    """The customer's sheet; ``SheetNotConfigured`` if there is none."""
    with store.connect() as conn:
        row = conn.execute(_select().where(_states.c.customer_id == customer_id)).mappings().one_or_none()
    if row is None:
        raise SheetNotConfigured(f"no sheet is configured for customer {customer_id}: run `odoosync sheets add` first")
    return _to_state(row)


def list_states(store: Store) -> list[SheetState]:
    """Every configured sheet, by customer id."""
    with store.connect() as conn:
        return [_to_state(row) for row in conn.execute(_select().order_by(_states.c.customer_id)).mappings()]


def save_config(
    store: Store,
    customer_id: int,
    *,
    sheet_url: str,
    column_map: Mapping[str, str],
    key_column: str | None,
    schedule: str | None,
    push_to_odoo: bool,
) -> SheetState:
    """Create or replace the customer's sheet configuration.

    The checksum, validator and last-sync rows are cleared so the next sync diffs the sheet
    in full under the new configuration; counters and pause state are kept.
    """
    values = {
        "sheet_url": sheet_url,
        "column_map": dict(column_map),
        "key_column": key_column,
        "schedule": schedule,
        "push_to_odoo": push_to_odoo,
        "checksum": None,
        "etag": None,
    }
    with store.transaction() as conn:
        updated = conn.execute(sa.update(_states).where(_states.c.customer_id == customer_id).values(**values))
        if updated.rowcount == 0:
            conn.execute(sa.insert(_states).values(customer_id=customer_id, **values))
        forget(conn, customer_id)
    return get_state(store, customer_id)


def set_paused(store: Store, customer_id: int, paused: bool) -> SheetState:
    """Pause (a running sync stops at its next chunk and rolls back) or resume the sheet."""
    message = "paused" if paused else "resumed"
    with store.transaction() as conn:
        result = conn.execute(
            sa.update(_states)
            .where(_states.c.customer_id == customer_id)
            .values(is_paused=paused, progress_message=message)
        )
    if result.rowcount == 0:
        raise SheetNotConfigured(f"no sheet is configured for customer {customer_id}")
    return get_state(store, customer_id)


def remove_state(store: Store, customer_id: int) -> None:
    """Forget the customer's sheet. Its leads stay (they are app data); they are no longer synced."""
    with store.transaction() as conn:
        result = conn.execute(sa.delete(_states).where(_states.c.customer_id == customer_id))
        forget(conn, customer_id)
    if result.rowcount == 0:
        raise SheetNotConfigured(f"no sheet is configured for customer {customer_id}")


@contextmanager
def _own_transaction(store: Store) -> Iterator[sa.Connection]:
    """A short write transaction on a connection of its own, committed at once, even while
    this thread holds the sync's transaction (``Store.transaction`` would nest into it)."""
    try:
        with store.engine.begin() as conn:
            yield conn
    except sa.exc.SQLAlchemyError as exc:
        raise translate_error(exc) from None


def set_running(store: Store, customer_id: int, running: bool, **values: Any) -> None:
    """Flip ``is_running`` (plus any outcome fields) in a short transaction of its own."""
    with _own_transaction(store) as conn:
        conn.execute(
            sa.update(_states).where(_states.c.customer_id == customer_id).values(is_running=running, **values)
        )


def validator_of(etag: str | None, last_modified: str | None, sha256: str | None) -> str | None:
    """What to keep in ``etag``: the ETag, else the Last-Modified date, else ``sha256:<body hash>``."""
    return etag or last_modified or (f"{CONTENT_HASH_PREFIX}{sha256}" if sha256 else None)


def validators_from(stored: str | None) -> tuple[str | None, str | None]:
    """(If-None-Match, If-Modified-Since) from the stored validator (a body hash is compared locally)."""
    if not stored or stored.startswith(CONTENT_HASH_PREFIX):
        return None, None
    if stored.startswith(('"', 'W/"')):
        return stored, None
    return None, stored


class ProgressReporter:
    """Writes ``progress_percent`` / ``progress_message``, throttled, each in its own short transaction.

    It uses a connection of its own (never the sync's transaction), so other connections
    see the progress while the sync's transaction is still open. ``suspended`` is set
    while that would block: SQLite lets one writer at a time, and during the diff the
    writer is the sync itself (readers still see the last progress written before it). ``listener`` (e.g. a CLI progress bar) hears every report.
    """

    def __init__(
        self,
        store: Store,
        customer_id: int,
        *,
        clock: Callable[[], float],
        min_interval: float = 0.5,
        listener: Callable[[int, str], None] | None = None,
    ):
        self._store = store
        self._customer_id = customer_id
        self._clock = clock
        self._min_interval = min_interval
        self._listener = listener
        self._last_write: float | None = None
        self.suspended = False

    def report(self, percent: int, message: str, *, force: bool = False) -> None:
        percent = max(0, min(100, int(percent)))
        now = self._clock()
        due = self._last_write is None or now - self._last_write >= self._min_interval
        if not self.suspended and (force or due):
            with _own_transaction(self._store) as conn:
                conn.execute(
                    sa.update(_states)
                    .where(_states.c.customer_id == self._customer_id)
                    .values(progress_percent=percent, progress_message=message[:500])
                )
            self._last_write = now
        if self._listener is not None:
            self._listener(percent, message)
