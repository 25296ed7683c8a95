"""The wiring: Settings → an Odoo client, a store and the engines, for every edge.

The CLI, the scheduler and the HTTP API call these functions and nothing below them, so
all three open things the same way and get the same errors:

* :func:`open_store`: the database, checked to be migrated (``NotMigrated`` says to run
  ``odoosync db upgrade``) before anything reads or writes;
* :func:`open_client`: the Odoo client. With no ``ODOO_COMPANY_IDS`` configured it asks
  Odoo once for every company the sync user may access and reads them all, because Odoo
  otherwise shows only the user's main company and a multi-company database would look
  half-synced;
* :func:`pull_streams`: the stream catalogue with ``ops.odoo_sync_config`` applied
  (validated, every problem at once);
* :func:`run_sync` / :func:`sync`: pull one stream or ``all`` (with already-open ports /
  opening them from Settings), returning a :class:`SyncReport`;
* :func:`stream_status`: per stream, its last run, last success, rows and checkpoint.

Hooks for later issues: the push engine and the webhook receiver open their ports
through :func:`open_store` / :func:`open_client` too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from odoosync.backends import DEFAULT_BACKEND, app_company_id, odoo_config
from odoosync.exceptions import NotMigrated, OdooSyncError, OdooTransientError, OdooTransportError
from odoosync.models import SyncMode, Trigger
from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.pull import Progress, PullEngine, PullOptions, StreamResult, checkpoint_key, rejects
from odoosync.pull.verify import StreamDrift, Verifier
from odoosync.settings import Settings
from odoosync.store import Store
from odoosync.store import checkpoints as checkpoint_store
from odoosync.store import runs as run_store
from odoosync.store.schema import backend_column
from odoosync.store.sync_config import config_list
from odoosync.streams.base import Stream
from odoosync.streams.registry import (
    CONFIG_PREFIX,
    check_against_odoo,
    parse_pull_config_rows,
    select_streams,
    stream_catalog,
)

__all__ = [
    "SyncReport",
    "VerifyReport",
    "run_verify",
    "verify",
    "open_store",
    "missing_sqlite_file",
    "open_client",
    "allowed_companies",
    "pull_streams",
    "pull_catalog",
    "PullCatalog",
    "pull_options",
    "run_sync",
    "sync",
    "stream_status",
]

log = logging.getLogger("odoosync.sync")


@dataclass(frozen=True)
class SyncReport:
    """The result of ``sync <stream|all>``: one :class:`StreamResult` per stream."""

    results: tuple[StreamResult, ...]

    @property
    def remaining(self) -> bool:
        """True when a budget stopped a stream early: run again to continue."""
        return any(r.remaining for r in self.results)

    @property
    def ok(self) -> bool:
        """True when no stream failed (a budget's ``partial`` is fine: run again to continue)."""
        return all(str(r.status) in ("ok", "partial") for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        totals: dict[str, int] = {}
        for result in self.results:
            for name, value in result.counters.as_dict().items():
                totals[name] = totals.get(name, 0) + value
        return {
            "ok": self.ok,
            "remaining": self.remaining,
            "totals": totals,
            "streams": [r.as_dict() for r in self.results],
        }


@dataclass(frozen=True)
class VerifyReport:
    """The result of ``verify <stream|all>``: the drift found per stream, what a
    ``--repair`` did, and the drift left after it (checked again)."""

    found: tuple[StreamDrift, ...]
    repairs: tuple[StreamResult, ...] = ()
    after: tuple[StreamDrift, ...] | None = None

    @property
    def drift(self) -> int:
        """Drift left: after the repair when there was one, else as found."""
        return sum(d.drift for d in (self.after if self.after is not None else self.found))

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.drift == 0,
            "drift": self.drift,
            "streams": [d.as_dict() for d in self.found],
            "repairs": [r.as_dict() for r in self.repairs],
            "after_repair": None if self.after is None else [d.as_dict() for d in self.after],
        }


def run_verify(
    client: OdooClient,
    store: Store,
    target: str,
    *,
    repair: bool = False,
    options: PullOptions | None = None,
    backend: str = "default",
    trigger: Trigger | str = Trigger.MANUAL,
    streams: Sequence[Stream] | None = None,
) -> VerifyReport:
    """Verify ``target`` (a stream, a model or ``all``) with open ports; with ``repair``,
    sync exactly the drifting records and verify those streams again."""
    chosen = select_streams(target, streams if streams is not None else pull_streams(store))
    verifier = Verifier(client, store, backend=backend)
    found = tuple(verifier.check(stream, trigger=str(trigger)) for stream in chosen)
    if not repair or not any(d.drift for d in found):
        return VerifyReport(found)
    options = options or PullOptions(trigger=Trigger(trigger))
    drifting = [(stream, drift) for stream, drift in zip(chosen, found, strict=True) if drift.drift]
    repairs = tuple(verifier.repair(stream, drift, options) for stream, drift in drifting)
    again = {d.stream: d for d in (verifier.check(stream, trigger=str(trigger)) for stream, _ in drifting)}
    return VerifyReport(found, repairs, tuple(again.get(d.stream, d) for d in found))


def verify(
    settings: Settings,
    target: str = "all",
    *,
    repair: bool = False,
    allow_mass_delete: bool = False,
    trigger: Trigger | str = Trigger.MANUAL,
    backend: str = DEFAULT_BACKEND,
) -> VerifyReport:
    """Open the store and backend ``backend``'s client from ``settings`` and verify ``target``."""
    options = pull_options(settings, mode=SyncMode.FULL, trigger=trigger, allow_mass_delete=allow_mass_delete)
    with open_store(settings) as store:
        streams = select_streams(target, pull_streams(store))
        options = dataclasses.replace(options, company_id=app_company_id(store, backend))
        with open_client(settings, odoo_config(settings, store, backend)) as client:
            return run_verify(
                client,
                store,
                target,
                repair=repair,
                options=options,
                backend=client.config.name,
                trigger=trigger,
                streams=streams,
            )


def missing_sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist yet (opening it would create it)."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") or url.database.startswith("file:"):
        return None
    path = Path(url.database)
    return None if path.exists() else path


@contextmanager
def open_store(settings: Settings, *, require_migrated: bool = True) -> Iterator[Store]:
    """The application database; refuses an unmigrated one before any change (creating
    an empty SQLite file is a change: a read such as ``status`` in an empty folder must not)."""
    missing = missing_sqlite_file(settings.database_url) if require_migrated else None
    if missing is not None:
        raise NotMigrated(
            f"database at {settings.database_url} is not migrated: run `odoosync db upgrade` "
            f"(the file {missing} does not exist yet)"
        )
    with Store(settings.database_url, lock_id=settings.lock_id, app_schema=settings.store_schema) as store:
        if require_migrated:
            store.check_migrated()
        yield store


@contextmanager
def open_client(settings: Settings, config: OdooConfig | None = None) -> Iterator[OdooClient]:
    """The Odoo client for ``config`` (a backend's, see ``odoosync.backends``), by default
    ``settings.odoo`` (``ConfigError`` when none is configured).

    Odoo is reached once before anything else: a connection that cannot even be opened
    (refused, no such host) is a wrong ``ODOO_URL`` or an Odoo that is down, and says so at
    once instead of after the backoff of every retry. Other failures are retried as usual."""
    config = config or settings.require_odoo()
    with OdooClient(dataclasses.replace(config, max_attempts=1)) as client:
        try:
            client.uid  # noqa: B018 - logs in: the first request
        except OdooTransportError as exc:
            if isinstance(exc.__cause__, httpx.ConnectError):
                raise OdooTransportError(
                    f"cannot reach Odoo at {config.url} ({exc}): check ODOO_URL (odoo.url) and that Odoo is running"
                ) from exc
        except OdooTransientError:
            pass  # a 429 or 5xx: the first call below logs in again, with the configured retries
        finally:
            client.config = dataclasses.replace(client.config, max_attempts=config.max_attempts)
        if not client.config.company_ids:
            client.config = dataclasses.replace(client.config, company_ids=allowed_companies(client))
        yield client


def allowed_companies(client: OdooClient) -> tuple[int, ...]:
    """Every company the logged-in user may access (one ``read`` of ``res.users``)."""
    (user,) = client.read("res.users", [client.uid], ["company_ids"])
    return tuple(sorted(int(c) for c in user.get("company_ids") or ()))


@dataclass(frozen=True)
class PullCatalog:
    """The streams to run and the config rows that disabled theirs (``{key: problems}``)."""

    streams: list[Stream]
    disabled: dict[str, list[str]]


_checked_in_odoo: dict[str, dict[str, list[str]]] = {}  # config snapshot → Odoo's verdict
_checked_lock = threading.Lock()


def pull_catalog(store: Store, client: OdooClient | None = None) -> PullCatalog:
    """The stream catalogue with the pull settings of ``ops.odoo_sync_config`` applied.

    A bad row disables only its own stream, loudly (an error in the log every time), and
    never the others. With ``client``, field names are also checked against Odoo's
    ``fields_get`` (once per configuration; skipped while Odoo is unreachable).
    """
    rows = config_list(store, CONFIG_PREFIX)
    configs, disabled = parse_pull_config_rows(rows)
    if client is not None and configs:
        disabled |= _odoo_verdict(client, configs, rows)
    for key, problems in disabled.items():
        log.error("stream of %s disabled: %s", key, "; ".join(problems))
    good = {model: c for model, c in configs.items() if f"{CONFIG_PREFIX}{model}" not in disabled}
    models = [key[len(CONFIG_PREFIX) :] for key in disabled]
    return PullCatalog(stream_catalog(good, disabled=models), disabled)


def _odoo_verdict(client: OdooClient, configs: Mapping[str, Any], rows: Mapping[str, Any]) -> dict[str, list[str]]:
    snapshot = json.dumps(rows, sort_keys=True, default=str)
    with _checked_lock:
        known = _checked_in_odoo.get(snapshot)
    if known is not None:
        return known
    try:
        verdict = check_against_odoo(configs, lambda model: client.fields_get(model, ["type"]))
    except OdooSyncError as exc:  # Odoo away: check next time, disable nothing now
        log.warning("could not check the sync config against Odoo: %s", type(exc).__name__)
        return {}
    with _checked_lock:
        _checked_in_odoo.clear()  # one configuration at a time is enough
        _checked_in_odoo[snapshot] = verdict
    return verdict


def pull_streams(store: Store, client: OdooClient | None = None) -> list[Stream]:
    """The catalogue's streams (see :func:`pull_catalog`)."""
    return pull_catalog(store, client).streams


def pull_options(
    settings: Settings,
    *,
    mode: SyncMode | str = SyncMode.INCREMENTAL,
    odoo_id: int | None = None,
    budget: float | None = None,
    trigger: Trigger | str = Trigger.MANUAL,
    allow_mass_delete: bool = False,
) -> PullOptions:
    """Options for a run, with the overlap window, page size and delete limit from Settings."""
    return PullOptions(
        mode=SyncMode(mode),
        odoo_id=odoo_id,
        budget=budget,
        overlap=dt.timedelta(seconds=settings.overlap_seconds),
        page_size=settings.page_size,
        trigger=Trigger(trigger),
        max_delete_share=settings.max_delete_share,
        allow_mass_delete=allow_mass_delete,
    )


def run_sync(
    client: OdooClient,
    store: Store,
    target: str,
    options: PullOptions,
    *,
    backend: str = "default",
    on_progress: Callable[[Progress], None] | None = None,
    streams: Sequence[Stream] | None = None,
) -> SyncReport:
    """Pull ``target`` (a stream name, a model name, or ``all``) with open ports."""
    catalog = pull_catalog(store, client)
    chosen = select_streams(target, streams if streams is not None else catalog.streams, catalog.disabled)
    engine = PullEngine(client, store, backend=backend, on_progress=on_progress)
    return SyncReport(tuple(engine.run_many(chosen, options)))


def sync(
    settings: Settings,
    target: str = "all",
    *,
    mode: SyncMode | str = SyncMode.INCREMENTAL,
    odoo_id: int | None = None,
    budget: float | None = None,
    trigger: Trigger | str = Trigger.MANUAL,
    on_progress: Callable[[Progress], None] | None = None,
    allow_mass_delete: bool = False,
    backend: str = DEFAULT_BACKEND,
) -> SyncReport:
    """Open the store and backend ``backend``'s client from ``settings`` and pull ``target``.

    Configuration is checked first (stream name, ``ops.odoo_sync_config``, migration),
    so a mistake there changes nothing and contacts no Odoo.
    """
    options = pull_options(
        settings, mode=mode, odoo_id=odoo_id, budget=budget, trigger=trigger, allow_mass_delete=allow_mass_delete
    )
    with open_store(settings) as store:
        catalog = pull_catalog(store)
        select_streams(target, catalog.streams, catalog.disabled)  # before contacting Odoo
        options = dataclasses.replace(options, company_id=app_company_id(store, backend))
        with open_client(settings, odoo_config(settings, store, backend)) as client:
            return run_sync(client, store, target, options, backend=client.config.name, on_progress=on_progress)


def stream_status(store: Store, backend: str = "default") -> list[dict[str, Any]]:
    """Per stream: rows held, last run, last successful run, and the stored cursor."""
    recent = run_store.list_runs(store, limit=500, job="pull", backend=backend)
    quarantined = rejects.counts(store, backend=backend)
    stored = {c.key: c for c in checkpoint_store.list_checkpoints(store, f"pull:{backend}:")}
    status = []
    with store.connect() as conn:
        for stream in pull_streams(store):
            table = stream.target.table
            count_query = sa.select(sa.func.count()).select_from(table).where(backend_column(table) == backend)
            if "deleted_at" in table.c:
                count_query = count_query.where(table.c.deleted_at.is_(None))
            if "model" in table.c and table.name == "odoo_records":
                count_query = count_query.where(table.c.model == stream.model)
            mine = [r for r in recent if r.stream == stream.name and str(r.status) != "skipped"]
            last = mine[0] if mine else None
            success = next((r for r in mine if str(r.status) == "ok"), None)
            checkpoint = stored.get(checkpoint_key(backend, stream.name))
            status.append(
                {
                    "stream": stream.name,
                    "model": stream.model,
                    "table": table.name,
                    "rows": int(conn.execute(count_query).scalar_one()),
                    "last_run": last.as_dict() if last else None,
                    "last_success_at": success.finished_at.isoformat() if success and success.finished_at else None,
                    "cursor": checkpoint.cursor if checkpoint else None,
                    "quarantined": quarantined.get(stream.name, 0),
                }
            )
    return status
