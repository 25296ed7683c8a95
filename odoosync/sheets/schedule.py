"""When each customer's sheet is synced by the service: its own cron, else the default.

The scheduler only decides when; the job it runs is ``SheetSync.sync(customer_id,
trigger="schedule")`` (a paused sheet answers ``paused`` and is logged as skipped, so a
schedule never needs to know about pausing). The default follows the seed's 15-minute
lead sync: an unchanged sheet costs one conditional request and no database write, but
Google throttles export downloads, so sheets are not polled every minute.
"""

from __future__ import annotations

from dataclasses import dataclass

from odoosync.sheets.state import list_states
from odoosync.store import Store

__all__ = ["SheetJob", "sheet_jobs", "DEFAULT_SHEET_SCHEDULE", "job_name"]

DEFAULT_SHEET_SCHEDULE = "*/15 * * * *"


@dataclass(frozen=True)
class SheetJob:
    """One scheduled sheet: the job's name, the customer, and its cron expression."""

    name: str
    customer_id: int
    cron: str


def job_name(customer_id: int) -> str:
    return f"sheet:{customer_id}"


def sheet_jobs(store: Store, default: str = DEFAULT_SHEET_SCHEDULE) -> list[SheetJob]:
    """Every configured sheet's job (paused ones included: the sync itself refuses them)."""
    return [
        SheetJob(job_name(state.customer_id), state.customer_id, state.schedule or default)
        for state in list_states(store)
    ]
