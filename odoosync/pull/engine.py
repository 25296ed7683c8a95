"""The pull engine: run a stream from Odoo into the database (DESIGN C2).

One run of one stream, under the stream's lock, logged in ``ops.odoo_sync_runs``:

1. **Resume or start.** The stream's :class:`~odoosync.cursor.StreamState` is read from
   its checkpoint. An unfinished full walk is always resumed first.
2. **Read pages.**
   * ``full`` (or the first run of a stream, or a walk to resume): the first page and
     the highest id are read in one concurrent round; a first page that reaches that id
     holds the whole table, otherwise the rest of the range up to it is cut into
     partitions (``pull.plan``) walked by id keyset, one page per partition per round,
     the round's pages fetched concurrently (``client.map_concurrent``, bounded). Reads
     run one round ahead of writes: the next round is in flight while this one is
     written. No page length ends a partition: Odoo drops rows the user may not read
     *after* SQL's LIMIT (497 of 500), so only an empty page or the bound does.
   * ``incremental``: the rows whose ``(second of write_date, id)`` is past
     ``min(cursor, read_at - overlap)``, walked by id keyset until an empty page
     (``cursor.Increment``, resumable), where ``read_at`` is a lower bound of Odoo's clock
     (its ``Date`` header) when the previous increment's first page (or the full walk's
     probe round) was read: a row that read missed committed later, stamped at most
     ``overlap`` before. While Odoo is busy that re-reads ``cursor - overlap``; once it
     has been idle for longer than the overlap an increment is one request. No ``Date``
     header: ``cursor - overlap``.
   * ``missing``: only the records whose ids the database lacks (see step 3).
   * ``record`` (``--odoo-id N``): that one record; for a stream batched by parent
     (:class:`~odoosync.streams.base.ResIds`, e.g. chatter) every record of parent N.
   Streams batched by parent are walked like any other (an id keyset over the child
   model, restricted by the stream's domain, e.g. ``model = 'crm.lead'``): that reads
   each record once in few large pages, where ``res_id in [50 ids]`` would need a call
   per 50 parents. ``missing`` finds what the database lacks by comparing ids (step 3),
   which covers any gap; for a stream batched by parent, ``missing`` reads only the
   children of parents that have none in the database ("leads with zero activities").
   Every read passes ``active_test: False`` (archived records, lost leads, count).
3. **Reconcile** (``full``/``incremental``/``missing``): Odoo's ids (``search``, ids only,
   in keyset chunks until an empty one; the first sent while a walk writes its last
   pages) against the database's, range by range: records the database lacks are read
   and written; rows Odoo did not list are read again directly once the whole range has
   been listed, and only those still absent get ``deleted_at``, within the stream's
   mass-delete limit (``MassDeleteRefused`` otherwise, nothing deleted).
   Records the database refuses go to the quarantine (``pull/rejects.py``).
4. **Write each page in one transaction** with its checkpoint (``origin="pull"`` so the
   outbox triggers ignore it): unchanged records are skipped before any write, the rest
   mapped and upserted with one multi-row statement per table. A page with nothing to
   write and no checkpoint move opens no write transaction at all.

``run_many`` (``sync all``) starts each stream once the streams it comes ``after`` are
done and runs independent ones side by side (``parallel_streams``, default 4; the
client still caps the requests in flight), so the reference streams and partners load
together, then leads, then chatter and activities. Streams others wait for start first.

A time budget stops the run between rounds, before the deadline, with ``remaining``.
Memory is bounded by two rounds of ``partitions × page_size`` records (the one being
written and the one read ahead), plus one id chunk while reconciling. A kill at any
point loses at most the pages not yet committed, which the next run reads again; writes
are idempotent upserts, so nothing is duplicated.

The engine reads no environment and prints nothing: progress goes to a callback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from odoosync.cursor import DEFAULT_OVERLAP, Cursor, FullWalk, Increment, Partition, StreamState
from odoosync.exceptions import ConfigError, LockHeld, MassDeleteRefused, StoreIntegrityError
from odoosync.models import RunCounters, RunStatus, SyncMode, Trigger
from odoosync.pull.budget import Budget
from odoosync.pull import rejects
from odoosync.pull.plan import plan_walk
from odoosync.store import checkpoints, runs, schema
from odoosync.streams.base import PageContext, ResIds, Stream, WriteCounts

__all__ = [
    "DEFAULT_MAX_DELETE_SHARE",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_PARALLEL_STREAMS",
    "ID_CHUNK",
    "JOB",
    "PullOptions",
    "Progress",
    "StreamResult",
    "PullEngine",
    "Repair",
    "checkpoint_key",
    "confirmed_gone",
]

log = logging.getLogger("odoosync.pull")

JOB = "pull"
DEFAULT_PAGE_SIZE = 500  # records per search_read: ~0.5 MB of JSON for leads, few round trips
DEFAULT_PARALLEL_STREAMS = 4  # streams at once; requests in flight stay capped by the client
ID_CHUNK = 10_000  # ids per reconcile ``search``; small JSON, bounded memory
PROBE_ROWS = 10  # rows per bounds probe: Odoo may hide some of them after SQL's LIMIT
DEFAULT_MAX_DELETE_SHARE = 0.10  # a reconcile deleting more of a stream than this refuses
MASS_DELETE_FLOOR = 10  # ... unless it deletes at most this many rows (and not all of them)
_PROGRESS_EVERY_SECONDS = 2.0
_EPOCH = Cursor(dt.datetime(1970, 1, 1, tzinfo=dt.UTC), 0)


def checkpoint_key(backend: str, stream: str) -> str:
    """``pull:<backend>:<stream>``: where a stream's state lives (and its lock's name)."""
    return f"pull:{backend}:{stream}"


@dataclass(frozen=True)
class PullOptions:
    """How to run. ``budget`` in seconds (None: no limit); ``odoo_id`` implies ``record``."""

    mode: SyncMode = SyncMode.INCREMENTAL
    odoo_id: int | None = None
    budget: float | None = None
    overlap: dt.timedelta = DEFAULT_OVERLAP
    page_size: int = DEFAULT_PAGE_SIZE
    reconcile: bool = True
    trigger: Trigger = Trigger.MANUAL
    company_id: int | None = None
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE
    allow_mass_delete: bool = False

    def __post_init__(self) -> None:
        if self.odoo_id is not None and self.mode != SyncMode.RECORD:
            object.__setattr__(self, "mode", SyncMode.RECORD)
        if self.mode == SyncMode.RECORD and self.odoo_id is None:
            raise ConfigError("mode 'record' needs an Odoo id (--odoo-id N)")
        if self.page_size < 1:
            raise ConfigError(f"page size must be at least 1 (got {self.page_size})")
        if self.budget is not None and self.budget <= 0:
            raise ConfigError(f"the budget must be positive (got {self.budget} s)")
        if not 0 <= self.max_delete_share <= 1:
            raise ConfigError(f"max_delete_share must be between 0 and 1 (got {self.max_delete_share})")


@dataclass(frozen=True)
class Progress:
    """A progress event: ``phase`` is ``start``, ``page``, ``reconcile`` or ``done``."""

    stream: str
    phase: str
    counters: RunCounters
    done: int = 0
    total: int | None = None


@dataclass(frozen=True)
class StreamResult:
    """What one stream's run did (also stored as its ``ops.odoo_sync_runs`` row)."""

    stream: str
    model: str
    mode: str
    status: RunStatus
    counters: RunCounters
    remaining: bool = False
    duration_ms: int = 0
    run_id: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "model": self.model,
            "mode": self.mode,
            "status": str(self.status),
            **self.counters.as_dict(),
            "remaining": self.remaining,
            "duration_ms": self.duration_ms,
            "run_id": self.run_id,
            "error": self.error,
        }


@dataclass
class _Tally:
    fetched: int = 0
    rejected: int = 0
    writes: WriteCounts = field(default_factory=WriteCounts)

    def counters(self, requests: int, retries: int) -> RunCounters:
        w = self.writes
        return RunCounters(
            fetched=self.fetched, inserted=w.inserted, updated=w.updated, deleted=w.deleted,
            skipped=w.skipped, failed=w.failed, rpc_calls=requests, retries=retries, rejected=self.rejected,
        )


class PullEngine:
    """Runs streams against one Odoo client and one store (see the module docstring)."""

    def __init__(
        self,
        client: Any,
        store: Any,
        *,
        backend: str = "default",
        on_progress: Callable[[Progress], None] | None = None,
        parallel_streams: int = DEFAULT_PARALLEL_STREAMS,
    ):
        self.client = client
        self.store = store
        self.backend = backend
        self.on_progress = on_progress
        self.parallel_streams = max(1, parallel_streams)
        self.stopping = threading.Event()  # set: every run stops before its next page

    def run_many(self, streams: Sequence[Stream], options: PullOptions) -> list[StreamResult]:
        """Run ``streams`` under one budget, each as soon as the streams it comes
        ``after`` are done, up to ``parallel_streams`` at a time (requests in flight stay
        capped by the client). Results come in the order given.

        The first error stops new streams from starting; running ones finish their
        current page, then it is raised. Ctrl-C / SIGTERM (``KeyboardInterrupt``) makes
        every running stream stop before its next page (logged ``partial``), then
        re-raises. Streams the budget leaves no time for are reported ``remaining``.
        """
        budget = Budget(options.budget)
        selected = {s.name for s in streams}
        pending = _prerequisites_first(streams)
        results: dict[str, StreamResult] = {}
        done: set[str] = set()
        failure: BaseException | None = None
        with ThreadPoolExecutor(max_workers=self.parallel_streams, thread_name_prefix="odoosync-pull") as pool:
            running: dict[Future[StreamResult], Stream] = {}
            try:
                while pending or running:
                    for stream in list(pending):
                        if failure is not None:
                            pending.clear()
                            break
                        if any(d in selected and d not in done for d in stream.after):
                            continue
                        pending.remove(stream)
                        if not budget.allows_another_step():
                            results[stream.name] = StreamResult(
                                stream.name, stream.model, str(options.mode), RunStatus.PARTIAL, RunCounters(),
                                remaining=True, error="not started: budget used up",
                            )
                            done.add(stream.name)
                            continue
                        running[pool.submit(self.run, stream, options, budget=budget)] = stream
                    if not running:
                        continue
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        stream = running.pop(future)
                        done.add(stream.name)
                        try:
                            results[stream.name] = future.result()
                        except BaseException as exc:  # noqa: BLE001 - re-raised below
                            failure = failure or exc
            except KeyboardInterrupt:
                self.stopping.set()
                wait(running)
                raise
        if failure is not None:
            raise failure
        return [results[s.name] for s in streams if s.name in results]

    def run(self, stream: Stream, options: PullOptions, *, budget: Budget | None = None) -> StreamResult:
        """Run one stream; raises ``LockHeld`` (logged as skipped) or the run's error."""
        budget = budget or Budget(options.budget)
        key = checkpoint_key(self.backend, stream.name)
        mode = str(options.mode)
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(self.store.lock(key, {"stream": stream.name, "mode": mode}))
            except LockHeld as exc:
                runs.record_skipped(self.store, job=JOB, stream=stream.name, mode=mode,
                                    trigger=str(options.trigger), backend=self.backend, reason=str(exc))
                raise
            return _StreamRun(self, stream, options, budget, key).execute()

    def repair(self, stream: Stream, plan: Repair, options: PullOptions) -> StreamResult:
        """Sync exactly the records of ``plan`` (``odoosync verify --repair``) under the
        stream's lock, logged as a ``repair`` run; the stream's checkpoint is left alone."""
        key = checkpoint_key(self.backend, stream.name)
        with self.store.lock(key, {"stream": stream.name, "mode": "repair"}):
            return _StreamRun(self, stream, options, Budget(options.budget), key, repair=plan).execute()


@dataclass(frozen=True)
class Repair:
    """What a repair run does: read and write ``read`` (missing or stale in the database),
    and mark deleted those of ``gone`` that a direct read confirms Odoo no longer has,
    within the mass-delete limit counted on ``present`` rows."""

    read: tuple[int, ...] = ()
    gone: tuple[int, ...] = ()
    present: int = 0


def confirmed_gone(client: Any, stream: Stream, candidates: Sequence[int]) -> list[int]:
    """The candidates Odoo still does not return when asked for them by id (the stream's
    domain, archived included, no limit so nothing is dropped after one): the proof a
    row may be marked deleted."""
    still: set[int] = set()
    for start in range(0, len(candidates), ID_CHUNK):
        chunk = list(candidates[start : start + ID_CHUNK])
        found = client.search(stream.model, [*stream.domain, ("id", "in", chunk)], order="id", active_test=False)
        still.update(int(i) for i in found)
    return [i for i in candidates if i not in still]


def _prerequisites_first(streams: Sequence[Stream]) -> list[Stream]:
    """``streams`` in start order: those other streams wait for first (most waited-for
    first), so a long prerequisite such as partners does not queue behind small
    reference tables while leads wait for it; otherwise in the order given."""
    waiting_on: dict[str, int] = {s.name: 0 for s in streams}
    for stream in streams:
        for name in stream.after:
            if name in waiting_on:
                waiting_on[name] += 1
    return sorted(streams, key=lambda s: -waiting_on[s.name])


class _CountedClient:
    """The Odoo client as one run sees it, counting that run's requests and retries.

    Streams run side by side on one client, so the client's own counters mix them; each
    call made through this view is counted for its run (a call's retries are read from
    the client's counters around the call, exact unless two runs retry at once).
    """

    _CALLS = frozenset({"search", "search_read", "read", "search_count", "fields_get", "call", "execute",
                        "create", "write", "unlink", "field_types"})

    def __init__(self, client: Any):
        self._client = client
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in self._CALLS:
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            before = self._client.stats.snapshot()
            try:
                return attr(*args, **kwargs)
            finally:
                spent = self._client.stats.snapshot() - before
                with self._lock:
                    # field_types answers from the client's cache after the first time.
                    self.requests += min(spent.requests, 1) if name == "field_types" else 1 + spent.retries
                    self.retries += spent.retries

        return counted


class _StreamRun:
    """One run of one stream: its state, counters and budget (the engine's worker)."""

    def __init__(
        self, engine: PullEngine, stream: Stream, options: PullOptions, budget: Budget, key: str,
        *, repair: Repair | None = None,
    ):
        self.engine = engine
        self.repair = repair
        self.client = _CountedClient(engine.client)
        self.store = engine.store
        self.stream = stream
        self.options = options
        self.budget = budget
        self.key = key
        self.page_size = stream.page_size or options.page_size
        self.tally = _Tally()
        self.remaining = False
        self.ctx = PageContext(
            client=self.client, store=self.store, backend=engine.backend, company_id=options.company_id,
            force=options.mode == SyncMode.FULL,
        )
        self.fields: list[str] = []
        self.quarantined: set[int] = set()  # Odoo ids of this stream in ops.odoo_sync_rejects
        self.refused: set[int] = set()  # ... of which the database refused again in this run
        self.state = StreamState()
        self.stored_state: dict[str, Any] | None = None
        self.last_progress = 0.0
        self.run_id: int | None = None
        # The reconcile's first id chunk when the walk already has it: every id of a table
        # that fit in one page, or a search sent while the walk's last pages are written.
        self.first_ids: Future[list[int]] | list[int] | None = None

    # ------------------------------------------------------------------ lifecycle

    def execute(self) -> StreamResult:
        started = time.monotonic()
        self.mode = "repair" if self.repair is not None else str(self.options.mode)
        self.run_id = runs.start_run(
            self.store, job=JOB, stream=self.stream.name, mode=self.mode,
            trigger=str(self.options.trigger), backend=self.engine.backend,
            details={"model": self.stream.model, "budget": self.options.budget},
        )
        try:
            self._prepare()
            self._emit("start")
            self._work()
        except BaseException as exc:
            status = RunStatus.FAILED if isinstance(exc, Exception) else RunStatus.PARTIAL
            error = f"{type(exc).__name__}: {exc}"
            try:
                runs.finish_run(self.store, self.run_id, status, self._counters(), error=error,
                                remaining=status == RunStatus.PARTIAL)
            except Exception:  # the database may be what failed; keep the first error
                log.warning("could not log the end of run %s of %s", self.run_id, self.stream.name, exc_info=True)
            raise
        status = RunStatus.PARTIAL if self.remaining else RunStatus.OK
        counters = self._counters()
        runs.finish_run(self.store, self.run_id, status, counters, remaining=self.remaining,
                        details={"model": self.stream.model, "budget": self.options.budget})
        self._emit("done")
        return StreamResult(
            self.stream.name, self.stream.model, self.mode, status, counters,
            remaining=self.remaining, duration_ms=int((time.monotonic() - started) * 1000), run_id=self.run_id,
        )

    def _prepare(self) -> None:
        """Fields the server has (one ``fields_get``, which the client caches), the stored
        state, and the target's run-wide lookups."""
        available = self.client.field_types(self.stream.model)
        missing = self.stream.missing_fields(available)
        if missing:
            raise ConfigError(
                f"stream {self.stream.name!r}: model {self.stream.model} has no field(s) {', '.join(missing)} "
                f"on this Odoo server (check 'fields' in ops.odoo_sync_config)"
            )
        self.fields = self.stream.read_fields(available)
        with self.store.connect() as conn:
            self.stored_state = checkpoints.get(conn, self.key)
        self.state = StreamState.from_json(self.stored_state)
        self.stream.target.begin_run(self.ctx)
        self.quarantined = rejects.ids_of(self.store, backend=self.engine.backend, stream=self.stream.name)

    def _work(self) -> None:
        mode = self.options.mode
        if mode != SyncMode.RECORD:
            self._retry_quarantined()
        if self.repair is not None:
            self._repair(self.repair)
            return
        if mode == SyncMode.RECORD:
            self._one_record(int(self.options.odoo_id))  # type: ignore[arg-type]
            return
        if self.state.walk is not None or (mode == SyncMode.FULL) or (
            mode == SyncMode.INCREMENTAL and self.state.cursor is None
        ):
            if not self._walk():
                return
        elif mode == SyncMode.INCREMENTAL and not self._incremental():
            return
        if mode == SyncMode.MISSING and isinstance(self.stream.batching, ResIds):
            self._missing_by_parent(self.stream.batching)
        elif self._reconcile_follows():
            self._reconcile(fetch_missing=True)

    def _reconcile_follows(self) -> bool:
        """Whether this run ends with the id reconcile (``_work``)."""
        if self.options.mode == SyncMode.MISSING:
            return not isinstance(self.stream.batching, ResIds)
        return self.options.reconcile

    # ------------------------------------------------------------------ full walk

    def _walk(self) -> bool:
        """Walk every partition to its end; False when the budget stopped it.

        Reads run one round ahead of writes: as soon as a round's pages arrive (which
        fixes where each partition's keyset goes next) the next round is requested, and
        the pages just read are written while it is in flight. A checkpoint still names
        only committed pages, so a kill loses at most the rounds in flight.
        """
        walk = self.state.walk
        first_page: list[dict[str, Any]] | None = None
        if walk is None:
            walk, first_page = self._plan_walk()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoosync-read-ahead") as reader:
            ahead = self._read_round(reader, walk)
            if first_page is not None:
                self._set_walk(walk)
                self._commit_page(first_page)
            while ahead is not None:
                round_started = time.monotonic()
                active, pages = ahead.result()
                advanced = walk
                for (index, partition), records in zip(active, pages, strict=True):
                    last_id = int(records[-1]["id"]) if records else None
                    advanced = advanced.with_partition(index, partition.advanced(last_id))
                ahead = self._read_round(reader, advanced)
                if advanced.finished and self._reconcile_follows():
                    # Every page of the walk has been read, so Odoo's ids as of now cover
                    # everything the walk will write: the reconcile's search can go now.
                    self.first_ids = reader.submit(self._id_chunk, 0)
                for (index, _partition), records in zip(active, pages, strict=True):
                    walk = walk.with_partition(index, advanced.partitions[index]).reached(records)
                    self._set_walk(walk)
                    self._commit_page(records)
                self.budget.record(time.monotonic() - round_started)
        return walk.finished

    def _read_round(
        self, reader: ThreadPoolExecutor, walk: FullWalk
    ) -> Future[tuple[list[tuple[int, Partition]], list[list[dict[str, Any]]]]] | None:
        """Request the next page of every unfinished partition (in the background);
        None when the walk is done or the budget or a stop request ends it here."""
        if walk.finished or not self._may_continue():
            return None
        active = [(i, p) for i, p in enumerate(walk.partitions) if not p.done]

        def read() -> tuple[list[tuple[int, Partition]], list[list[dict[str, Any]]]]:
            return active, self.client.map_concurrent(lambda item: self._read(item[1].domain(), order="id"), active)

        return reader.submit(read)

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
                ids = self.client.search(self.stream.model, domain, limit=PROBE_ROWS, order="id desc", active_test=False)
                found: Any = max((int(i) for i in ids), default=None)
            else:
                found = self._read([("id", ">", 0)], order="id")
            return found, self.client.odoo_clock_at_last_call()

        round_started = time.monotonic()
        answers = self.client.map_concurrent(probe, ["high", "first"])
        high, first_page = (found for found, _ in answers)
        clocks = [clock for _, clock in answers]
        read_at = None if None in clocks else min(clocks)
        self.budget.record(time.monotonic() - round_started)
        start = Cursor.newest(first_page)
        if not first_page or (high is not None and int(first_page[-1]["id"]) >= high):
            self.first_ids = [int(r["id"]) for r in first_page]
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
            if not self._may_continue():
                return False
            page_started = time.monotonic()
            records = self._read(increment.domain(), order="id")
            if fresh:
                increment, fresh = dataclasses.replace(increment, read_at=self.client.odoo_clock_at_last_call()), False
            if records:
                increment = increment.advanced(int(records[-1]["id"]))
                cursor = Cursor.newest(records, self.state.cursor)
                self.state = dataclasses.replace(self.state, cursor=cursor, increment=increment)
            else:
                done = dataclasses.replace(self.state, increment=None)
                self.state = done.with_read_at(increment.read_at, overlap)
            self._commit_page(records)
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
                self._commit_page(records, checkpoint=False)
                if not records:  # never a short page: Odoo may filter rows after the LIMIT
                    return
                after = int(records[-1]["id"])
        records = self.client.search_read(self.stream.model, [("id", "=", odoo_id)], self.fields, active_test=False)
        if records:
            self._commit_page(records, checkpoint=False)
        else:
            self._mark_deleted([odoo_id])

    def _repair(self, plan: Repair) -> None:
        """Re-read ``plan.read`` by id (re-mapped even if unchanged) and mark deleted what
        of ``plan.gone`` Odoo confirms it no longer has."""
        self.ctx.force = True
        ids = sorted(plan.read)
        for start in range(0, len(ids), self.page_size):
            if not self._may_continue():
                return
            self._commit_page(self._read([("id", "in", ids[start : start + self.page_size])], order="id"),
                              checkpoint=False)
        gone = self._confirmed_gone(sorted(plan.gone))
        if gone:
            self._check_delete_share(len(gone), plan.present)
            self._mark_deleted(gone)

    # ------------------------------------------------------------------ reconcile

    def _reconcile(self, *, fetch_missing: bool) -> None:
        """Compare Odoo's ids with the database's, range by range (module docstring).

        Each id chunk proves which records exist in ``(after, its last id]`` (Odoo may
        drop a few ids after SQL's LIMIT, so a chunk's length proves nothing; the walk
        ends on an empty chunk). Records the database lacks are read and written as the
        chunks come. Rows Odoo did not list are only *candidates*: once the whole range
        has been enumerated they are read again directly, and only those still absent
        are marked deleted, and only within the stream's mass-delete limit. A run the
        budget stops before the end deletes nothing."""
        after = 0
        candidates: list[int] = []
        present_total = 0
        while True:
            if not self._may_continue():
                return
            step_started = time.monotonic()
            prefetched, self.first_ids = self.first_ids, None
            if prefetched is None or after:
                ids = self._id_chunk(after)
            else:
                ids = prefetched.result() if isinstance(prefetched, Future) else prefetched
            upto = int(ids[-1]) if ids else None
            with self.store.connect() as conn:
                present = self.stream.target.present_ids(conn, self.ctx, after, upto)
            present_total += len(present)
            in_odoo = {int(i) for i in ids}
            candidates.extend(sorted(present - in_odoo))
            lacking = sorted(in_odoo - present - self.quarantined)  # quarantined ones were just tried
            if fetch_missing and lacking:
                chunks = [lacking[i : i + self.page_size] for i in range(0, len(lacking), self.page_size)]
                for start in range(0, len(chunks), self._concurrency()):
                    batch = chunks[start : start + self._concurrency()]
                    pages = self.client.map_concurrent(lambda chunk: self._read([("id", "in", chunk)], order="id"), batch)
                    for records in pages:
                        self._commit_page(records, checkpoint=False)
            self._emit("reconcile")
            self.budget.record(time.monotonic() - step_started)
            if upto is None:
                break
            after = upto
        gone = self._confirmed_gone(candidates)
        if gone:
            self._check_delete_share(len(gone), present_total)
            self._mark_deleted(gone)

    def _confirmed_gone(self, candidates: list[int]) -> list[int]:
        """The candidates Odoo no longer has (:func:`confirmed_gone`)."""
        return confirmed_gone(self.client, self.stream, candidates)

    def _check_delete_share(self, deleting: int, present: int) -> None:
        """Refuse (``MassDeleteRefused``, nothing deleted) a reconcile that would delete
        every row of a non-empty stream, or more than ``max_delete_share`` of it and more
        than ``MASS_DELETE_FLOOR`` rows, unless the run allows mass deletes."""
        if self.options.allow_mass_delete or present <= 0:
            return
        share = deleting / present
        everything = deleting >= present
        if everything or (share > self.options.max_delete_share and deleting > MASS_DELETE_FLOOR):
            raise MassDeleteRefused(
                f"stream {self.stream.name!r}: refusing to delete {deleting:,} of {present:,} rows "
                f"({share:.0%}; the limit is {self.options.max_delete_share:.0%}"
                f"{' and never all of them' if everything else ''}) that Odoo no longer returns. "
                "Nothing was deleted. If Odoo really lost them (or the sync user lost access), re-run with "
                f"--allow-mass-delete (odoosync sync {self.stream.name} --allow-mass-delete); if not, check the "
                "sync user's rights and companies (ODOO_COMPANY_IDS).",
                stream=self.stream.name, deleting=deleting, present=present,
            )

    def _id_chunk(self, after: int) -> list[int]:
        """Odoo's next ``ID_CHUNK`` ids after ``after`` (ids only, archived included)."""
        return self.client.search(
            self.stream.model, [*self.stream.domain, ("id", ">", after)], limit=ID_CHUNK, order="id",
            active_test=False,
        )

    def _missing_by_parent(self, batching: ResIds) -> None:
        """``missing`` for records hanging off parents: only parents in the database with
        no child row at all (e.g. leads with zero ``lead_activities``), ``chunk`` parents
        per call. Ids are searched first, so parents that truly have no children cost an
        ids-only ``search`` and no record reads; nothing is marked deleted."""
        parent_table = schema.metadata.tables[batching.parent_table]
        target_table = self.stream.target.table
        link = next((fk for fk in target_table.foreign_keys if fk.column.table is parent_table), None)
        if link is None:
            raise ConfigError(f"stream {self.stream.name!r}: {target_table.name} has no foreign key to {parent_table.name}")
        parent_id = parent_table.c[batching.parent_id_column]
        query = sa.select(parent_id).where(
            parent_id.is_not(None),
            ~sa.exists().where(link.parent == link.column),
            *([parent_table.c.deleted_at.is_(None)] if "deleted_at" in parent_table.c else []),
        ).order_by(parent_id)
        per_round = batching.chunk * self._concurrency()
        after = 0
        while self._may_continue():
            with self.store.connect() as conn:
                parents = [int(i) for i in conn.execute(query.where(parent_id > after).limit(per_round)).scalars()]
            if not parents:
                return
            chunks = [parents[i : i + batching.chunk] for i in range(0, len(parents), batching.chunk)]
            for pages in self.client.map_concurrent(lambda chunk: self._children_of(batching, chunk), chunks):
                for records in pages:
                    self._commit_page(records, checkpoint=False)
            if len(parents) < per_round:
                return
            after = parents[-1]

    def _children_of(self, batching: ResIds, parents: list[int]) -> list[list[dict[str, Any]]]:
        """The pages of records hanging off ``parents`` (an ids-only ``search`` first)."""
        domain: list[Any] = [*self.stream.domain, (batching.res_id_field, "in", parents)]
        if batching.model_field:
            domain.append((batching.model_field, "=", batching.parent_model))
        ids = self.client.search(self.stream.model, domain, order="id", active_test=False)
        return [
            self._read([("id", "in", ids[i : i + self.page_size])], order="id")
            for i in range(0, len(ids), self.page_size)
        ]

    def _mark_deleted(self, odoo_ids: list[int]) -> None:
        with self.store.transaction(origin="pull") as conn:
            count = self.stream.target.mark_deleted(conn, self.ctx, odoo_ids)
        self.tally.writes.deleted += count

    # ------------------------------------------------------------------ pages

    def _read(self, extra_domain: list[Any], *, order: str) -> list[dict[str, Any]]:
        """One page: the stream's domain plus ``extra_domain``, archived records included.
        Records deleted between two calls simply do not come back."""
        return self.client.search_read(
            self.stream.model, [*self.stream.domain, *extra_domain], self.fields,
            limit=self.page_size, order=order, active_test=False,
        )

    def _commit_page(self, records: Sequence[Mapping[str, Any]], *, checkpoint: bool = True) -> None:
        """Write the page's changed records and the checkpoint in one transaction."""
        self.tally.fetched += len(records)
        target = self.stream.target
        if records and not self.ctx.force:
            with self.store.connect() as conn:
                changed = target.select_changed(self.ctx, conn, records)
        else:
            changed = list(records)
        if self.refused:  # refused earlier in this run: quarantined once per run
            changed = [r for r in changed if int(r["id"]) not in self.refused]
        self.tally.writes.skipped += len(records) - len(changed)
        new_state = self.state.to_json() if checkpoint else self.stored_state
        if changed or new_state != self.stored_state:
            try:
                with self.store.transaction(origin="pull") as conn:
                    counts = target.write_page(self.ctx, conn, changed)
                    if checkpoint and new_state is not None:
                        checkpoints.put(conn, self.key, new_state)
                    self._release(conn, changed)
            except StoreIntegrityError:
                if not changed:
                    raise
                counts = self._write_row_by_row(changed, new_state if checkpoint else None)
            self.tally.writes.add(counts)
            self.stored_state = new_state
        self._emit("page")

    # ------------------------------------------------------------------ quarantine

    def _write_row_by_row(self, records: Sequence[Mapping[str, Any]], state: dict[str, Any] | None) -> WriteCounts:
        """A page the database refused: each record in its own transaction; those still
        refused go to the quarantine (``pull/rejects.py``), the rest are written, then
        the checkpoint moves past the page."""
        target, counts = self.stream.target, WriteCounts()
        written = []
        for record in records:
            odoo_id = int(record["id"])
            try:
                with self.store.transaction(origin="pull") as conn:
                    counts.add(target.write_page(self.ctx, conn, [record]))
                written.append(record)
            except StoreIntegrityError as exc:
                log.warning("%s: Odoo record %s refused by the database, quarantined: %s", self.stream.name, odoo_id, exc)
                with self.store.transaction(origin="pull") as conn:
                    rejects.record(conn, backend=self.engine.backend, stream=self.stream.name, odoo_id=odoo_id,
                                   error=str(exc))
                self.refused.add(odoo_id)
                self.tally.rejected = len(self.refused)
                self.quarantined.add(odoo_id)
                self.ctx.cache.clear()  # lookups made in the rolled-back transaction are gone
                target.begin_run(self.ctx)
        with self.store.transaction(origin="pull") as conn:
            if state is not None:
                checkpoints.put(conn, self.key, state)
            self._release(conn, written)
        return counts

    def _release(self, conn: sa.Connection, written: Sequence[Mapping[str, Any]]) -> None:
        """Written records leave the quarantine (one statement, only while it holds some)."""
        if self.quarantined and written:
            done = self.quarantined & {int(r["id"]) for r in written}
            if done:
                rejects.clear(conn, backend=self.engine.backend, stream=self.stream.name, odoo_ids=done)
                self.quarantined -= done

    def _retry_quarantined(self) -> None:
        """Read the stream's quarantined records again and write them: those that pass
        (or that Odoo no longer has) leave the quarantine, the others count one more
        attempt. Runs first in every run of the stream."""
        if not self.quarantined:
            return
        ids = sorted(self.quarantined)
        found: set[int] = set()
        for start in range(0, len(ids), self.page_size):
            records = self._read([("id", "in", ids[start : start + self.page_size])], order="id")
            found.update(int(r["id"]) for r in records)
            self._commit_page(records, checkpoint=False)
        gone = self._confirmed_gone(sorted(set(ids) - found))
        if gone:
            with self.store.transaction(origin="pull") as conn:
                rejects.clear(conn, backend=self.engine.backend, stream=self.stream.name, odoo_ids=gone)
            self.quarantined -= set(gone)

    def _may_continue(self) -> bool:
        """False (and ``remaining``) when the budget or a stop request ends the run here."""
        if self.engine.stopping.is_set() or not self.budget.allows_another_step():
            self.remaining = True
            return False
        return True

    # ------------------------------------------------------------------ reporting

    def _concurrency(self) -> int:
        return max(1, int(getattr(self.client.config, "max_concurrency", 1)))

    def _counters(self) -> RunCounters:
        return self.tally.counters(self.client.requests, self.client.retries)

    def _emit(self, phase: str) -> None:
        now = time.monotonic()
        counters = None
        if phase != "page" or now - self.last_progress >= _PROGRESS_EVERY_SECONDS:
            self.last_progress = now
            counters = self._counters()
            if phase == "page" and self.run_id is not None:
                runs.update_progress(self.store, self.run_id, counters)
        if self.engine.on_progress is not None:
            self.engine.on_progress(
                Progress(self.stream.name, phase, counters or self._counters(), done=self.tally.fetched)
            )
