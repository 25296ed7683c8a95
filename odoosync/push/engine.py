"""The push engine: claimed outbox items → Odoo calls → bindings and outcomes.

A pass (:meth:`PushEngine.push_batch`) **claims** a batch (``outbox.claim``),
**coalesces** it per record (``coalesce``) and hands it to a :class:`~odoosync.push.batch.BatchPush`:
plan (``plan``), conflicts (``conflict_check``), Odoo calls (``calls``), settle
(``settle``). The batch's lease is renewed while it runs (``lease.LeaseKeeper``) and
checked before every Odoo call: an item another worker reclaimed is not pushed a second
time. Transient failures are rescheduled with backoff (``PushPolicy.decide``). Time comes
from an injectable clock.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Mapping, Sequence

import sqlalchemy as sa

from odoosync.odoo.client import OdooClient
from odoosync.push import outbox
from odoosync.push.batch import MODEL_ORDER, BatchPush
from odoosync.push.binder import Binder
from odoosync.push.calls import OdooCalls
from odoosync.push.coalesce import coalesce
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


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def load_policies(store: Store) -> dict[str, PushPolicy]:
    """Every ``sb_to_odoo:<model>`` policy in ``ops.odoo_sync_config``, validated."""
    with store.connect() as conn:
        rows = conn.execute(
            sa.select(odoo_sync_config.c.key, odoo_sync_config.c.value).where(odoo_sync_config.c.key.startswith(CONFIG_PREFIX))
        ).all()
    return {key[len(CONFIG_PREFIX):]: parse_policy(key[len(CONFIG_PREFIX):], value) for key, value in rows}


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
        self._binder = Binder(store, client, backend=backend)
        self._subtypes: dict[int, chatter.Subtype] = {}

    def policy(self, model: str) -> PushPolicy:
        return self.policies.get(model, PushPolicy())

    def push_batch(self, limit: int | None = None) -> PushResult:
        """Claim one batch, push it, settle every item; the result of this pass."""
        result = PushResult()
        batch = limit or max((p.max_batch for p in self.policies.values()), default=PushPolicy().max_batch)
        if self.models and limit is None:
            batch = min(self.policy(m).max_batch for m in self.models)
        rows = outbox.claim(self.store, worker=self.worker, now=self.clock(), lease=self.lease, limit=batch,
                            backend=self.backend, models=self.models)
        result.claimed = len(rows)
        if not rows:
            return result
        before = self.client.stats.snapshot().requests
        binder = self._binder
        binder.reset_bindings()
        changes = coalesce(row.as_queued() for row in rows)
        keeper = LeaseKeeper(self.store, [row.id for row in rows], worker=self.worker, lease=self.lease, clock=self.clock)
        with keeper:
            self._batch(binder, keeper).run(changes, result)
        result.rpc_calls = self.client.stats.snapshot().requests - before
        return result

    def push_all(self, *, max_passes: int = 1000) -> PushResult:
        """Passes until nothing is ready (items in backoff wait for a later run)."""
        total = PushResult()
        for _ in range(max_passes):
            result = self.push_batch()
            total.add(result)
            if result.claimed == 0:
                break
        return total

    def _batch(self, binder: Binder, keeper: LeaseKeeper) -> BatchPush:
        settler = Settler(self.store, self.client, binder, worker=self.worker, clock=self.clock, policy=self.policy,
                          subtypes=self._subtypes)
        return BatchPush(
            Planner(self.store, binder, backend=self.backend),
            ConflictCheck(self.store, self.client, backend=self.backend, clock=self.clock),
            OdooCalls(self.client, binder, backend=self.backend),
            settler, lease=keeper, policies=self.policies, after_call=self._after_odoo_call,
        )
