"""One run of one stream: its walks (full, incremental, one record, missing, repair).

:class:`StreamRun` holds a run's state (the stream's checkpoint, the budget, the read
fields) and reads Odoo; its pages go to a :class:`~odoosync.pull.pages.PageWriter`, and
the id reconcile that ends most runs is ``pull/reconcile.py``. How each walk reads, and
why no page length ever ends one, is in ``pull/engine.py``'s docstring.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from odoosync import heap
from odoosync.cursor import Cursor, FullWalk, Increment, Partition, StreamState
from odoosync.exceptions import ConfigError
from odoosync.id_ranges import IdRanges
from odoosync.models import RunCounters, RunStatus, SyncMode
from odoosync.odoo.reader import CountedReader
from odoosync.pull import rejects
from odoosync.pull.budget import Budget
from odoosync.pull.options import JOB, PROBE_ROWS, Progress, PullOptions, Repair, StreamResult
from odoosync.pull.pages import PageWriter
from odoosync.pull.plan import plan_walk
from odoosync.pull.prerequisites import Prerequisite, PrerequisiteFailed
from odoosync.pull.reconcile import (
    FirstRound,
    Listing,
    check_delete_share,
    confirmed_gone,
    listing_after_walk,
    reconcile,
    send_first_round,
)
from odoosync.pull.rounds import RoundReader
from odoosync.store import checkpoints, runs, schema
from odoosync.streams.base import PageContext, ResIds, Stream

if TYPE_CHECKING:
    from odoosync.pull.engine import PullEngine

__all__ = ["StreamRun"]

log = logging.getLogger("odoosync.pull")

_PROGRESS_EVERY_SECONDS = 2.0
_EPOCH = Cursor(dt.datetime(1970, 1, 1, tzinfo=dt.UTC), 0)


class StreamRun:
    """One run of one stream: its state, walks and budget (the engine's worker)."""

    def __init__(
        self,
        engine: PullEngine,
        stream: Stream,
        options: PullOptions,
        budget: Budget,
        key: str,
        *,
        repair: Repair | None = None,
        after: Sequence[Prerequisite] = (),
    ):
        self.engine = engine
        self.after = after
        self.ready = False  # the streams ``after`` are done and the target's lookups loaded
        self.repair = repair
        self.client = CountedReader(engine.client)
        self.store = engine.store
        self.stream = stream
        self.options = options
        self.budget = budget
        self.key = key
        self.page_size = stream.page_size or options.page_size
        self.remaining = False
        self.ctx = PageContext(
            client=self.client,
            store=self.store,
            backend=engine.backend,
            company_id=options.company_id,
            force=options.mode == SyncMode.FULL,
        )
        self.pages = PageWriter(
            self.store, stream, self.ctx, key=key, backend=engine.backend, on_page=lambda: self.emit("page")
        )
        self.fields: list[str] = []
        self.state = StreamState()
        self.last_progress = 0.0
        self.run_id: int | None = None
        # The reconcile's first id chunk when the walk already has it: every id of a table
        # that fit in one page, or a search sent while the walk's last pages are written.
        self.first_ids: Future[Listing | list[int]] | Listing | list[int] | None = None
        self.walked = False  # a full walk ran: the reconcile lists every id
        self.reconcile_ahead: FirstRound | None = None  # sent with the increment

    # ------------------------------------------------------------------ lifecycle

    def execute(self) -> StreamResult:
        started = time.monotonic()
        self.mode = "repair" if self.repair is not None else str(self.options.mode)
        self.run_id = runs.start_run(
            self.store,
            job=JOB,
            stream=self.stream.name,
            mode=self.mode,
            trigger=str(self.options.trigger),
            backend=self.engine.backend,
            details={"model": self.stream.model, "budget": self.options.budget},
        )
        try:
            self._prepare()
            self.emit("start")
            try:
                self._work()
            finally:
                # The run's lookups (the customers map: one entry per customer) go now,
                # not when the collector reaches the cycles a run's parts make.
                self.ctx.cache.clear()
        except BaseException as exc:
            if isinstance(exc, PrerequisiteFailed):
                status = RunStatus.SKIPPED  # the failure is that stream's: this run only skipped
            else:
                status = RunStatus.FAILED if isinstance(exc, Exception) else RunStatus.PARTIAL
            error = f"{type(exc).__name__}: {exc}"
            try:
                runs.finish_run(
                    self.store,
                    self.run_id,
                    status,
                    self._counters(),
                    error=error,
                    remaining=status == RunStatus.PARTIAL,
                )
            except Exception:
                log.warning("could not log the end of run %s of %s", self.run_id, self.stream.name, exc_info=True)
            raise
        status = RunStatus.PARTIAL if self.remaining else RunStatus.OK
        counters = self._counters()
        runs.finish_run(
            self.store,
            self.run_id,
            status,
            counters,
            remaining=self.remaining,
            details={"model": self.stream.model, "budget": self.options.budget},
        )
        self.emit("done")
        return StreamResult(
            self.stream.name,
            self.stream.model,
            self.mode,
            status,
            counters,
            remaining=self.remaining,
            duration_ms=int((time.monotonic() - started) * 1000),
            run_id=self.run_id,
        )

    def _prepare(self) -> None:
        """Fields the server has (one ``fields_get``, which the client caches), the stored
        state and the quarantine: nothing another stream writes."""
        available = self.client.field_types(self.stream.model)
        missing = self.stream.missing_fields(available)
        if missing:
            raise ConfigError(
                f"stream {self.stream.name!r}: model {self.stream.model} has no field(s) {', '.join(missing)} "
                f"on this Odoo server (check 'fields' in ops.odoo_sync_config)"
            )
        self.fields = self.stream.read_fields(available)
        with self.store.connect() as conn:
            self.pages.stored_state = checkpoints.get(conn, self.key)
        self.state = StreamState.from_json(self.pages.stored_state)
        self.pages.quarantined = rejects.ids_of(self.store, backend=self.engine.backend, stream=self.stream.name)

    def _ready(self) -> bool:
        """Before the first write or read of what other streams write: wait until the
        streams this one comes ``after`` are done (its first reads from Odoo are already
        under way), load the target's run-wide lookups and retry the quarantine. False
        when a stop request came first (``remaining``)."""
        if self.ready:
            return True
        if not all(prerequisite.wait(self.engine.stopping) for prerequisite in self.after):
            self.remaining = True
            return False
        self.stream.target.begin_run(self.ctx)
        if self.options.mode != SyncMode.RECORD:
            self.pages.retry_quarantined(self._read_ids, self._confirmed_gone, self.page_size)
        self.ready = True
        return True

    def _work(self) -> None:
        mode = self.options.mode
        needs_ready_first = self.repair is not None or mode in (SyncMode.RECORD, SyncMode.MISSING)
        if needs_ready_first and not self._ready():
            return
        if self.repair is not None:
            self._repair(self.repair)
            return
        if mode == SyncMode.RECORD:
            self._one_record(int(self.options.odoo_id))  # type: ignore[arg-type]
            return
        if (
            self.state.walk is not None
            or (mode == SyncMode.FULL)
            or (mode == SyncMode.INCREMENTAL and self.state.cursor is None)
        ):
            self.walked = True
            if not self._walk():
                return
        elif mode == SyncMode.INCREMENTAL:
            # The reconcile's first round travels with the increment's first page.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoosync-reconcile") as ahead:
                if self._reconcile_follows():
                    self.reconcile_ahead = send_first_round(self, ahead)
                if not self._incremental():
                    return
        if not self._ready():  # a missing run, or a run that read nothing
            return
        if mode == SyncMode.MISSING and isinstance(self.stream.batching, ResIds):
            self._missing_by_parent(self.stream.batching)
        elif self._reconcile_follows():
            reconcile(self, fetch_missing=True)

    def _reconcile_follows(self) -> bool:
        """Whether this run ends with the id reconcile (``_work``)."""
        if self.options.mode == SyncMode.MISSING:
            return not isinstance(self.stream.batching, ResIds)
        return self.options.reconcile

    # ------------------------------------------------------------------ full walk

    def _walk(self) -> bool:
        """Walk every partition to its end; False when the budget stopped it.

        Reads run ahead of writes (:class:`~odoosync.pull.rounds.RoundReader`): as soon as
        a round's pages arrive (which fixes where each partition's keyset goes next) the
        next round is requested, while the pages just read are prepared (the target's
        prefetch) and written, all of a round's pages in one transaction with the
        checkpoint past them (exact: it names only committed pages), so a kill loses at
        most the rounds in flight.
        """
        walk = self.state.walk
        first_page: list[dict[str, Any]] | None = None
        if walk is None:
            walk, first_page = self._plan_walk()

        def list_ids(rows: int) -> None:
            # Every page of the walk has been read, so Odoo's ids as of now cover
            # everything the walk will write: the reconcile's search can go now.
            if self._reconcile_follows():
                self.first_ids = lister.submit(listing_after_walk, self.client, self.stream, rows)

        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoosync-list") as lister,
            RoundReader(self, walk, rows_before=len(first_page or ()), on_last_round=list_ids) as rounds,
        ):
            if not self._ready():
                return False
            rounds.writing()
            if first_page is not None:
                self._set_walk(walk)
                self._keep_listed_ranges()
                self._commit(first_page)
            round_started = time.monotonic()
            for read in rounds:
                for (index, _), records in zip(read.active, read.pages, strict=True):
                    walk = walk.with_partition(index, read.advanced.partitions[index]).reached(records)
                self._set_walk(walk)
                self._keep_listed_ranges()
                self._commit(read.records)  # one transaction a round
                heap.release_free_memory()  # the round's pages are free: give them back
                self.budget.record(time.monotonic() - round_started)
                round_started = time.monotonic()
                if not walk.finished and (self.engine.stopping.is_set() or not self.budget.allows_another_step()):
                    self.remaining = True  # the rounds read ahead are read again next time
                    break
        return walk.finished

    def _keep_listed_ranges(self) -> None:
        """A finished walk that listed Odoo's ids whole (:class:`Listing`) stores their
        ranges with its last page: the reconcile that follows then writes nothing more."""
        if self.state.walk is not None or self.first_ids is None:
            return
        answer = self.first_ids.result() if isinstance(self.first_ids, Future) else self.first_ids
        self.first_ids = answer
        if isinstance(answer, Listing):
            self.state = dataclasses.replace(self.state, id_ranges=answer.ranges(self.stream))

    def _set_walk(self, walk: FullWalk) -> None:
        """The state after a walk moved: still walking, or done and the cursor set to
        where Odoo stood when the walk began."""
        if walk.finished:
            start = walk.start or (Cursor(walk.read_at, 0) if walk.read_at is not None else _EPOCH)
            cursor = max(c for c in (self.state.cursor, start) if c is not None)
            self.state = dataclasses.replace(self.state, walk=None, increment=None, cursor=cursor, read_at=walk.read_at)
        else:
            self.state = dataclasses.replace(self.state, walk=walk)

    def _plan_walk(self) -> tuple[FullWalk, list[dict[str, Any]]]:
        """One concurrent round: the highest id and the first page. The walk is bounded
        by that id (rows created later are the next increment's, which starts at this
        round's clock); a first page that reaches it holds the whole table. Otherwise
        the rest of the id range is cut into partitions.

        The id probe reads ``PROBE_ROWS`` ids, not one: Odoo drops the rows the user may
        not read after SQL's LIMIT, so ``limit=1`` can answer nothing on a full table.
        The walk's ``read_at`` is Odoo's clock when the earlier of the two reads began:
        what they missed committed later. Its ``start`` (the cursor it hands to the next
        increment) is the newest ``(second, id)`` among the rows it reads."""
        domain = list(self.stream.domain)

        def probe(kind: str) -> tuple[Any, dt.datetime | None]:
            if kind == "high":
                ids = self.client.search(
                    self.stream.model, domain, limit=PROBE_ROWS, order="id desc", active_test=False
                )
                found: Any = max((int(i) for i in ids), default=None)
            else:
                found = self._read([("id", ">", 0)], order="id")
            return found, self.client.odoo_clock_at_last_call()

        round_started = time.monotonic()
        answers = self.client.map_concurrent(probe, ["high", "first"])
        high, first_page = (found for found, _ in answers)
        clocks = [clock for _, clock in answers]
        read_at = None if any(c is None for c in clocks) else min(c for c in clocks if c is not None)
        self.budget.record(time.monotonic() - round_started)
        start = Cursor.newest(first_page)
        if not first_page or (high is not None and int(first_page[-1]["id"]) >= high):
            self.first_ids = Listing([int(r["id"]) for r in first_page])
            return FullWalk((Partition(0, None, done=True),), start, read_at), first_page
        low = int(first_page[-1]["id"]) + 1
        walk = plan_walk(low, high, self._concurrency(), self.page_size, start, bounded=high is not None)
        return dataclasses.replace(walk, read_at=read_at), first_page

    # ------------------------------------------------------------------ incremental

    def _incremental(self) -> bool:
        """The rows changed since ``min(cursor, read_at - overlap)``, walked by id keyset
        until a page comes back empty (an :class:`~odoosync.cursor.Increment`, resumed by
        the next run if the budget stops this one); False when the budget stopped it.

        Never in ``write_date`` order: rows of one second are not in id order there, and
        a short page is not the end (Odoo filters some rows after SQL's LIMIT). The
        cursor becomes the newest ``(second, id)`` read. The first page's answer places
        the increment on Odoo's clock: a row it or a later page misses committed after
        that moment, which becomes the state's ``read_at`` once the increment is done
        (see :meth:`~odoosync.cursor.StreamState.with_read_at`)."""
        assert self.state.cursor is not None
        overlap = self.options.overlap
        increment = self.state.increment
        fresh = increment is None
        if increment is None:
            increment = Increment(self.state.incremental_start(overlap))
        while True:
            if not self.may_continue():
                return False
            page_started = time.monotonic()
            records = self._read(increment.domain(), order="id")
            if not self._ready():
                return False
            if fresh:
                increment, fresh = dataclasses.replace(increment, read_at=self.client.odoo_clock_at_last_call()), False
            if records:
                increment = increment.advanced(int(records[-1]["id"]))
                cursor = Cursor.newest(records, self.state.cursor)
                ranges = self.state.id_ranges
                if ranges is not None:  # the new ids join the reconcile's counted ranges
                    ranges = ranges.extended(int(r["id"]) for r in records)
                self.state = dataclasses.replace(self.state, cursor=cursor, increment=increment, id_ranges=ranges)
            else:
                done = dataclasses.replace(self.state, increment=None)
                self.state = done.with_read_at(increment.read_at, overlap)
            self._commit(records)
            self.budget.record(time.monotonic() - page_started)
            if not records:
                return True

    # ------------------------------------------------------------------ one record

    def _one_record(self, odoo_id: int) -> None:
        """``--odoo-id N``: that record (or, for a stream batched by parent, everything
        hanging off parent N), re-mapped even if unchanged; a vanished record is marked
        deleted. The stream's checkpoint is left alone."""
        self.ctx.force = True
        batching = self.stream.batching
        if isinstance(batching, ResIds):
            parent: list[tuple[str, str, Any]] = [(batching.res_id_field, "=", odoo_id)]
            if batching.model_field:
                parent.append((batching.model_field, "=", batching.parent_model))
            after = 0
            while True:
                records = self._read([*parent, ("id", ">", after)], order="id")
                self.pages.commit(records, None)
                if not records:  # never a short page: Odoo may filter rows after the LIMIT
                    return
                after = int(records[-1]["id"])
        records = self.client.search_read(self.stream.model, [("id", "=", odoo_id)], self.fields, active_test=False)
        if records:
            self.pages.commit(records, None)
        else:
            self.pages.mark_deleted([odoo_id])

    def _repair(self, plan: Repair) -> None:
        """Re-read ``plan.read`` by id (re-mapped even if unchanged) and mark deleted what
        of ``plan.gone`` Odoo confirms it no longer has."""
        self.ctx.force = True
        ids = sorted(plan.read)
        for start in range(0, len(ids), self.page_size):
            if not self.may_continue():
                return
            self.pages.commit(self._read_ids(ids[start : start + self.page_size]), None)
        gone = self._confirmed_gone(sorted(plan.gone))
        if gone:
            check_delete_share(
                self.stream.name,
                len(gone),
                plan.present,
                max_share=self.options.max_delete_share,
                allow_mass_delete=self.options.allow_mass_delete,
            )
            self.pages.mark_deleted(gone)

    def _missing_by_parent(self, batching: ResIds) -> None:
        """``missing`` for records hanging off parents: only parents in the database with
        no child row at all (e.g. leads with zero ``lead_activities``), ``chunk`` parents
        per call. Ids are searched first, so parents that truly have no children cost an
        ids-only ``search`` and no record reads; nothing is marked deleted."""
        parent_table = schema.metadata.tables[batching.parent_table]
        target_table = self.stream.target.table
        link = next((fk for fk in target_table.foreign_keys if fk.column.table is parent_table), None)
        if link is None:
            raise ConfigError(
                f"stream {self.stream.name!r}: {target_table.name} has no foreign key to {parent_table.name}"
            )
        parent_id = parent_table.c[batching.parent_id_column]
        query = (
            sa.select(parent_id)
            .where(
                parent_id.is_not(None),
                ~sa.exists().where(link.parent == link.column),
                schema.backend_column(parent_table) == self.engine.backend,
                *([parent_table.c.deleted_at.is_(None)] if "deleted_at" in parent_table.c else []),
            )
            .order_by(parent_id)
        )
        per_round = batching.chunk * self._concurrency()
        after = 0
        while self.may_continue():
            with self.store.connect() as conn:
                parents = [int(i) for i in conn.execute(query.where(parent_id > after).limit(per_round)).scalars()]
            if not parents:
                return
            chunks = [parents[i : i + batching.chunk] for i in range(0, len(parents), batching.chunk)]
            for pages in self.client.map_concurrent(lambda chunk: self._children_of(batching, chunk), chunks):
                for records in pages:
                    self.pages.commit(records, None)
            if len(parents) < per_round:
                return
            after = parents[-1]

    def _children_of(self, batching: ResIds, parents: list[int]) -> list[list[dict[str, Any]]]:
        """The pages of records hanging off ``parents`` (an ids-only ``search`` first)."""
        domain: list[Any] = [*self.stream.domain, (batching.res_id_field, "in", parents)]
        if batching.model_field:
            domain.append((batching.model_field, "=", batching.parent_model))
        ids = self.client.search(self.stream.model, domain, order="id", active_test=False)
        return [self._read_ids(ids[i : i + self.page_size]) for i in range(0, len(ids), self.page_size)]

    # ------------------------------------------------------------------ pages

    def _read(self, extra_domain: list[Any], *, order: str) -> list[dict[str, Any]]:
        """One page (:meth:`_search_read`) with what its target prefetches."""
        records = self._search_read(extra_domain, order=order)
        self.stream.target.prefetch(self.ctx, records)
        return records

    def read_page(self, extra_domain: list[Any]) -> list[dict[str, Any]]:
        """One page of a walk in id order (:meth:`_search_read`), nothing prefetched."""
        return self._search_read(extra_domain, order="id")

    def _search_read(self, extra_domain: list[Any], *, order: str) -> list[dict[str, Any]]:
        """One page: the stream's domain plus ``extra_domain``, archived records included.
        Records deleted between two calls simply do not come back."""
        return self.client.search_read(
            self.stream.model,
            [*self.stream.domain, *extra_domain],
            self.fields,
            limit=self.page_size,
            order=order,
            active_test=False,
        )

    def _commit(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Write a page of a walk with the checkpoint it reached."""
        self.pages.commit(records, self.state.to_json())

    def _read_ids(self, ids: list[int]) -> list[dict[str, Any]]:
        """The records of ``ids`` (one page at most)."""
        return self._read([("id", "in", ids)], order="id")

    def _confirmed_gone(self, candidates: list[int]) -> list[int]:
        """The candidates Odoo no longer has (:func:`~odoosync.pull.reconcile.confirmed_gone`)."""
        return confirmed_gone(self.client, self.stream, candidates)

    def read_and_write(self, ids: list[int]) -> None:
        """Read the records of ``ids`` by pages, a round of pages at a time, and write them
        (checkpoint left alone)."""
        chunks = [ids[i : i + self.page_size] for i in range(0, len(ids), self.page_size)]
        for start in range(0, len(chunks), self._concurrency()):
            batch = chunks[start : start + self._concurrency()]
            for records in self.client.map_concurrent(self._read_ids, batch):
                self.pages.commit(records, None)

    def keep_id_ranges(self, ranges: IdRanges) -> None:
        """Store the reconcile's id ranges with the stream's checkpoint (written only if
        they changed)."""
        self.state = dataclasses.replace(self.state, id_ranges=ranges)
        self.pages.commit([], self.state.to_json())

    def may_continue(self) -> bool:
        """False (and ``remaining``) when the budget or a stop request ends the run here."""
        if self.engine.stopping.is_set() or not self.budget.allows_another_step():
            self.remaining = True
            return False
        return True

    # ------------------------------------------------------------------ reporting

    def _concurrency(self) -> int:
        return max(1, self.client.max_concurrency)

    def _counters(self) -> RunCounters:
        return self.pages.counts + RunCounters(rpc_calls=self.client.requests, retries=self.client.retries)

    def emit(self, phase: str) -> None:
        now = time.monotonic()
        counters = None
        if phase != "page" or now - self.last_progress >= _PROGRESS_EVERY_SECONDS:
            self.last_progress = now
            counters = self._counters()
            if phase == "page" and self.run_id is not None:
                runs.update_progress(self.store, self.run_id, counters)
        if self.engine.on_progress is not None:
            self.engine.on_progress(
                Progress(self.stream.name, phase, counters or self._counters(), done=self.pages.counts.fetched)
            )
