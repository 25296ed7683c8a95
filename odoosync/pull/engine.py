"""The pull engine: run a stream from Odoo into the database.

One run of one stream, under the stream's lock, logged in ``ops.odoo_sync_runs``:

1. **Resume or start.** The stream's :class:`~odoosync.cursor.StreamState` is read from
   its checkpoint. An unfinished full walk is always resumed first.
2. **Read pages.**
   * ``full`` (or the first run of a stream, or a walk to resume): the first page and
     the highest id are read in one concurrent round; a first page that reaches that id
     holds the whole table, otherwise the rest of the range up to it is cut into
     partitions (``pull.plan``) walked by id keyset, one page per partition per round,
     the round's pages fetched concurrently (``client.map_concurrent``, bounded). Reads
     run ahead of writes (``pull/rounds.py``): the next round is read and prepared
     while one is written. No page length ends a partition: Odoo drops rows the user may not read
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
   outbox triggers ignore it; a full walk's round of partition pages is one page here,
   one transaction and one checkpoint past all of them): unchanged records are skipped
   before any write, the rest
   mapped and upserted with one multi-row statement per table. A page with nothing to
   write and no checkpoint move opens no write transaction at all.

``run_many`` (``sync all``) runs independent streams side by side (``parallel_streams``,
default 4; the client still caps the requests in flight), so the reference streams and
partners load together, then leads, then chatter and activities. A stream starts once
the streams it comes ``after`` have started, reads its first pages, and waits for them
to be done before its first write or database read (``pull/prerequisites.py``): its
records then find their parents, and Odoo's answers are already in hand. Streams
others wait for start first.

A time budget stops the run between rounds, before the deadline, with ``remaining``.
Memory is bounded by two rounds of ``partitions × page_size`` records (the one being
written and the one read ahead, ``ROUNDS_HELD``) and the walk's first page, plus the ids a
reconcile lists at once (one chunk, or up to eight after a walk). A kill at any
point loses at most the pages not yet committed, which the next run reads again; writes
are idempotent upserts, so nothing is duplicated.

The engine reads no environment and prints nothing: progress goes to a callback.

Where each part lives: this module orders and starts runs; ``pull/run.py`` is one
stream's run (its walks); ``pull/pages.py`` writes pages and keeps the quarantine;
``pull/reconcile.py`` lists ids and deletes on proof; ``pull/options.py`` holds the
options and results.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from odoosync.exceptions import LockHeld
from odoosync.models import RunCounters, RunStatus
from odoosync.odoo.reader import MeteredReader
from odoosync.pull.budget import Budget
from odoosync.pull.options import (
    DEFAULT_MAX_DELETE_SHARE,
    DEFAULT_PAGE_SIZE,
    DEFAULT_PARALLEL_STREAMS,
    JOB,
    Progress,
    PullOptions,
    Repair,
    StreamResult,
    checkpoint_key,
)
from odoosync.pull.prerequisites import Prerequisite
from odoosync.pull.run import StreamRun
from odoosync.store import runs
from odoosync.store.port import PullStore
from odoosync.streams.base import Stream

__all__ = [
    "DEFAULT_MAX_DELETE_SHARE",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_PARALLEL_STREAMS",
    "JOB",
    "PullOptions",
    "Progress",
    "StreamResult",
    "PullEngine",
    "Repair",
    "checkpoint_key",
]


class PullEngine:
    """Runs streams against one Odoo client and one store (see the module docstring)."""

    def __init__(
        self,
        client: MeteredReader,
        store: PullStore,
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
        prerequisites = {s.name: Prerequisite(s.name) for s in streams}
        pending = _prerequisites_first(streams)
        results: dict[str, StreamResult] = {}
        started: set[str] = set()
        failure: BaseException | None = None

        def start_ready(pool: ThreadPoolExecutor, running: dict[Future[StreamResult], Stream]) -> None:
            """Start every pending stream whose prerequisites have started, and scan
            again while one starts: it may let the streams after it start."""
            starting = True
            while starting:
                starting = False
                for stream in list(pending):
                    if any(d in prerequisites and d not in started for d in stream.after):
                        continue
                    pending.remove(stream)
                    started.add(stream.name)
                    starting = True
                    if not budget.allows_another_step():
                        results[stream.name] = StreamResult(
                            stream.name,
                            stream.model,
                            str(options.mode),
                            RunStatus.PARTIAL,
                            RunCounters(),
                            remaining=True,
                            error="not started: budget used up",
                        )
                        prerequisites[stream.name].finish(failed=True)
                        continue
                    after = [prerequisites[d] for d in stream.after if d in prerequisites]
                    running[pool.submit(self.run, stream, options, budget=budget, after=after)] = stream

        with ThreadPoolExecutor(max_workers=self.parallel_streams, thread_name_prefix="odoosync-pull") as pool:
            running: dict[Future[StreamResult], Stream] = {}
            try:
                while pending or running:
                    if failure is None:
                        start_ready(pool, running)
                    else:
                        pending.clear()
                    if not running:
                        continue
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        stream = running.pop(future)
                        try:
                            results[stream.name] = future.result()
                        except BaseException as exc:  # noqa: BLE001 - re-raised below
                            failure = failure or exc
                        prerequisites[stream.name].finish(failed=stream.name not in results)
            except KeyboardInterrupt:
                self.stopping.set()
                wait(running)
                raise
        if failure is not None:
            raise failure
        return [results[s.name] for s in streams if s.name in results]

    def run(
        self,
        stream: Stream,
        options: PullOptions,
        *,
        budget: Budget | None = None,
        after: Sequence[Prerequisite] = (),
    ) -> StreamResult:
        """Run one stream, writing once the streams ``after`` are done; raises
        ``LockHeld`` (logged as skipped) or the run's error."""
        budget = budget or Budget(options.budget)
        key = checkpoint_key(self.backend, stream.name)
        mode = str(options.mode)
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(self.store.lock(key, {"stream": stream.name, "mode": mode}))
            except LockHeld as exc:
                runs.record_skipped(
                    self.store,
                    job=JOB,
                    stream=stream.name,
                    mode=mode,
                    trigger=str(options.trigger),
                    backend=self.backend,
                    reason=str(exc),
                )
                raise
            return StreamRun(self, stream, options, budget, key, after=after).execute()

    def repair(self, stream: Stream, plan: Repair, options: PullOptions) -> StreamResult:
        """Sync exactly the records of ``plan`` (``odoosync verify --repair``) under the
        stream's lock, logged as a ``repair`` run; the stream's checkpoint is left alone."""
        key = checkpoint_key(self.backend, stream.name)
        with self.store.lock(key, {"stream": stream.name, "mode": "repair"}):
            return StreamRun(self, stream, options, Budget(options.budget), key, repair=plan).execute()


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
