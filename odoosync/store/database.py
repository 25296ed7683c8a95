"""``Store``: the one door to the application database (PostgreSQL or SQLite).

It owns the engine and its lifecycle (``open``/``close``, context manager), explicit
transactions (``with store.transaction() as conn:``; nested calls become savepoints),
multi-row upserts (``upsert_rows``), the migration check, and the translation of driver
errors into ``StoreError`` subclasses (once, here).

SQLite is configured for several writers in several processes: WAL journal,
``foreign_keys=ON``, a busy timeout, and ``BEGIN IMMEDIATE`` transactions, so a second
writer waits for the first instead of failing half-way with "database is locked".

Echo suppression (``transaction(origin="pull")``): the outbox triggers must not enqueue
pushes for rows the pull engine itself writes (or any other writer that names an
origin, e.g. sheet leads that stay local). Any origin suppresses; its name is kept for
diagnosis.

* PostgreSQL: ``set_config('odoosync.origin', 'pull', true)``, a transaction-local
  setting; triggers test ``current_setting('odoosync.origin', true) = 'pull'``.
* SQLite has no session variables. The transaction inserts the one row of
  ``odoo_sync_echo_guard`` at its start and deletes it before commit. SQLite serialises
  writers and never shows uncommitted rows to other connections, so a trigger's
  ``EXISTS (SELECT 1 FROM odoo_sync_echo_guard)`` is true exactly inside the pull's own
  transaction.

A password in the URL never appears in a message or a repr.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from odoosync.exceptions import NotMigrated, StoreError, StoreIntegrityError, StoreUnavailable
from odoosync.redact import redact_text
from odoosync.store import locks, migrate
from odoosync.store.schema import OPS_SCHEMA, odoo_sync_echo_guard
from odoosync.store.upsert import UpsertCounts, upsert_rows

__all__ = ["Store", "StoreStats", "UpsertCounts", "Origin", "normalise_url", "redact_url", "translate_error"]

Origin = str
"""Who writes a transaction whose changes must not be pushed back to Odoo: ``"pull"``
(the pull engine), or another writer such as sheet leads that stay local."""

DEFAULT_BUSY_TIMEOUT_SECONDS = 30.0
DEFAULT_APP_SCHEMA = "public"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DEFAULT_LOCK_ID = "odoosync"
_READ_ONLY = "odoosync_read_only"  # execution option: connect() reads, no write lock on SQLite
SQLITE_MIN_VERSION = (3, 35, 0)  # RETURNING and UPSERT ... RETURNING


def normalise_url(url: str | sa.URL) -> sa.URL:
    """Accept the ``DATABASE_URL`` forms users paste; PostgreSQL always through psycopg 3.

    ``postgres://`` (Supabase, Heroku) and ``postgresql://`` become
    ``postgresql+psycopg://``; ``sqlite:///path.db`` is kept.
    """
    try:
        parsed = sa.make_url(url) if isinstance(url, str) else url
    except sa.exc.ArgumentError:
        # Not echoed: an unparseable URL may still hold a password.
        raise StoreError(
            "DATABASE_URL is not a database URL: expected sqlite:///path.db or postgresql://user@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise StoreError("an in-memory SQLite database cannot be shared: use sqlite:///path.db")
        return parsed.set(drivername="sqlite+pysqlite")
    raise StoreError(f"unsupported database {backend!r} in DATABASE_URL: use sqlite:///path.db or postgresql://...")


def redact_url(url: str | sa.URL) -> str:
    """The URL as text with any password replaced by ``***``."""
    if isinstance(url, sa.URL):
        return url.render_as_string(hide_password=True)
    return redact_text(url)


@dataclass
class StoreStats:
    """Statements sent to the database (benchmarks and the no-write checks read these)."""

    statements: int = 0
    writes: int = 0  # INSERT / UPDATE / DELETE statements, whatever they ended up changing
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, statement: str) -> None:
        verb = statement.lstrip()[:6].upper()
        with self._lock:
            self.statements += 1
            if verb in ("INSERT", "UPDATE", "DELETE"):
                self.writes += 1

    def reset(self) -> None:
        with self._lock:
            self.statements = 0
            self.writes = 0


def translate_error(exc: sa.exc.SQLAlchemyError, *, url: sa.URL | None = None) -> StoreError:
    """A driver / SQLAlchemy error as the ``StoreError`` subclass that says what to do.

    The message is the driver's first line, with any URL's password masked by parsing
    (``odoosync.redact``), never by replacing the password's text wherever it occurs.
    """
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    message = text.splitlines()[0] if text else type(exc).__name__
    message = redact_text(message)
    if _is_missing_table(orig, message):
        where = f"database at {redact_url(url)}" if url is not None else "the database"
        return NotMigrated(f"{where} is not migrated: run `odoosync db upgrade` ({message})")
    if _refused_value(exc):
        kind = type(orig).__qualname__
        return StoreIntegrityError(f"a value its column cannot hold ({type(orig).__module__}.{kind})")
    if isinstance(exc, sa.exc.IntegrityError | sa.exc.DataError):
        return StoreIntegrityError(message)
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError | sa.exc.TimeoutError):
        return StoreUnavailable(message)
    if isinstance(exc, sa.exc.DBAPIError) and _is_transient(orig):
        return StoreUnavailable(message)
    return StoreError(message)


def _refused_value(exc: sa.exc.SQLAlchemyError) -> bool:
    """A value a column's type could not take before it reached the driver (e.g. a number
    beyond ``Money``'s precision): the data is refused, the database is fine."""
    return (
        isinstance(exc, sa.exc.StatementError)
        and not isinstance(exc, sa.exc.DBAPIError)
        and isinstance(getattr(exc, "orig", None), ValueError | ArithmeticError)
    )


def _is_missing_table(orig: Any, message: str) -> bool:
    return getattr(orig, "sqlstate", None) == "42P01" or message.startswith("no such table")


def _is_transient(orig: Any) -> bool:
    sqlstate = getattr(orig, "sqlstate", None) or ""
    # 40001 serialization failure, 40P01 deadlock, 55P03 lock not available, 57P* shutdown
    return sqlstate in ("40001", "40P01", "55P03") or sqlstate.startswith(("08", "57P"))


class Store:
    """The application database. ``Store(url)`` then ``open()`` (or ``with Store(url) as s``)."""

    def __init__(
        self,
        url: str | sa.URL,
        *,
        lock_id: str = DEFAULT_LOCK_ID,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
        app_schema: str = DEFAULT_APP_SCHEMA,
    ):
        self._url = normalise_url(url)
        self.app_schema = _check_app_schema(app_schema, self._url.get_backend_name())
        self.lock_id = lock_id  # namespaces locks of deployments sharing one database (LOCK_ID)
        self._busy_timeout = busy_timeout
        self._engine: sa.Engine | None = None
        self._local = threading.local()
        self.stats = StoreStats()

    # ------------------------------------------------------------------ lifecycle

    def __repr__(self) -> str:
        state = "open" if self._engine is not None else "closed"
        return f"<Store {redact_url(self._url)} {state}>"

    def __enter__(self) -> Store:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The database URL with the password hidden."""
        return redact_url(self._url)

    @property
    def dialect(self) -> str:
        """``"postgresql"`` or ``"sqlite"``."""
        return self._url.get_backend_name()

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            raise StoreError(f"the store for {self.url} is not open: call open() first")
        return self._engine

    def open(self) -> Store:
        """Create the engine and check the database answers. Idempotent."""
        if self._engine is not None:
            return self
        if self.dialect == "sqlite" and sqlite3.sqlite_version_info < SQLITE_MIN_VERSION:
            raise StoreError(f"SQLite {sqlite3.sqlite_version} is too old: odoosync needs 3.35 or newer (RETURNING)")
        engine = self._create_engine()
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            error = self._translate(exc)
            raise type(error)(f"cannot open the database at {self.url}: {error}") from None
        self._engine = engine
        return self

    def close(self) -> None:
        """Release every pooled connection. The store can be opened again."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _create_engine(self) -> sa.Engine:
        options: dict[str, Any] = {
            "json_serializer": _dump_json,
            "pool_pre_ping": True,
            # LIFO: fewer connections grow libpq buffers (docs/performance.md, "Memory (session 8)")
            "pool_use_lifo": True,
        }
        if self.dialect == "sqlite":
            options["execution_options"] = {"schema_translate_map": {OPS_SCHEMA: None}}
            options["connect_args"] = {"timeout": self._busy_timeout}
        else:
            _require_psycopg()
            options["connect_args"] = {"connect_timeout": max(1, int(self._busy_timeout))}
        engine = sa.create_engine(self._url, **options)
        if self.dialect == "sqlite":
            _configure_sqlite(engine, self._busy_timeout)
        else:
            _configure_postgresql(engine, self.app_schema)
        event.listen(engine, "before_cursor_execute", self._count_statement)
        return engine

    def _count_statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.stats.count(statement)

    # ------------------------------------------------------------------ migrations

    def check_migrated(self) -> None:
        """Raise ``NotMigrated`` unless the schema is at this version's head revision."""
        with self.connect() as conn:
            current = migrate.current_revision(conn)
        if current != migrate.head_revision():
            raise NotMigrated(f"database at {self.url} is not migrated: run `odoosync db upgrade`")

    def current_revision(self) -> str | None:
        """The schema revision in the database (None: never migrated)."""
        with self.connect() as conn:
            return migrate.current_revision(conn)

    def upgrade(self) -> None:
        """Create or upgrade odoosync's schema to the newest revision. Idempotent.

        PostgreSQL: the app tables go to ``app_schema`` (created first when missing)."""
        try:
            if self.dialect == "postgresql" and self.app_schema != DEFAULT_APP_SCHEMA:
                with self.engine.begin() as conn:
                    conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.app_schema}"')
            migrate.upgrade(self.engine)
        except sa.exc.SQLAlchemyError as exc:
            raise self._translate(exc) from exc

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A connection for reading; nothing done on it is committed.

        On SQLite its transaction is a plain (deferred) ``BEGIN``, so readers never wait
        for a writer (WAL) and never hold up one. On PostgreSQL it runs in autocommit: each
        statement sees committed data, as it would at READ COMMITTED, without the round
        trips of a ``BEGIN`` and a ``ROLLBACK`` (two of a page's dozen with a distant
        database).
        """
        options: dict[str, Any] = {_READ_ONLY: True}
        if self.dialect == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        try:
            with self.engine.connect() as conn:
                yield conn.execution_options(**options)
        except sa.exc.SQLAlchemyError as exc:
            raise self._translate(exc) from exc

    @contextmanager
    def transaction(self, origin: Origin | None = None) -> Iterator[sa.Connection]:
        """One database transaction; commit on success, roll back on any exception.

        Called inside another ``transaction()`` of the same thread it becomes a
        savepoint on the same connection: an exception rolls back only the inner block.
        ``origin`` names who writes when it is not the app (``"pull"``, ``"push"``'s settle,
        ``"sheet"``): the outbox triggers queue nothing for such writes (see the module doc).
        """
        if origin is not None and not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", origin):
            raise ValueError(f"a transaction origin is a short lower-case name, not {origin!r}")
        stack: list[tuple[sa.Connection, str | None]] = self._stack()
        if stack:
            conn, outer_origin = stack[-1]
            if origin is not None and origin != outer_origin:
                raise StoreError(f"a nested transaction cannot change the origin ({outer_origin!r} → {origin!r})")
            try:
                with conn.begin_nested():
                    stack.append((conn, outer_origin))
                    try:
                        yield conn
                    finally:
                        stack.pop()
            except sa.exc.SQLAlchemyError as exc:
                raise self._translate(exc) from exc
            return
        try:
            with self.engine.begin() as conn:
                self._mark_origin(conn, origin)
                stack.append((conn, origin))
                try:
                    yield conn
                finally:
                    stack.pop()
                if origin is not None and self.dialect == "sqlite":
                    conn.execute(sa.delete(odoo_sync_echo_guard))
        except sa.exc.SQLAlchemyError as exc:
            raise self._translate(exc) from exc

    @property
    def in_transaction(self) -> bool:
        """True inside a ``transaction()`` block of the calling thread."""
        return bool(self._stack())

    def _stack(self) -> list[tuple[sa.Connection, str | None]]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _mark_origin(self, conn: sa.Connection, origin: str | None) -> None:
        if origin is None:
            return
        if self.dialect == "postgresql":
            conn.execute(sa.select(sa.func.set_config("odoosync.origin", origin, True)))
        else:
            conn.execute(sa.insert(odoo_sync_echo_guard).values(id=1, origin=origin))

    # ------------------------------------------------------------------ locks

    def lock(
        self, key: str, holder_info: Mapping[str, Any] | None = None, *, ttl: float = locks.DEFAULT_TTL_SECONDS
    ) -> AbstractContextManager[locks.LockHandle]:
        """Hold the lock ``key`` for a ``with`` block, or raise ``LockHeld`` at once.

        ``holder_info`` (e.g. ``{"run_id": 7}``) is shown to a refused caller with the
        host, pid and time; ``ttl`` bounds how long a crashed SQLite holder blocks others.
        See ``store/locks.py``.
        """
        return locks.hold(self, key, holder_info, ttl=ttl)

    # ------------------------------------------------------------------ upserts

    def upsert_rows(
        self,
        conn: sa.Connection,
        table: sa.Table,
        rows: list[dict[str, Any]],
        *,
        key: list[str],
        update: list[str] | None = None,
        only_if_changed: bool = True,
        touch: list[str] | None = None,
    ) -> UpsertCounts:
        """Insert or update ``rows`` in one multi-row statement; see ``store.upsert``."""
        try:
            return upsert_rows(conn, table, rows, key=key, update=update, only_if_changed=only_if_changed, touch=touch)
        except sa.exc.SQLAlchemyError as exc:
            raise self._translate(exc) from exc

    # ------------------------------------------------------------------ errors

    def _translate(self, exc: sa.exc.SQLAlchemyError) -> StoreError:
        return translate_error(exc, url=self._url)


def _dump_json(value: Any) -> str:
    # Sorted keys: the same value always serialises to the same text, so SQLite's
    # text comparison in "only if changed" upserts sees no false changes.
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def _check_app_schema(name: str, backend: str) -> str:
    """The schema of the app tables (``[store] schema``): a plain lower-case name, not
    ``ops``; SQLite has no schemas, so only the default applies there."""
    if not _SCHEMA_NAME.match(name) or name == OPS_SCHEMA or name.startswith("pg_"):
        raise StoreError(
            f"[store] schema {name!r} is not usable: use a lower-case name (letters, digits, _), not 'ops' or 'pg_*'"
        )
    if backend == "sqlite" and name != DEFAULT_APP_SCHEMA:
        raise StoreError("[store] schema applies to PostgreSQL only: SQLite keeps every table in its one file")
    return name


def _require_psycopg() -> None:
    """psycopg comes with the ``postgres`` extra: SQLite users go without it."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise StoreError("PostgreSQL needs the postgres extra: pip install 'odoosync[postgres]'") from exc


def _configure_postgresql(engine: sa.Engine, app_schema: str) -> None:
    """Lists travel in binary. The upsert sends a page as one array per column; in
    text format psycopg quotes every element with a regular expression (every ``"`` of
    every JSON document), which cost more CPU than the rest of a page's write.

    Every connection resolves unqualified names in ``app_schema`` (the app tables, and
    the outbox triggers that capture it with ``SET search_path FROM CURRENT``); the
    operations tables are always named ``ops.*``."""
    from psycopg.types.array import ListBinaryDumper

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        dbapi_connection.execute(f'SET search_path TO "{app_schema}"')
        dbapi_connection.autocommit = autocommit


def _configure_sqlite(engine: sa.Engine, busy_timeout: float) -> None:
    """WAL, foreign keys, busy timeout, and BEGIN IMMEDIATE (writers queue, never fail)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(_READ_ONLY) else "BEGIN IMMEDIATE")
