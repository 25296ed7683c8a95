"""The push engine: claimed outbox items → Odoo calls → bindings and outcomes.

A pass (:meth:`PushEngine.push_batch`) **claims** a batch (``outbox.claim``),
**coalesces** it per record (``coalesce``) and hands it to a :class:`~odoosync.push.batch.BatchPush`:
plan (``plan``), conflicts (``conflict_check``), Odoo calls (``calls``), settle
(``settle``). :meth:`PushEngine.push_all` keeps several batches in flight together
(the claim keeps each record's items in one batch, in queue order; a batch waits for an
earlier one that creates the leads its notes and activities belong to). The batch's lease is renewed while it runs (``lease.LeaseKeeper``) and
checked before every Odoo call: an item another worker reclaimed is not pushed a second
time. Transient failures are rescheduled with backoff (``PushPolicy.decide``). Time comes
from an injectable clock.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import sqlalchemy as sa

from odoosync.odoo.client import OdooClient
from odoosync.push import outbox
from odoosync.push.batch import MODEL_ORDER, BatchPush
from odoosync.push.binder import Binder
from odoosync.push.calls import OdooCalls
from odoosync.push.coalesce import Change, coalesce
from odoosync.push.conflict_check import ConflictCheck
from odoosync.push.lease import LeaseKeeper
from odoosync.push.plan import Planner
from odoosync.push.policy import CONFIG_PREFIX, PushPolicy, parse_policy
from odoosync.push.result import PushResult
from odoosync.push.settle import Settler
from odoosync.store import Store
from odoosync.store.schema import odoo_sync_config
from odoosync.streams import chatter

__all__ = ["PushEngine", "PushResult", "Clock", "load_policies", "MODEL_ORDER", "DEFAULT_LEASE"]

Clock = Callable[[], dt.datetime]
DEFAULT_LEASE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class _Claimed:
    """A claimed batch: its items, their net changes, the batches in flight it waits for."""

    item_ids: list[int]
    changes: list[Change]
    parents: set[threading.Event]
    done: threading.Event


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def load_policies(store: Store) -> dict[str, PushPolicy]:
    """Every ``sb_to_odoo:<model>`` policy in ``ops.odoo_sync_config``, validated."""
    with store.connect() as conn:
        rows = conn.execute(
            sa.select(odoo_sync_config.c.key, odoo_sync_config.c.value).where(
                odoo_sync_config.c.key.startswith(CONFIG_PREFIX)
            )
        ).all()
    return {key[len(CONFIG_PREFIX) :]: parse_policy(key[len(CONFIG_PREFIX) :], value) for key, value in rows}


class PushEngine:
    """Pushes claimed outbox items to one Odoo backend."""

    def __init__(
        self,
        store: Store,
        client: OdooClient,
        *,
        backend: str = "default",
        worker: str | None = None,
        clock: Clock = _utcnow,
        lease: dt.timedelta = DEFAULT_LEASE,
        policies: Mapping[str, PushPolicy] | None = None,
        after_odoo_call: Callable[[str], None] | None = None,
        models: Sequence[str] | None = None,
    ):
        self.store = store
        self.client = client
        self.backend = backend
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.clock = clock
        self.lease = lease
        self.policies = dict(policies) if policies is not None else load_policies(store)
        self._after_odoo_call = after_odoo_call
        self.models = tuple(models) if models else None  # push only these models' items
        self._binder = Binder(store, client, backend=backend)  # each batch's binder shares its name caches
        self._subtypes: dict[int, chatter.Subtype] = {}
        self._creating: dict[tuple[str, int], threading.Event] = {}  # leads in batches in flight → their batch
        self._creating_lock = threading.Lock()

    def policy(self, model: str) -> PushPolicy:
        return self.policies.get(model, PushPolicy())

    def push_batch(self, limit: int | None = None) -> PushResult:
        """Claim one batch, push it, settle every item; the result of this pass."""
        before = self.client.stats.snapshot().requests
        claimed = self._claim(limit)
        result = self._push(claimed) if claimed is not None else PushResult()
        result.rpc_calls = self.client.stats.snapshot().requests - before
        return result

    def push_all(self, *, max_passes: int = 1000) -> PushResult:
        """Passes until nothing is ready (items in backoff wait for a later run).

        Up to the client's concurrency limit of batches are in flight together, each
        claimed in queue order; a batch whose notes or activities belong to a lead that
        an earlier batch still in flight creates waits for that batch first."""
        total = PushResult()
        before = self.client.stats.snapshot().requests
        slots = max(1, self.client.config.max_concurrency)
        passes = 0
        in_flight: set[Future[PushResult]] = set()
        with ThreadPoolExecutor(max_workers=slots, thread_name_prefix="odoosync-push") as pool:
            while True:
                while len(in_flight) < slots and passes < max_passes:
                    claimed = self._claim(None)
                    passes += 1
                    if claimed is None:
                        break
                    in_flight.add(pool.submit(self._push, claimed))
                if not in_flight:
                    break
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    total.add(future.result())
        total.rpc_calls = self.client.stats.snapshot().requests - before
        return total

    def _claim(self, limit: int | None) -> _Claimed | None:
        """Claim a batch (None: nothing ready) and note the leads it may create, so later
        batches that need them wait for this one."""
        batch = limit or max((p.max_batch for p in self.policies.values()), default=PushPolicy().max_batch)
        if self.models and limit is None:
            batch = min(self.policy(m).max_batch for m in self.models)
        rows = outbox.claim(
            self.store,
            worker=self.worker,
            now=self.clock(),
            lease=self.lease,
            limit=batch,
            backend=self.backend,
            models=self.models,
        )
        if not rows:
            return None
        changes = coalesce(row.as_queued() for row in rows)
        done = threading.Event()
        with self._creating_lock:
            earlier = dict(self._creating)
            for change in changes:
                if change.local_table == "leads" and change.local_id is not None:
                    self._creating[("leads", change.local_id)] = done
        parents = {
            earlier[key]
            for key in (("leads", int(c.values["lead_id"])) for c in changes if c.values.get("lead_id") is not None)
            if key in earlier
        }
        return _Claimed([row.id for row in rows], changes, parents, done)

    def _push(self, claimed: _Claimed) -> PushResult:
        """Push one claimed batch (in any thread), once the batches it depends on are done."""
        result = PushResult(claimed=len(claimed.item_ids))
        try:
            keeper = LeaseKeeper(self.store, claimed.item_ids, worker=self.worker, lease=self.lease, clock=self.clock)
            with keeper:
                for parent in claimed.parents:
                    parent.wait(self.lease.total_seconds())
                self._batch(self._binder.for_batch(), keeper).run(claimed.changes, result)
        finally:
            with self._creating_lock:
                for key in [k for k, event in self._creating.items() if event is claimed.done]:
                    del self._creating[key]
            claimed.done.set()
        return result

    def _batch(self, binder: Binder, keeper: LeaseKeeper) -> BatchPush:
        settler = Settler(
            self.store,
            self.client,
            binder,
            worker=self.worker,
            clock=self.clock,
            policy=self.policy,
            subtypes=self._subtypes,
        )
        return BatchPush(
            Planner(self.store, binder, backend=self.backend),
            ConflictCheck(self.store, self.client, backend=self.backend, clock=self.clock),
            OdooCalls(self.client, binder, backend=self.backend),
            settler,
            lease=keeper,
            policies=self.policies,
            after_call=self._after_odoo_call,
        )
