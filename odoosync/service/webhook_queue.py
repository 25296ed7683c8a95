"""Pulls of single records on demand (Odoo webhooks), coalesced and retried until they see the edit.

Odoo's "Send Webhook Notification" action (``web/webhooks.py``) posts ``_model`` and
``_id`` from inside the transaction that made the change, *before* Odoo commits it
(Odoo 17 and 18, ``ir.actions.server._run_action_webhook``), and waits at most one
second for the answer. So the receiver only queues the record here and answers; the
pull happens a moment later, in this queue's worker thread:

1. **Coalesce.** Requests are keyed by what to pull (:class:`Target`); a burst of
   webhooks for one record is one pending pull. A message or an activity of a lead,
   whose payload names the lead (``model``/``res_id``, ``res_model``/``res_id``),
   becomes that lead's target straight away.
2. **Wait for the commit.** A pull is due ``settle`` seconds after the last webhook for
   it. Before pulling, one small read (a *probe*) checks that Odoo shows the record, and,
   when the payload carried ``write_date``, at least that ``write_date``. A record Odoo
   does not show yet (a create not committed) or shows older (a write not committed) is
   tried again later (1, 2, 4, 8 s), so a pull never settles for the old values.
3. **Pull** through the normal engine's one-record mode (``--odoo-id``): a lead with its
   chatter and activities, a partner, a message or an activity through its lead. The
   engine's upserts make a repeated pull a no-op (idempotent); a stream whose lock is
   held (a scheduled run is going) is tried again shortly.

A webhook that is lost, or a pull that gives up, costs freshness only: the regular
schedule reads the same records by ``write_date`` a minute later at most. That is what
makes the queue safe to bound against floods (10,000 webhooks for ids Odoo does not
have used to cost some 50,000 requests, and a real webhook waited behind them):

* **Bounded.** At most ``max_pending`` targets wait; a new one evicts a target already
  being retried (a retry is the likeliest junk), else it is dropped (``stats.dropped``).
* **Batched probes.** Due targets are probed together (the worker lingers a moment after
  the first is due), one ``search_read`` per model for up to ``probe_batch`` ids, so a
  flood costs a request per batch, not one per id.
* **Fresh first.** Targets never tried go before retries, so a real webhook is not
  starved by retries of unknown ids.
* Depth and drops are exported (``/metrics``, ``/api/metrics``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from odoosync.exceptions import LockHeld
from odoosync.models import SyncMode, Trigger
from odoosync.odoo.values import parse_datetime
from odoosync.pull import PullEngine, PullOptions
from odoosync.service.events import EventBus
from odoosync.store import Store
from odoosync.streams.base import Stream
from odoosync.streams.registry import select_streams

__all__ = [
    "WEBHOOK_MODELS",
    "Target",
    "Outcome",
    "PullQueue",
    "RecordPuller",
    "target_of",
    "QueueStats",
]

log = logging.getLogger("odoosync.webhooks")

LEAD = "crm.lead"
WEBHOOK_MODELS = ("crm.lead", "res.partner", "mail.message", "mail.activity")
"""Models whose webhooks we accept; anything else is refused (``422``)."""

_PARENT_FIELDS = {"mail.message": "model", "mail.activity": "res_model"}
_LEAD_FAMILY = ("crm.lead", "mail.message", "mail.activity")  # what one lead target pulls


@dataclass(frozen=True, order=True)
class Target:
    """What to pull: a lead (with its chatter and activities), a partner, or a message /
    activity whose lead is not known yet (the probe finds it)."""

    model: str
    odoo_id: int


def target_of(payload: Mapping[str, Any]) -> Target:
    """The target of a webhook payload (``_model`` and ``_id`` already validated)."""
    model, odoo_id = str(payload["_model"]), int(payload["_id"])
    parent_field = _PARENT_FIELDS.get(model)
    if parent_field is not None:
        parent, res_id = payload.get(parent_field), payload.get("res_id")
        if parent == LEAD and isinstance(res_id, int) and not isinstance(res_id, bool) and res_id > 0:
            return Target(LEAD, res_id)
    return Target(model, odoo_id)


class Outcome:
    """What the puller says about one attempt."""

    DONE = "done"
    NOT_YET = "not yet"  # Odoo does not show the change yet (not committed): try again
    BUSY = "busy"  # a stream's lock is held: try again


@dataclass
class QueueStats:
    """Counters for tests, the benchmark and ``/api/metrics``-style reporting."""

    received: int = 0
    coalesced: int = 0
    pulls: int = 0
    retries: int = 0
    given_up: int = 0
    failed: int = 0
    dropped: int = 0  # refused or evicted: the queue was full
    probes: int = 0  # batched reads that checked due targets

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass
class _Pending:
    due: float
    attempts: int = 0
    not_before_write: dt.datetime | None = None
    probe_id: int | None = None  # the record the webhook named (for a lead found via its message)
    probe_model: str | None = None


@dataclass
class PullQueue:
    """The coalescing, delayed queue and its one worker thread.

    ``pull(target, pending)`` returns an :class:`Outcome`. ``settle`` is the delay after
    the last webhook for a target; ``retry_delays`` are the waits after ``NOT_YET``,
    ``BUSY`` or an error, after which the target is given up (the schedule catches it).
    ``probe(model, [(id, not_before)])`` (optional) reads many targets at once and
    returns the records Odoo shows committed, by id; the others are ``NOT_YET`` without
    a pull, and ``pull`` gets the record as ``pending["record"]``.
    """

    pull: Callable[[Target, Mapping[str, Any]], str]
    settle: float = 0.5
    retry_delays: Sequence[float] = (1.0, 2.0, 4.0, 8.0)
    stopping: threading.Event = field(default_factory=threading.Event)
    stats: QueueStats = field(default_factory=QueueStats)
    probe: Callable[[str, Sequence[tuple[int, dt.datetime | None]]], Mapping[int, Mapping[str, Any]]] | None = None
    max_pending: int = 2000
    probe_batch: int = 200
    linger: float = 0.25  # once one target is due, wait this long for others to join its batch

    def __post_init__(self) -> None:
        self._pending: dict[Target, _Pending] = {}
        self._in_flight: set[Target] = set()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(
        self,
        target: Target,
        *,
        write_date: dt.datetime | None = None,
        probe: tuple[str, int] | None = None,
    ) -> None:
        """Queue a pull of ``target`` (never blocks on Odoo or the database)."""
        with self._wake:
            self.stats.received += 1
            due = time.monotonic() + self.settle
            pending = self._pending.get(target)
            if pending is None:
                if len(self._pending) >= self.max_pending and not self._evict_a_retry():
                    self.stats.dropped += 1
                    return
                pending = self._pending[target] = _Pending(due)
            else:
                self.stats.coalesced += 1
                pending.due = max(pending.due, due)
                pending.attempts = 0
            if write_date is not None and (pending.not_before_write is None or write_date > pending.not_before_write):
                pending.not_before_write = write_date
                pending.probe_model, pending.probe_id = probe if probe else (target.model, target.odoo_id)
            self._ensure_worker()
            self._wake.notify()

    def _evict_a_retry(self) -> bool:
        """Called with the lock held: make room by dropping the most-retried target."""
        retried = [(p.attempts, t) for t, p in self._pending.items() if p.attempts > 0]
        if not retried:
            return False
        _, target = max(retried, key=lambda item: item[0])
        del self._pending[target]
        self.stats.dropped += 1
        return True

    def pending(self) -> int:
        """Targets waiting or being pulled (the queue's depth)."""
        with self._wake:
            return len(self._pending) + len(self._in_flight)

    def problem(self) -> str | None:
        """For ``/api/health``: None unless targets wait for a worker that is gone."""
        with self._wake:
            alive = self._thread is not None and self._thread.is_alive()
            if self._pending and not alive and not self.stopping.is_set():
                return f"worker not running, {len(self._pending)} pull(s) waiting"
        return None

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is pending (tests, the benchmark); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._wake:
            while self._pending or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.05))
            return True

    def stop(self) -> None:
        self.stopping.set()
        with self._wake:
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(10)

    # ------------------------------------------------------------------ worker

    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="webhook-pulls", daemon=True)
            self._thread.start()

    def _next_due(self) -> list[tuple[Target, _Pending]] | None:
        """Take the due targets (fresh ones first, at most ``probe_batch``), waiting for
        the first; None when stopping."""
        with self._wake:
            while not self.stopping.is_set():
                if self._pending:
                    now = time.monotonic()
                    first = min(p.due for p in self._pending.values())
                    full = sum(1 for p in self._pending.values() if p.due <= now) >= self.probe_batch
                    wait = first + (0 if full else self.linger) - now
                    if wait <= 0:
                        due = sorted(
                            ((t, p) for t, p in self._pending.items() if p.due <= now),
                            key=lambda item: (item[1].attempts > 0, item[1].due),
                        )[: self.probe_batch]
                        for target, _ in due:
                            del self._pending[target]
                            self._in_flight.add(target)
                        return due
                    self._wake.wait(wait)
                else:
                    self._wake.wait(1.0)
            return None

    def _work(self) -> None:
        while (batch := self._next_due()) is not None:
            shown = self._probe(batch)
            for target, pending in batch:
                outcome = "error"
                try:
                    if shown is not None and _probe_key(target, pending) not in shown:
                        outcome = Outcome.NOT_YET  # not in Odoo (yet): no pull, no request
                    else:
                        record = shown.get(_probe_key(target, pending)) if shown is not None else None
                        outcome = self._attempt(target, pending, record)
                finally:
                    with self._wake:
                        self._in_flight.discard(target)
                        if outcome != Outcome.DONE:
                            self._retry(target, pending)
                        self._wake.notify_all()

    def _probe(self, batch: list[tuple[Target, _Pending]]) -> dict[tuple[str, int], Mapping[str, Any]] | None:
        """One read per model for the whole batch; None without a probe or when it failed
        (each target is then pulled, or fails, on its own)."""
        if self.probe is None:
            return None
        by_model: dict[str, list[tuple[int, dt.datetime | None]]] = {}
        for target, pending in batch:
            model, odoo_id = _probe_key(target, pending)
            by_model.setdefault(model, []).append((odoo_id, pending.not_before_write))
        shown: dict[tuple[str, int], Mapping[str, Any]] = {}
        try:
            for model, items in by_model.items():
                self.stats.probes += 1
                shown.update({(model, odoo_id): record for odoo_id, record in self.probe(model, items).items()})
        except Exception as exc:  # noqa: BLE001 - retried, then left to the schedule
            log.warning("webhook probe failed: %s: %s", type(exc).__name__, exc)
            return None
        return shown

    def _attempt(self, target: Target, pending: _Pending, record: Mapping[str, Any] | None = None) -> str:
        self.stats.pulls += 1
        try:
            return self.pull(target, {**dataclasses.asdict(pending), "record": record})
        except Exception as exc:  # noqa: BLE001 - retried, then left to the schedule
            self.stats.failed += 1
            log.warning("webhook pull of %s %s failed: %s: %s", target.model, target.odoo_id, type(exc).__name__, exc)
            return "error"

    def _retry(self, target: Target, pending: _Pending) -> None:
        """Called with the lock held. A newer webhook for the target already re-queued it."""
        if target in self._pending:
            return
        if pending.attempts >= len(self.retry_delays) or self.stopping.is_set():
            self.stats.given_up += 1
            log.info("webhook pull of %s %s given up; the schedule will bring it", target.model, target.odoo_id)
            return
        self.stats.retries += 1
        delay = self.retry_delays[pending.attempts]
        self._pending[target] = dataclasses.replace(
            pending, due=time.monotonic() + delay, attempts=pending.attempts + 1
        )


def _probe_key(target: Target, pending: _Pending) -> tuple[str, int]:
    """What the probe reads for a target: the record the webhook named, else the target."""
    return (pending.probe_model or target.model, pending.probe_id or target.odoo_id)


class RecordPuller:
    """Pulls one :class:`Target` through the pull engine's one-record mode.

    ``client`` is an open Odoo client; ``streams`` the catalogue (``Jobs.catalog``).
    Each pull publishes ``record.pulled`` on ``events`` (the dashboard refreshes).
    """

    def __init__(
        self,
        store: Store,
        client: Any,
        streams: Callable[[], list[Stream]],
        *,
        backend: str = "default",
        events: EventBus | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.streams = streams
        self.backend = backend
        self.events = events
        self.stopping = stopping or threading.Event()

    def __call__(self, target: Target, pending: Mapping[str, Any]) -> str:
        if self.stopping.is_set():
            return Outcome.DONE  # the service is stopping: the next start's catch-up brings it
        found = pending.get("record")
        if found is None:
            probe_model = pending.get("probe_model") or target.model
            probe_id = pending.get("probe_id") or target.odoo_id
            found = self.probe_many(probe_model, [(probe_id, pending.get("not_before_write"))]).get(probe_id)
        if found is None:
            return Outcome.NOT_YET
        lead_id = self._lead_of(target, found) if target.model in _PARENT_FIELDS else None
        if target.model in _PARENT_FIELDS and lead_id is None:
            return Outcome.DONE  # a message or activity of something that is not a lead
        if target.model == "res.partner":
            plan = [("res.partner", target.odoo_id)]
        else:
            lead = lead_id if lead_id is not None else target.odoo_id
            plan = [(model, lead) for model in _LEAD_FAMILY]
        catalog = self.streams()
        counters: dict[str, int] = {}
        for model, odoo_id in plan:
            if self.stopping.is_set():
                return Outcome.DONE
            stream = select_streams(model, catalog)[0]
            engine = PullEngine(self.client, self.store, backend=self.backend)
            try:
                result = engine.run(stream, PullOptions(mode=SyncMode.RECORD, odoo_id=odoo_id, trigger=Trigger.WEBHOOK))
            except LockHeld:
                return Outcome.BUSY
            for name, value in result.counters.as_dict().items():
                counters[name] = counters.get(name, 0) + value
        if self.events is not None:
            self.events.publish("record.pulled", model=plan[0][0], odoo_id=plan[0][1], **counters)
        return Outcome.DONE

    def probe_many(self, model: str, items: Sequence[tuple[int, dt.datetime | None]]) -> dict[int, dict[str, Any]]:
        """The records Odoo shows committed (at least as new as their webhook said), by id;
        one request for all of them."""
        fields = ["write_date", *([_PARENT_FIELDS[model], "res_id"] if model in _PARENT_FIELDS else [])]
        not_before = dict(items)
        records = self.client.search_read(
            model, [("id", "in", sorted(not_before))], fields, active_test=False, normalize=False
        )
        shown: dict[int, dict[str, Any]] = {}
        for record in records:
            wanted = not_before.get(int(record["id"]))
            seen = record.get("write_date")
            if wanted is not None and (not seen or parse_datetime(str(seen)) < _whole_second(wanted)):
                continue  # Odoo does not show the change yet
            shown[int(record["id"])] = record
        return shown

    def _lead_of(self, target: Target, record: Mapping[str, Any]) -> int | None:
        parent = record.get(_PARENT_FIELDS[target.model])
        res_id = record.get("res_id")
        return int(res_id) if parent == LEAD and res_id else None


def _whole_second(value: dt.datetime) -> dt.datetime:
    """Odoo's RPC shows write_date to the second; a payload may carry microseconds."""
    return value.replace(microsecond=0)
