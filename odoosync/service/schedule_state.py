"""The schedule's state kept in the database: which jobs are paused, which sheets are scheduled.

``odoosync serve`` must not forget an operator's pause when it restarts (deploy, crash,
OOM), and must follow sheets that another process adds, re-schedules, pauses or removes
(``odoosync sheets ...``) without a restart. Both therefore live in the database:

* a paused job is a row of ``ops.odoo_sync_config``, key ``schedule:paused:<job>``, value
  ``{"paused_at": "<ISO time>"}``: one key per job, so two pauses never overwrite each
  other, and resuming deletes the key;
* a sheet job's pause (``sheet:<customer id>``) is the sheet's own ``is_paused`` in
  ``lead_sync_states``: one pause per sheet, whether set by ``sheets pause``, the sheets
  API or ``POST /api/schedule/sheet:<id>/pause``;
* every configured sheet is a job ``sheet:<customer id>`` on its own cron.

:class:`ScheduleSource` reads all of it as a :class:`~odoosync.service.scheduler.DesiredSchedule`
for :meth:`Scheduler.refresh <odoosync.service.scheduler.Scheduler.refresh>`, which the service
runs at start (before the catch-up, so a paused job does not run then either), every
minute, and right after a change made through its own API. A refresh makes two small
``SELECT`` statements and no Odoo request.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

from odoosync.service.scheduler import DesiredSchedule, DynamicJob
from odoosync.sheets.schedule import customer_of_job, sheet_jobs
from odoosync.sheets.state import set_paused
from odoosync.store import Store
from odoosync.store.sync_config import config_delete, config_get, config_list, config_set

if TYPE_CHECKING:
    from odoosync.sheets.engine import SheetSync

__all__ = ["PAUSED_PREFIX", "paused_jobs", "set_job_paused", "ScheduleSource"]

PAUSED_PREFIX = "schedule:paused:"


def paused_jobs(store: Store) -> dict[str, str | None]:
    """Job → when it was paused (ISO time), for every job paused through the schedule
    (sheets excluded: their pause is the sheet's own, see ``sheets status``)."""
    return {
        key[len(PAUSED_PREFIX) :]: value.get("paused_at") if isinstance(value, dict) else None
        for key, value in config_list(store, PAUSED_PREFIX).items()
    }


def set_job_paused(store: Store, job: str, paused: bool) -> None:
    """Persist a pause (kept across restarts) or clear it; a sheet job pauses its sheet.

    Pausing a job that is already paused keeps the time of the first pause.
    ``SheetNotConfigured`` for a sheet job whose sheet is gone.
    """
    customer_id = customer_of_job(job)
    if customer_id is not None:
        set_paused(store, customer_id, paused)
        return
    key = PAUSED_PREFIX + job
    if not paused:
        config_delete(store, key)
    elif config_get(store, key) is None:
        config_set(store, key, {"paused_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})


class ScheduleSource:
    """The desired schedule as the database has it now (a ``Scheduler`` source).

    With ``sheets`` (the service's sheet engine) every configured sheet is a dynamic job;
    without (``serve --no-schedule``) only the pauses are read.
    """

    def __init__(self, store: Store, sheets: SheetSync | None = None) -> None:
        self._store = store
        self._sheets = sheets

    def __call__(self) -> DesiredSchedule:
        paused = set(paused_jobs(self._store))
        jobs: dict[str, DynamicJob] = {}
        if self._sheets is not None:
            for sheet in sheet_jobs(self._store):
                jobs[sheet.name] = DynamicJob(
                    functools.partial(_sync_sheet, self._sheets, sheet.customer_id), sheet.cron
                )
                if sheet.paused:
                    paused.add(sheet.name)
        return DesiredSchedule(jobs=jobs, paused=frozenset(paused))


def _sync_sheet(sheets: SheetSync, customer_id: int, trigger: str) -> Any:
    """A sheet's scheduled job: one sync (a paused or locked sheet is logged as skipped)."""
    return sheets.sync(customer_id, trigger=trigger)
