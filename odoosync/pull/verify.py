"""``odoosync verify``: the user's proof that nothing is lost, per stream.

For each stream it lists Odoo's complete id set (archived included) with the served
``write_date``, by id keyset in pages of ``VERIFY_PAGE`` (ids and stamps only: cheap),
ending on an empty page, never on a short one. It compares that with what the database
holds (``Target.snapshot``):

* **missing**: Odoo has the record, the database has no row for it (records the app
  deleted on purpose, ``Target.app_deleted``, are not missing);
* **extra**: the database holds it as live, Odoo does not return it, and a direct read of
  those ids confirms it (what a running reconcile would mark deleted);
* **stale**: Odoo's ``write_date`` (whole seconds) is newer than the stored one. Tables
  that keep no Odoo stamp (chatter, activities) are checked by id only.

Each check is logged in ``ops.odoo_sync_runs`` (job ``verify``, the counts and a sample of
ids in ``details``), which ``GET /api/verify``, the dashboard and the Prometheus drift
gauge read. ``repair`` then syncs exactly the records found
(:meth:`~odoosync.pull.engine.PullEngine.repair`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from odoosync.models import VERIFY_JOB, RunCounters, RunStatus, Trigger
from odoosync.odoo.values import parse_datetime
from odoosync.pull.engine import PullEngine, PullOptions, Repair, StreamResult
from odoosync.pull.reconcile import confirmed_gone
from odoosync.store import runs
from odoosync.streams.base import PageContext, ResIds, Stream
from odoosync.streams.leads import LeadsTarget

__all__ = ["JOB", "VERIFY_PAGE", "StreamDrift", "Verifier", "latest_drift"]

JOB = VERIFY_JOB
VERIFY_PAGE = 5000  # ids and stamps per search_read: ~150 KB of JSON
SAMPLE = 20  # ids of each kind kept in the run's details


@dataclass(frozen=True)
class StreamDrift:
    """What ``verify`` found for one stream."""

    stream: str
    model: str
    in_odoo: int
    in_database: int
    missing: tuple[int, ...] = ()
    extra: tuple[int, ...] = ()
    stale: tuple[int, ...] = ()
    stamps_checked: bool = True
    requests: int = 0
    checked_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    run_id: int | None = None

    @property
    def drift(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.stale)

    def as_dict(self, sample: int | None = SAMPLE) -> dict[str, Any]:
        def some(ids: tuple[int, ...]) -> list[int]:
            return list(ids if sample is None else ids[:sample])

        return {
            "stream": self.stream,
            "model": self.model,
            "in_odoo": self.in_odoo,
            "in_database": self.in_database,
            "missing": len(self.missing),
            "extra": len(self.extra),
            "stale": len(self.stale),
            "drift": self.drift,
            "missing_ids": some(self.missing),
            "extra_ids": some(self.extra),
            "stale_ids": some(self.stale),
            "stamps_checked": self.stamps_checked,
            "requests": self.requests,
            "checked_at": self.checked_at.isoformat(),
            "run_id": self.run_id,
        }


class Verifier:
    """Compares streams with Odoo (see the module docstring) over one client and store."""

    def __init__(self, client: Any, store: Any, *, backend: str = "default"):
        self.client = client
        self.store = store
        self.backend = backend

    def check(self, stream: Stream, *, trigger: str = Trigger.MANUAL) -> StreamDrift:
        """Verify one stream and log it as a ``verify`` run."""
        before = self.client.stats.snapshot()
        run_id = runs.start_run(
            self.store,
            job=JOB,
            stream=stream.name,
            mode="ids+stamps",
            trigger=str(trigger),
            backend=self.backend,
            details={"model": stream.model},
        )
        try:
            drift = self._compare(stream)
        except Exception as exc:
            spent = self.client.stats.snapshot() - before
            runs.finish_run(
                self.store,
                run_id,
                RunStatus.FAILED,
                RunCounters(rpc_calls=spent.requests),
                error=f"{type(exc).__name__}: {exc}",
            )
            raise
        spent = self.client.stats.snapshot() - before
        drift = _with(drift, requests=spent.requests, run_id=run_id)
        counters = RunCounters(
            fetched=drift.in_odoo, skipped=drift.in_database, rpc_calls=spent.requests, retries=spent.retries
        )
        status = RunStatus.OK if drift.drift == 0 else RunStatus.FAILED
        error = (
            None
            if drift.drift == 0
            else (
                f"{len(drift.missing)} missing, {len(drift.extra)} extra, {len(drift.stale)} stale "
                f"(odoosync verify {stream.name} --repair syncs them)"
            )
        )
        runs.finish_run(self.store, run_id, status, counters, error=error, details=drift.as_dict())
        return drift

    def repair(self, stream: Stream, drift: StreamDrift, options: PullOptions) -> StreamResult:
        """Sync exactly what ``drift`` found: missing and stale records are read and
        written, extra ones marked deleted once Odoo confirms it no longer has them."""
        plan = Repair(read=tuple(sorted({*drift.missing, *drift.stale})), gone=drift.extra, present=drift.in_database)
        return PullEngine(self.client, self.store, backend=self.backend).repair(stream, plan, options)

    # ------------------------------------------------------------------ internals

    def _compare(self, stream: Stream) -> StreamDrift:
        ctx = PageContext(client=self.client, store=self.store, backend=self.backend)
        with self.store.connect() as conn:
            stored = stream.target.snapshot(conn, ctx)
        stamped = bool(getattr(stream.target, "keeps_stamps", False))
        odoo, parents = self._odoo_stamps(stream, with_stamps=stamped)
        missing = sorted(set(odoo) - set(stored))
        if missing:
            with self.store.connect() as conn:
                missing = sorted(set(missing) - stream.target.app_deleted(conn, ctx, missing))
                if parents:  # the history of a lead the app deleted has no row to go to
                    gone = LeadsTarget().app_deleted(conn, ctx, sorted({parents[i] for i in missing if i in parents}))
                    missing = [i for i in missing if parents.get(i) not in gone]
        candidates = sorted(i for i, row in stored.items() if row.live and i not in odoo)
        extra = confirmed_gone(self.client, stream, candidates)
        stale = sorted(
            i
            for i, stamp in odoo.items()
            if stamped and (row := stored.get(i)) is not None and _newer(stamp, row.write_date)
        )
        live = sum(1 for row in stored.values() if row.live)
        return StreamDrift(
            stream.name,
            stream.model,
            len(odoo),
            live,
            tuple(missing),
            tuple(extra),
            tuple(stale),
            stamps_checked=stamped,
        )

    def _odoo_stamps(self, stream: Stream, *, with_stamps: bool) -> tuple[dict[int, Any], dict[int, int]]:
        """Every id Odoo returns for the stream (archived included) with its stamp, and
        for a stream hanging off leads (chatter, activities) each record's lead."""
        found: dict[int, Any] = {}
        parents: dict[int, int] = {}
        parent_field = stream.batching.res_id_field if isinstance(stream.batching, ResIds) else None
        fields = (["write_date"] if with_stamps else []) + ([parent_field] if parent_field else [])
        after = 0
        while True:
            page = self.client.search_read(
                stream.model,
                [*stream.domain, ("id", ">", after)],
                fields,
                limit=VERIFY_PAGE,
                order="id",
                active_test=False,
            )
            if not page:  # never a short page: Odoo drops some rows after SQL's LIMIT
                return found, parents
            for record in page:
                found[int(record["id"])] = record.get("write_date") if with_stamps else None
                if parent_field and record.get(parent_field):
                    parents[int(record["id"])] = int(record[parent_field])
            after = int(page[-1]["id"])


def _newer(odoo_stamp: Any, stored: Any) -> bool:
    if odoo_stamp is None:
        return False
    if stored is None:
        return True
    if isinstance(odoo_stamp, str):
        odoo_stamp = parse_datetime(odoo_stamp)
    if isinstance(stored, str):
        stored = parse_datetime(stored)
    if stored.tzinfo is None:
        stored = stored.replace(tzinfo=dt.UTC)
    return odoo_stamp.replace(microsecond=0) > stored.replace(microsecond=0)


def _with(drift: StreamDrift, **changes: Any) -> StreamDrift:
    return dataclasses.replace(drift, **changes)


def latest_drift(store: Any, *, backend: str = "default") -> list[dict[str, Any]]:
    """The newest finished ``verify`` run of each stream, as stored (``/api/verify``)."""
    newest: dict[str, dict[str, Any]] = {}
    for run in runs.list_runs(store, 500, job=JOB):
        if run.stream in newest or run.status == RunStatus.RUNNING or run.backend != backend:
            continue
        details = dict(run.details or {})
        if "drift" not in details:
            details = {"stream": run.stream, "drift": None, "error": run.error}
        details.setdefault("checked_at", run.finished_at.isoformat() if run.finished_at else None)
        details["run_id"] = run.id
        newest[run.stream] = details
    return [newest[name] for name in sorted(newest)]
