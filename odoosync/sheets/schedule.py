"""When each customer's sheet is synced by the service: its own cron, else the default.

The scheduler only decides when; the job it runs is ``SheetSync.sync(customer_id,
trigger="schedule")``. Each configured sheet is one job, ``sheet:<customer id>``, which
the running service adds, re-schedules, pauses and removes as ``lead_sync_states``
changes (``odoosync.service.schedule_state``): a paused sheet's job does not fire (and should a
fire race a pause, the sync itself refuses a paused sheet and logs the run as skipped).
The default follows the seed's 15-minute lead sync: an unchanged sheet costs one
conditional request and no database write, but Google throttles export downloads, so
sheets are not polled every minute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from odoosync.sheets.state import list_states
from odoosync.store import Store

__all__ = ["SheetJob", "sheet_jobs", "DEFAULT_SHEET_SCHEDULE", "job_name", "customer_of_job"]

DEFAULT_SHEET_SCHEDULE = "*/15 * * * *"
_JOB_NAME = re.compile(r"sheet:([0-9]{1,18})")


@dataclass(frozen=True)
class SheetJob:
    """One scheduled sheet: the job's name, the customer, its cron expression, paused or not."""

    name: str
    customer_id: int
    cron: str
    paused: bool = False


def job_name(customer_id: int) -> str:
    return f"sheet:{customer_id}"


def customer_of_job(name: str) -> int | None:
    """The customer id of a sheet job's name (``sheet:7`` → 7); None for any other job."""
    match = _JOB_NAME.fullmatch(name)
    return int(match.group(1)) if match else None


def sheet_jobs(store: Store, default: str = DEFAULT_SHEET_SCHEDULE) -> list[SheetJob]:
    """Every configured sheet's job, paused ones included (marked ``paused``)."""
    return [
        SheetJob(job_name(state.customer_id), state.customer_id, state.schedule or default, state.is_paused)
        for state in list_states(store)
    ]
