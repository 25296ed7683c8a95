"""Cron expressions, one dialect for every schedule (jobs, sheets, the settings).

Five fields are standard cron (minute hour day month weekday, UTC); six put seconds first
(tests and sub-minute polling). APScheduler's ``CronTrigger`` parses them, so what is
accepted here is exactly what the scheduler runs.
"""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.cron import CronTrigger

from odoosync.exceptions import ConfigError

__all__ = ["parse_cron"]


def parse_cron(expression: str, *, job: str = "?") -> CronTrigger:
    """A cron expression (5 fields, or 6 with seconds first) as an APScheduler trigger;
    ``ConfigError`` naming the job and the expression otherwise."""
    fields = expression.split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(expression, timezone=dt.UTC)
        if len(fields) == 6:
            second, minute, hour, day, month, day_of_week = fields
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=day_of_week,
                timezone=dt.UTC,
            )
    except ValueError as exc:
        raise ConfigError(f"schedule for job {job!r}: {expression!r} is not a valid cron expression ({exc})") from exc
    raise ConfigError(
        f"schedule for job {job!r}: {expression!r} needs 5 fields (minute hour day month weekday) or 6 (second first)"
    )
