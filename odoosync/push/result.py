"""What pushes did: the counters of one pass (items by outcome, Odoo calls, conflicts),
added up over a run and recorded in the runs log by the worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["PushResult"]


@dataclass
class PushResult:
    """What pushes did: items by outcome, Odoo calls, conflicts."""

    claimed: int = 0
    done: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    created: int = 0
    written: int = 0
    deleted: int = 0
    conflicts: int = 0
    lost: int = 0  # changes not pushed: their lease went to another worker
    rpc_calls: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: PushResult) -> None:
        for name in (
            "claimed",
            "done",
            "retried",
            "failed",
            "skipped",
            "created",
            "written",
            "deleted",
            "conflicts",
            "lost",
            "rpc_calls",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {"errors": self.errors[:20]}
