"""Keeping an outbox batch's lease while it runs (the push's heartbeat).

A claim leases its items for ``lease``; a batch that outlives it (a slow Odoo, a long
batch) would let another worker reclaim the items and push them a second time. While a
batch runs, :class:`LeaseKeeper` renews the lease every third of its length in a
background thread, and :meth:`LeaseKeeper.still_held` checks right before each Odoo call
(renewing where less than half a lease is left), so a worker that lost an item (its heartbeat starved, the database
unreachable for longer than the lease) stops calling Odoo for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable

from odoosync.exceptions import StoreError
from odoosync.push import outbox
from odoosync.store import Store

__all__ = ["LeaseKeeper"]

log = logging.getLogger("odoosync.push")


class LeaseKeeper:
    """Renews ``worker``'s lease on a batch's items until closed."""

    def __init__(
        self, store: Store, ids: Iterable[int], *, worker: str, lease: dt.timedelta, clock: Callable[[], dt.datetime]
    ) -> None:
        self.store = store
        self.worker = worker
        self.lease = lease
        self.clock = clock
        self._ids = set(ids)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{worker}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def still_held(self, ids: Iterable[int], *, renew: bool = False) -> set[int]:
        """Those of ``ids`` the worker still holds, each with at least half a lease to run
        (a read; renewed first where less is left, or for all with ``renew``). A lost one
        is forgotten: it belongs to whoever reclaimed it."""
        wanted = set(ids)
        now = self.clock()
        held = set() if renew else outbox.held(self.store, wanted, worker=self.worker, until=now + self.lease / 2)
        if held != wanted:
            held |= outbox.renew(self.store, wanted - held, worker=self.worker, now=now, lease=self.lease)
        lost = wanted - held
        if lost:
            log.warning("outbox items %s: lease lost to another worker; not calling Odoo for them", sorted(lost))
            with self._lock:
                self._ids -= lost
        return held

    def _beat(self) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.05)
        while not self._stop.wait(interval):
            with self._lock:
                ids = set(self._ids)
            try:
                self.still_held(ids, renew=True)
            except StoreError as exc:  # the next beat, or the check before a call, tries again
                log.warning("could not renew the outbox lease: %s", exc)
