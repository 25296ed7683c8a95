"""One claimed batch pushed: the OCA exporter's template method applied to a whole batch.

Per model, parents first (partners, leads, then activities and notes, so a note on a lead
created in the same batch finds the lead's new id):

1. **skip** no-ops and **plan** each change (``plan.Planner``: dependencies, mapping);
2. **conflicts**: one ``read`` of the records about to be written (``ConflictCheck``);
3. **call** Odoo, batched where it allows (``calls.OdooCalls``); the calls of a step are
   independent (different records or notes), so they are in flight together, bounded by
   the client's concurrency limit; each only for items whose lease the worker still holds
   (renewed and checked right before it);
4. **settle** (``settle.Settler``): bind, read back, mark done, or reschedule / fail.

A batched call that fails permanently is split and retried item by item in the same pass,
so one poison item fails alone.
"""

from __future__ import annotations

from collections.abc import Callable

from odoosync.exceptions import MissingRecord, OdooError, OdooPermanentError
from odoosync.push.calls import OdooCalls
from odoosync.push.coalesce import Change
from odoosync.push.conflict_check import ConflictCheck
from odoosync.push.lease import LeaseKeeper
from odoosync.push.plan import Planner, Task, Wait, wanted_bindings
from odoosync.push.policy import PushPolicy
from odoosync.push.result import PushResult
from odoosync.push.settle import Settler

__all__ = ["BatchPush", "MODEL_ORDER"]

MODEL_ORDER = ("res.partner", "crm.lead", "mail.activity", "mail.message")
_COUNTERS = {"create": "created", "post": "created", "unlink": "deleted", "archive": "deleted"}
_SENT, _LOST, _GONE = "sent", "lost", "gone"  # a group's outcome, or the OdooError it met
_Outcome = tuple[list[Task], str | OdooError]


class BatchPush:
    """The steps of one batch; the engine builds one per claimed batch."""

    def __init__(
        self,
        planner: Planner,
        conflicts: ConflictCheck,
        calls: OdooCalls,
        settler: Settler,
        *,
        lease: LeaseKeeper | None,
        policies: dict[str, PushPolicy],
        after_call: Callable[[str], None] | None = None,
    ):
        self.planner = planner
        self.conflicts = conflicts
        self.calls = calls
        self.settler = settler
        self.lease = lease
        self.policies = policies
        self.after_call = after_call

    def run(self, changes: list[Change], result: PushResult) -> None:
        """Push ``changes`` model by model, parents first."""
        by_model: dict[str, list[Change]] = {}
        for change in changes:
            by_model.setdefault(change.model, []).append(change)
        for model in sorted(by_model, key=lambda m: MODEL_ORDER.index(m) if m in MODEL_ORDER else len(MODEL_ORDER)):
            self._push_model(model, by_model[model], result)

    def _policy(self, model: str) -> PushPolicy:
        return self.policies.get(model, PushPolicy())

    def _push_model(self, model: str, changes: list[Change], result: PushResult) -> None:
        policy = self._policy(model)
        self.planner.binder.preload(wanted_bindings(changes))
        tasks: list[Task] = []
        for change in changes:
            try:
                tasks.append(self.planner.plan(change, policy))
            except Wait as wait:
                self.settler.wait(change, str(wait), result)
            except OdooError as exc:
                self.settler.error([change], exc, result)
        groups: dict[str, list[Task]] = {}
        for task in tasks:
            groups.setdefault(task.kind, []).append(task)
        if groups.get("noop"):
            self.settler.done(groups.pop("noop"), result, counter="skipped")
        if "write" in groups or "archive" in groups:
            kept = self._check_conflicts([*groups.pop("write", []), *groups.pop("archive", [])], policy, result)
            for task in kept:
                groups.setdefault(task.kind, []).append(task)
        for kind in ("create", "write", "archive", "unlink", "feedback", "post", "call"):
            if groups.get(kind):
                self._run_batched(kind, groups[kind], result)

    def _check_conflicts(self, tasks: list[Task], policy: PushPolicy, result: PushResult) -> list[Task]:
        """Apply the conflict policy; the tasks still to run."""
        try:
            result.conflicts += self.conflicts.apply(tasks, policy)
        except OdooError as exc:
            self.settler.error([t.change for t in tasks if t.odoo_id is not None], exc, result)
            return [t for t in tasks if t.odoo_id is None]
        noops = [t for t in tasks if t.kind == "noop"]
        if noops:
            self.settler.done(noops, result, counter="skipped")
        return [t for t in tasks if t.kind != "noop"]

    def _run_batched(self, kind: str, tasks: list[Task], result: PushResult) -> None:
        """The groups' calls in flight together (bounded by the client's concurrency
        limit), then every outcome settled here: the successful groups together (one
        read-back per model). A permanent failure of a group splits it."""
        if kind == "post":
            try:
                self.calls.find_posted(tasks)
            except OdooError as exc:
                self.settler.error([t.change for t in tasks], exc, result)
                return
        outcomes = [
            o
            for group_outcomes in self.calls.client.map_concurrent(
                lambda group: self._send(kind, group), self.calls.groups(kind, tasks)
            )
            for o in group_outcomes
        ]
        succeeded: list[Task] = []
        for group, outcome in outcomes:
            if isinstance(outcome, OdooError):
                self.settler.error([t.change for t in group], outcome, result)
            elif outcome == _SENT:
                succeeded += group
            elif outcome == _LOST:
                result.lost += len(group)
            else:  # gone already: what was asked is true
                self.settler.done(group, result, counter="deleted" if kind != "feedback" else "written")
        if succeeded:
            self.settler.done(succeeded, result, counter=_COUNTERS.get(kind, "written"))

    def _send(self, kind: str, group: list[Task]) -> list[_Outcome]:
        """One group's call (in a worker thread: no settling here); its outcomes."""
        held = self._still_held(group)
        outcomes: list[_Outcome] = []
        if len(held) < len(group):
            kept = {id(t) for t in held}
            outcomes.append(([t for t in group if id(t) not in kept], _LOST))
        if not held:
            return outcomes
        try:
            self.calls.send(kind, held)
        except OdooPermanentError as exc:
            if len(held) > 1:
                return outcomes + [o for task in held for o in self._send(kind, [task])]
            if kind in ("unlink", "archive", "feedback") and isinstance(exc, MissingRecord):
                return [*outcomes, (held, _GONE)]
            return [*outcomes, (held, exc)]
        except OdooError as exc:
            return [*outcomes, (held, exc)]
        if self.after_call is not None:
            self.after_call(kind)
        return [*outcomes, (held, _SENT)]

    def _still_held(self, group: list[Task]) -> list[Task]:
        """The tasks whose items this worker still holds (checked, renewed where little of
        the lease is left): a reclaimed item is another worker's now, and calling Odoo for
        it again could duplicate it."""
        if self.lease is None:
            return group
        held = self.lease.still_held(i for t in group for i in t.change.item_ids)
        return [t for t in group if set(t.change.item_ids) <= held]
