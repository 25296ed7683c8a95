"""The mass-delete guard: a sync that would soft-delete too much of a customer's leads is refused.

A sheet that comes back empty (only its header), truncated, or exported from the wrong
tab looks exactly like "every row was deleted". Such a sync must not run on its own:
it is refused, changes nothing, and tells the operator how to accept it. The rule:

* the sheet has no valid data rows and the customer has live sheet leads → refused, always;
* otherwise, deleting more than ``max_share`` of the customer's live sheet leads
  (default 20 %) → refused.

``--allow-mass-delete`` (CLI) or ``allowMassDelete=true`` (API) accepts it for one sync.
Pure: the engine gives the counts.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MassDelete", "check_deletes", "DEFAULT_MAX_DELETE_SHARE"]

DEFAULT_MAX_DELETE_SHARE = 0.2


@dataclass(frozen=True)
class MassDelete:
    """A refused sync's numbers: what it would delete, out of how many live leads."""

    would_delete: int
    live: int
    sheet_rows: int
    max_share: float

    @property
    def share(self) -> float:
        return self.would_delete / self.live if self.live else 1.0

    def message(self, customer_id: int) -> str:
        why = (
            "the sheet has no data rows (only its header)"
            if self.sheet_rows == 0
            else f"{self.share:.0%} is over the {self.max_share:.0%} limit"
        )
        return (
            f"refused: this sync would delete {self.would_delete:,} of the customer's {self.live:,} sheet leads "
            f"({why}); nothing was changed. Check the sheet; if the rows really were removed, run "
            f"`odoosync sheets sync --customer {customer_id} --allow-mass-delete` "
            f"(API: POST /api/leads/sync/trigger?customerId={customer_id}&allowMassDelete=true)"
        )

    def as_dict(self) -> dict[str, float | int]:
        return {
            "would_delete": self.would_delete,
            "live_leads": self.live,
            "sheet_rows": self.sheet_rows,
            "share": round(self.share, 4),
            "max_share": self.max_share,
        }


def check_deletes(would_delete: int, live: int, sheet_rows: int, *, max_share: float) -> MassDelete | None:
    """The refusal, or None when the deletes are within bounds."""
    if would_delete <= 0:
        return None
    verdict = MassDelete(would_delete, live, sheet_rows, max_share)
    if sheet_rows == 0 or verdict.share > max_share:
        return verdict
    return None
