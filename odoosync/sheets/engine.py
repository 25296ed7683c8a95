"""The sheet sync of one customer, from fetch to committed diff, as one observable run.

A run, in order:

1. refused at once if the sheet is paused; otherwise the per-customer lock
   (``sheets:<customer id>``) is taken or the run is recorded as skipped, naming who
   holds it; every run has its row in ``ops.odoo_sync_runs`` (job ``sheets``, stream
   ``sheet:<customer id>``);
2. fetch (conditional, retried: ``fetch.py``); a 304, or a body byte-for-byte the one
   last synced, ends the run: nothing changed;
3. parse in chunks into the private stage (``stage.py``): a row whose cells are those of
   a row of the last sync (``previous.py``, by digest) is taken as it was, the others are
   mapped, bad rows reported with their row numbers; progress written and the pause flag
   read between chunks;
4. duplicates dropped, checksum of the sorted rows: equal to the stored one → nothing
   to write (zero lead writes);
5. the diff (``diff.py``: only changed rows and vanished keys touch ``leads``), the
   mass-delete guard (``deletes.py``), the last-sync rows and the state row's outcome in
   ONE transaction: a failure, a pause or a refusal anywhere rolls back every lead
   change, and only the state's error fields and the run row record what happened.

Sheet leads reach Odoo only when the customer's ``push_to_odoo`` is set: otherwise the
diff's transaction is opened with ``origin="sheet"``, which the outbox triggers skip (the
same echo guard the pull engine uses). With ``push_to_odoo`` it is opened without an
origin, so each inserted lead queues one ``crm.lead`` create.

The engine reads no environment and prints nothing: the fetcher (with its address
policy), the store, the cache and the clocks are given to it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from odoosync.cron import parse_cron
from odoosync.exceptions import LockHeld, OdooSyncError, SheetFormatError
from odoosync.models import RunCounters, RunStatus
from odoosync.sheets.cache import LeadsCache
from odoosync.sheets.deletes import DEFAULT_MAX_DELETE_SHARE, MassDelete, check_deletes
from odoosync.sheets.diff import DEFAULT_BATCH_ROWS, DiffCounts, apply_diff, load_existing
from odoosync.sheets.fetch import SheetFetcher
from odoosync.sheets.mapping import ColumnPlan, RowError, SheetLead, map_record, plan_columns
from odoosync.sheets.parse import DEFAULT_CHUNK_ROWS, CsvRecords
from odoosync.sheets.previous import load_previous, remember
from odoosync.sheets.stage import Stage
from odoosync.sheets.state import (
    CONTENT_HASH_PREFIX,
    ProgressReporter,
    SheetState,
    get_state,
    list_states,
    resolve_customer,
    save_config,
    set_running,
    validator_of,
    validators_from,
)
from odoosync.sheets.urls import normalize_sheet_url
from odoosync.store import Store, runs
from odoosync.store.schema import lead_sync_states

__all__ = ["SheetSync", "SheetSyncResult", "SheetPreview", "SyncSettings", "JOB", "stream_name", "lock_key"]

JOB = "sheets"
MODE = "sheet"
SHEET_ORIGIN = "sheet"


def stream_name(customer_id: int) -> str:
    """The run log's stream for one customer's sheet."""
    return f"sheet:{customer_id}"


def lock_key(customer_id: int) -> str:
    return f"sheets:{customer_id}"


@dataclass(frozen=True)
class SyncSettings:
    chunk_rows: int = DEFAULT_CHUNK_ROWS  # parse / stage / pause-check unit
    batch_rows: int = DEFAULT_BATCH_ROWS  # rows per multi-row statement
    progress_interval: float = 0.5  # seconds between progress writes
    reported_errors: int = 100  # row errors kept in the result and the run's details
    # More rows than this (count AND share) with the wrong number of cells: not a clean export.
    max_ragged_rows: int = 10
    max_ragged_share: float = 0.1
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE  # more deletes than this share: refused (deletes.py)


@dataclass
class SheetSyncResult:
    """What one sync did. ``status``: ok, unchanged, paused, skipped (lock held), refused
    (too many deletes: ``refused`` has the numbers) or failed."""

    customer_id: int
    status: str
    run_id: int | None = None
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    restored: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    retries: int = 0
    duration_ms: int = 0
    message: str | None = None
    holder: str | None = None
    refused: MassDelete | None = None

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted)

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("errors", "refused")}
        data["errors"] = [error.as_dict() for error in self.errors]
        data["refused"] = self.refused.as_dict() if self.refused else None
        return data


@dataclass(frozen=True)
class SheetPreview:
    """What ``sheets add`` shows before saving: the header found and the mapping it will use."""

    url: str
    header: list[str]
    mapping: dict[str, str]
    key_column: str | None
    extra_columns: list[str]
    rows: int
    errors: list[RowError]
    error_count: int


class _Paused(Exception):
    """The sheet was paused while its sync ran."""


class _Refused(Exception):
    """The mass-delete guard refused the diff (raised inside its transaction: nothing written)."""

    def __init__(self, verdict: MassDelete):
        self.verdict = verdict
        super().__init__()


class _ErrorLog:
    def __init__(self, keep: int):
        self.keep = keep
        self.kept: list[RowError] = []
        self.count = 0
        self.first_row: dict[str, int] = {}  # kind → first row with it
        self.by_kind: dict[str, int] = {}

    def add(self, error: RowError) -> None:
        self.count += 1
        self.by_kind[error.kind] = self.by_kind.get(error.kind, 0) + 1
        self.first_row[error.kind] = min(error.row, self.first_row.get(error.kind, error.row))
        if len(self.kept) < self.keep:
            self.kept.append(error)

    def check_ragged(self, rows: int, header_cells: int, settings: SyncSettings) -> None:
        """Too many rows with the wrong number of cells: the file is not the shape of its header."""
        ragged = self.by_kind.get("column_count", 0)
        if ragged > settings.max_ragged_rows and ragged > settings.max_ragged_share * rows:
            raise SheetFormatError(
                f"{ragged:,} of {rows:,} rows do not have the header's {header_cells} cells (the first is row "
                f"{self.first_row['column_count']}): the file is not a clean CSV export of the sheet, so nothing "
                "was changed. Re-export it from Google Sheets, or fix the rows and sync again"
            )

    def summary(self) -> str | None:
        if not self.count:
            return None
        shown = "; ".join(error.message for error in sorted(self.kept, key=lambda e: e.row)[:5])
        more = f"; and {self.count - 5} more" if self.count > 5 else ""
        return f"{self.count} row(s) skipped: {shown}{more}"


class SheetSync:
    """Syncs customers' sheets into ``leads``. Reusable; one instance per process is enough."""

    def __init__(
        self,
        store: Store,
        fetcher: SheetFetcher,
        *,
        cache: LeadsCache | None = None,
        settings: SyncSettings = SyncSettings(),
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ):
        self.store = store
        self.fetcher = fetcher
        self.cache = cache
        self.settings = settings
        self._clock = clock
        self._now = now

    # -- preview (sheets add) ------------------------------------------------------------

    def preview(
        self, sheet_url: str, column_map: dict[str, str] | None = None, key_column: str | None = None
    ) -> SheetPreview:
        """Fetch the sheet once and map it without writing anything; raises on an unusable sheet."""
        source = normalize_sheet_url(sheet_url)
        with self.fetcher.fetch(source) as fetched:
            records = CsvRecords(fetched.content(), size=fetched.size)
            plan = plan_columns(records.header, column_map, key_column)
            errors = _ErrorLog(10)
            rows = 0
            with Stage() as stage:
                for chunk in records.chunks(self.settings.chunk_rows):
                    rows += len(chunk)
                    self._stage_chunk(stage, plan, chunk, errors)
                errors.check_ragged(rows, len(records.header), self.settings)
                for error in stage.drop_duplicates():
                    errors.add(error)
        return SheetPreview(
            url=source.location,
            header=list(records.header),
            mapping=plan.describe(),
            key_column=records.header[plan.key_index] if plan.key_index is not None else None,
            extra_columns=list(plan.extra),
            rows=rows,
            errors=errors.kept,
            error_count=errors.count,
        )

    def add(
        self,
        customer: str | int,
        sheet_url: str,
        *,
        column_map: dict[str, str] | None = None,
        key_column: str | None = None,
        schedule: str | None = None,
        push_to_odoo: bool = False,
    ) -> tuple[SheetState, SheetPreview]:
        """Configure a customer's sheet after fetching it once; nothing is saved if it is unusable.

        The customer is an id or a name; a new name creates the customer.
        """
        if schedule is not None:
            parse_cron(schedule, job=f"sheet of {customer}")
        preview = self.preview(sheet_url, column_map, key_column)
        customer_id = resolve_customer(self.store, customer, create=True)
        state = save_config(
            self.store,
            customer_id,
            sheet_url=preview.url,
            column_map=dict(column_map or {}),
            key_column=key_column,
            schedule=schedule,
            push_to_odoo=push_to_odoo,
        )
        return state, preview

    # -- sync ------------------------------------------------------------------------------

    def sync_all(
        self,
        *,
        trigger: str = "manual",
        on_progress: Callable[[int, str], None] | None = None,
        allow_mass_delete: bool = False,
    ) -> list[SheetSyncResult]:
        """Sync every sheet that is not paused, one after the other."""
        return [
            self.sync(state.customer_id, trigger=trigger, on_progress=on_progress, allow_mass_delete=allow_mass_delete)
            for state in list_states(self.store)
            if not state.is_paused
        ]

    def sync(
        self,
        customer_id: int,
        *,
        trigger: str = "manual",
        on_progress: Callable[[int, str], None] | None = None,
        on_started: Callable[[int], None] | None = None,
        allow_mass_delete: bool = False,
    ) -> SheetSyncResult:
        """Sync one customer's sheet; see the module docstring for the steps.

        ``on_started(run_id)`` is called once the lock is held and the run recorded (the
        API answers ``202`` with the run id then, while the sync goes on).
        ``allow_mass_delete`` accepts, for this sync, deletes the guard would refuse.
        """
        state = get_state(self.store, customer_id)
        stream = stream_name(customer_id)
        if state.is_paused:
            run_id = runs.record_skipped(
                self.store, job=JOB, stream=stream, mode=MODE, trigger=trigger, reason="the sheet is paused"
            )
            return SheetSyncResult(customer_id, "paused", run_id, message="the sheet is paused: resume it first")
        try:
            with self.store.lock(lock_key(customer_id), {"trigger": trigger}):
                run_id = runs.start_run(self.store, job=JOB, stream=stream, mode=MODE, trigger=trigger)
                set_running(self.store, customer_id, True, progress_percent=0, progress_message="fetching the sheet")
                if on_started is not None:
                    on_started(run_id)
                return self._run(get_state(self.store, customer_id), run_id, on_progress, allow_mass_delete)
        except LockHeld as held:
            reason = f"another sync of this sheet is running ({held.holder or 'unknown holder'})"
            run_id = runs.record_skipped(self.store, job=JOB, stream=stream, mode=MODE, trigger=trigger, reason=reason)
            return SheetSyncResult(customer_id, "skipped", run_id, message=reason, holder=held.holder)

    def _run(
        self,
        state: SheetState,
        run_id: int,
        on_progress: Callable[[int, str], None] | None,
        allow_mass_delete: bool,
    ) -> SheetSyncResult:
        customer_id = state.customer_id
        started = self._clock()
        result = SheetSyncResult(customer_id, "running", run_id)
        progress = ProgressReporter(
            self.store,
            customer_id,
            clock=self._clock,
            min_interval=self.settings.progress_interval,
            listener=on_progress,
        )
        errors = _ErrorLog(self.settings.reported_errors)

        def on_retry(number: int, delay: float, reason: str) -> None:
            result.retries = number
            progress.report(0, f"fetch failed ({reason}); retry {number} in {delay:g} s", force=True)

        try:
            source = normalize_sheet_url(state.sheet_url)
            if_none_match, if_modified_since = validators_from(state.etag)
            with self.fetcher.fetch(
                source, etag=if_none_match, last_modified=if_modified_since, on_retry=on_retry
            ) as fetched:
                if fetched.not_modified and state.checksum:
                    return self._finish_not_modified(state, result, started, "not modified (HTTP 304)")
                validator = validator_of(fetched.etag, fetched.last_modified, fetched.sha256)
                if state.checksum and fetched.sha256 and state.etag == f"{CONTENT_HASH_PREFIX}{fetched.sha256}":
                    return self._finish_not_modified(state, result, started, "same content as the last sync")
                progress.report(5, f"fetched {fetched.size:,} bytes", force=True)
                records = CsvRecords(fetched.content(), size=fetched.size)
                plan = plan_columns(records.header, state.column_map, state.key_column)
                with Stage() as stage:
                    with self.store.connect() as conn:
                        load_previous(conn, stage, customer_id)
                    for chunk in records.chunks(self.settings.chunk_rows):
                        self._stop_if_paused(customer_id)
                        self._stage_chunk(stage, plan, chunk, errors)
                        result.rows += len(chunk)
                        progress.report(5 + int(records.progress * 55), f"read {result.rows:,} rows")
                    self._stop_if_paused(customer_id)
                    errors.check_ragged(result.rows, len(records.header), self.settings)
                    for error in stage.drop_duplicates():
                        errors.add(error)
                    checksum = stage.checksum(plan.fingerprint)
                    if checksum == state.checksum:
                        return self._finish_unchanged(state, result, errors, started, validator, "same checksum")
                    progress.report(60, f"applying {stage.rows:,} rows", force=True)
                    counts = self._apply(
                        state, stage, progress, result, errors, checksum, validator, started, allow_mass_delete
                    )
        except _Paused:
            return self._finish_paused(result, started)
        except _Refused as refused:
            return self._finish_refused(result, errors, started, refused.verdict)
        except Exception as exc:  # noqa: BLE001 - a failed sync is recorded and answered, not raised
            return self._finish_failed(result, errors, started, exc)
        result.inserted, result.updated, result.deleted, result.restored = (
            counts.inserted,
            counts.updated,
            counts.deleted,
            counts.restored,
        )
        if counts.changed and self.cache is not None:
            self.cache.invalidate(customer_id)
        # Not running any more only once everything it changed is visible, the cache included.
        set_running(self.store, customer_id, False)
        result.status = "ok"
        self._close_run(result, errors, RunStatus.OK, None)
        if on_progress is not None:
            on_progress(100, self._done_message(result))
        return result

    def _apply(
        self,
        state: SheetState,
        stage: Stage,
        progress: ProgressReporter,
        result: SheetSyncResult,
        errors: _ErrorLog,
        checksum: str,
        validator: str | None,
        started: float,
        allow_mass_delete: bool,
    ) -> DiffCounts:
        customer_id = state.customer_id
        total = max(1, stage.rows)
        # On SQLite the diff's transaction is the one writer: progress waits for its commit.
        progress.suspended = self.store.dialect == "sqlite"
        origin = None if state.push_to_odoo else SHEET_ORIGIN
        try:
            with self.store.transaction(origin=origin) as conn:

                def between_batches(phase: str, done: int) -> None:
                    self._stop_if_paused(customer_id, conn)
                    progress.report(60 + int(39 * min(1.0, done / total)), f"{phase}: {done:,} rows")

                load_existing(conn, stage, customer_id, batch_rows=self.settings.batch_rows)
                verdict = check_deletes(
                    stage.vanished_count(), stage.live_count(), stage.rows, max_share=self.settings.max_delete_share
                )
                if verdict is not None and not allow_mass_delete:
                    raise _Refused(verdict)
                counts = apply_diff(
                    conn,
                    stage,
                    customer_id,
                    now=self._now(),
                    batch_rows=self.settings.batch_rows,
                    between_batches=between_batches,
                )
                remember(conn, stage, customer_id, batch_rows=self.settings.batch_rows)
                self._stop_if_paused(customer_id, conn)
                result.inserted, result.updated, result.deleted = counts.inserted, counts.updated, counts.deleted
                conn.execute(
                    sa.update(lead_sync_states)
                    .where(lead_sync_states.c.customer_id == customer_id)
                    .values(
                        checksum=checksum,
                        etag=validator,
                        **self._outcome(result, errors, started),
                        progress_percent=100,
                        progress_message=self._done_message(result),
                        refused_deletes=None,
                    )
                )
        finally:
            progress.suspended = False
        return counts

    # -- outcomes --------------------------------------------------------------------------

    def _outcome(self, result: SheetSyncResult, errors: _ErrorLog, started: float) -> dict[str, Any]:
        result.duration_ms = max(0, int((self._clock() - started) * 1000))
        result.error_count = errors.count
        result.errors = sorted(errors.kept, key=lambda e: e.row)
        return {
            "last_sync_at": self._now(),
            "sync_duration_ms": result.duration_ms,
            "rows_processed": result.rows,
            "rows_inserted": result.inserted,
            "rows_updated": result.updated,
            "rows_deleted": result.deleted,
            "error_count": errors.count,
            "retry_count": result.retries,
            "last_error": errors.summary(),
        }

    def _finish_unchanged(
        self,
        state: SheetState,
        result: SheetSyncResult,
        errors: _ErrorLog,
        started: float,
        validator: str | None,
        why: str,
    ) -> SheetSyncResult:
        result.status = "unchanged"
        result.message = why
        set_running(
            self.store,
            state.customer_id,
            False,
            etag=validator,
            **self._outcome(result, errors, started),
            progress_percent=100,
            progress_message=f"unchanged: {why}",
            refused_deletes=None,
        )
        self._close_run(result, errors, RunStatus.OK, None)
        return result

    def _finish_not_modified(
        self, state: SheetState, result: SheetSyncResult, started: float, why: str
    ) -> SheetSyncResult:
        """A 304 or the same bytes: the sheet is as last synced, so are its row counts and errors."""
        result.status = "unchanged"
        result.message = why
        result.duration_ms = max(0, int((self._clock() - started) * 1000))
        result.error_count = state.error_count
        set_running(
            self.store,
            state.customer_id,
            False,
            last_sync_at=self._now(),
            sync_duration_ms=result.duration_ms,
            retry_count=result.retries,
            rows_inserted=0,
            rows_updated=0,
            rows_deleted=0,
            progress_percent=100,
            progress_message=f"unchanged: {result.message}",
            **({"refused_deletes": None, "last_error": None} if state.refused_deletes is not None else {}),
        )
        runs.finish_run(
            self.store,
            _run_id(result),
            RunStatus.OK,
            self._counters(result, 0),
            details={
                "customer_id": result.customer_id,
                "outcome": result.status,
                "not_modified": True,
            },
        )
        return result

    def _finish_paused(self, result: SheetSyncResult, started: float) -> SheetSyncResult:
        result.status = "paused"
        result.message = "paused during the sync: rolled back, no lead changed"
        result.inserted = result.updated = result.deleted = result.restored = 0
        result.duration_ms = max(0, int((self._clock() - started) * 1000))
        set_running(self.store, result.customer_id, False, progress_message=result.message)
        runs.finish_run(self.store, _run_id(result), RunStatus.SKIPPED, self._counters(result, 0), error=result.message)
        return result

    def _finish_refused(
        self, result: SheetSyncResult, errors: _ErrorLog, started: float, verdict: MassDelete
    ) -> SheetSyncResult:
        """The guard refused: nothing changed; the state and the run say why and how to accept."""
        message = verdict.message(result.customer_id)
        self._nothing_changed(result, errors, started, "refused", message)
        result.refused = verdict
        set_running(
            self.store,
            result.customer_id,
            False,
            last_error=message,
            refused_deletes=verdict.would_delete,
            retry_count=result.retries,
            progress_message=f"refused: would delete {verdict.would_delete:,} of {verdict.live:,} leads",
        )
        self._close_run(result, errors, RunStatus.REFUSED, message, verdict.as_dict())
        return result

    def _finish_failed(
        self, result: SheetSyncResult, errors: _ErrorLog, started: float, exc: Exception
    ) -> SheetSyncResult:
        message = (str(exc) or type(exc).__name__) if isinstance(exc, OdooSyncError) else f"{type(exc).__name__}: {exc}"
        self._nothing_changed(result, errors, started, "failed", message)
        set_running(
            self.store,
            result.customer_id,
            False,
            last_error=message[:4000],
            retry_count=result.retries,
            progress_message="failed: nothing was changed",
        )
        self._close_run(result, errors, RunStatus.FAILED, message)
        if not isinstance(exc, OdooSyncError):
            raise exc
        return result

    def _nothing_changed(
        self, result: SheetSyncResult, errors: _ErrorLog, started: float, status: str, message: str
    ) -> None:
        """The result of a run that rolled back: its outcome, no changes, its row errors."""
        result.status = status
        result.message = message
        result.inserted = result.updated = result.deleted = result.restored = 0
        result.duration_ms = max(0, int((self._clock() - started) * 1000))
        result.error_count = errors.count
        result.errors = sorted(errors.kept, key=lambda e: e.row)

    def _close_run(
        self,
        result: SheetSyncResult,
        errors: _ErrorLog,
        status: RunStatus,
        error: str | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        details = {
            **(extra or {}),
            "customer_id": result.customer_id,
            "outcome": result.status,
            "restored": result.restored,
            "row_errors_total": errors.count,
            "row_errors": [e.as_dict() for e in sorted(errors.kept, key=lambda e: e.row)],
        }
        runs.finish_run(
            self.store, _run_id(result), status, self._counters(result, errors.count), error=error, details=details
        )

    @staticmethod
    def _counters(result: SheetSyncResult, failed: int) -> RunCounters:
        return RunCounters(
            fetched=result.rows,
            inserted=result.inserted,
            updated=result.updated,
            deleted=result.deleted,
            skipped=max(0, result.rows - failed - result.inserted - result.updated),
            failed=failed,
            retries=result.retries,
        )

    @staticmethod
    def _done_message(result: SheetSyncResult) -> str:
        return (
            f"done: {result.rows:,} rows, {result.inserted:,} inserted, {result.updated:,} updated, "
            f"{result.deleted:,} deleted, {result.error_count:,} errors"
        )

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _stage_chunk(stage: Stage, plan: ColumnPlan, chunk: list, errors: _ErrorLog) -> None:
        """Stage one chunk: rows with a previous row's cells as they were (not mapped again), the
        others mapped; invalid ones reported, their keys kept present."""
        digests = {record.row: plan.row_digest(record.cells) for record in chunk}
        to_map = stage.add_unchanged(list(digests.items())) if stage.previous else digests.keys()
        valid: list[SheetLead] = []
        present: list[str] = []
        for record in chunk:
            if record.row not in to_map:
                continue
            mapped = map_record(plan, record.row, record.cells)
            if isinstance(mapped, SheetLead):
                valid.append(mapped)
            else:
                errors.add(mapped)
                if mapped.key is not None:
                    present.append(mapped.key)
        stage.add(valid, digests)
        if present:
            stage.keep_present(present)

    def _stop_if_paused(self, customer_id: int, conn: sa.Connection | None = None) -> None:
        query = sa.select(lead_sync_states.c.is_paused).where(lead_sync_states.c.customer_id == customer_id)
        if conn is not None:
            paused = conn.execute(query).scalar_one_or_none()
        else:
            with self.store.connect() as own:
                paused = own.execute(query).scalar_one_or_none()
        if paused:
            raise _Paused()


def _run_id(result: SheetSyncResult) -> int:
    """The run a sync records into: set before any of its outcomes is finished."""
    assert result.run_id is not None
    return result.run_id
