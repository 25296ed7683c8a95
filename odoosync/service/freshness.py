"""Freshness: how long ago each stream last synced successfully, as green / amber / red.

Operators need to tell at a glance when the last sync ran and whether it failed. The
answer is one number per stream, the age of its last successful run, and a colour for
it: green under 30 minutes, amber from 30 to 60, red beyond 60 or never (thresholds
configurable in ``ops.odoo_sync_config`` under ``service:freshness`` as
``{"amber_after_seconds": 1800, "red_after_seconds": 3600}``).

The API (``GET /api/status``), ``odoosync status`` and the dashboard all call
:func:`stream_statuses`, so they always agree. The colour itself is the pure function
:func:`freshness`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from rich.text import Text

from odoosync.models import PARTIAL_MODES, VERIFY_JOB
from odoosync.store import Store
from odoosync.store.schema import odoo_sync_runs
from odoosync.store.sync_config import config_get

__all__ = [
    "Colour",
    "Thresholds",
    "StreamStatus",
    "freshness",
    "stream_statuses",
    "read_status",
    "overall_colour",
    "badge",
    "describe_age",
    "THRESHOLDS_CONFIG_KEY",
]

Colour = Literal["green", "amber", "red"]
THRESHOLDS_CONFIG_KEY = "service:freshness"
_ORDER: dict[str, int] = {"green": 0, "amber": 1, "red": 2}


@dataclass(frozen=True)
class Thresholds:
    """Ages at which a stream turns amber and red (30 and 60 minutes)."""

    amber_after: dt.timedelta = dt.timedelta(minutes=30)
    red_after: dt.timedelta = dt.timedelta(minutes=60)

    def __post_init__(self) -> None:
        if not dt.timedelta(0) < self.amber_after <= self.red_after:
            raise ValueError("freshness thresholds need 0 < amber_after <= red_after")

    @classmethod
    def from_config(cls, value: Mapping[str, Any] | None) -> Thresholds:
        """Read ``{"amber_after_seconds": .., "red_after_seconds": ..}``; missing keys keep defaults."""
        value = value or {}
        default = cls()
        amber = float(value.get("amber_after_seconds", default.amber_after.total_seconds()))
        red = float(value.get("red_after_seconds", default.red_after.total_seconds()))
        return cls(dt.timedelta(seconds=amber), dt.timedelta(seconds=red))


def freshness(last_success: dt.datetime | None, now: dt.datetime, thresholds: Thresholds = Thresholds()) -> Colour:
    """The colour of a stream whose last successful run finished at ``last_success``."""
    if last_success is None:
        return "red"
    age = now - last_success
    if age < thresholds.amber_after:
        return "green"
    if age <= thresholds.red_after:
        return "amber"
    return "red"


@dataclass(frozen=True)
class StreamStatus:
    """One stream as the operator sees it. ``last_run`` is the newest run of any status."""

    stream: str
    freshness: Colour
    last_success_at: dt.datetime | None
    age_seconds: float | None
    next_run_at: dt.datetime | None
    last_run: Mapping[str, Any] | None = field(default=None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able (datetimes as ISO 8601 strings)."""
        return {
            "stream": self.stream,
            "freshness": self.freshness,
            "last_success_at": _iso(self.last_success_at),
            "age_seconds": None if self.age_seconds is None else round(self.age_seconds, 3),
            "next_run_at": _iso(self.next_run_at),
            "last_run": None if self.last_run is None else {k: _iso(v) for k, v in self.last_run.items()},
        }


_LAST_RUN_FIELDS = (
    "id",
    "job",
    "mode",
    "trigger",
    "status",
    "started_at",
    "finished_at",
    "fetched",
    "inserted",
    "updated",
    "deleted",
    "skipped",
    "failed",
    "error",
    "remaining",
)


def stream_statuses(
    last_runs: Mapping[str, Mapping[str, Any]],
    last_successes: Mapping[str, dt.datetime | None],
    *,
    streams: Iterable[str] = (),
    next_runs: Mapping[str, dt.datetime | None] | None = None,
    now: dt.datetime,
    thresholds: Thresholds = Thresholds(),
) -> list[StreamStatus]:
    """Every stream named in ``streams`` or seen in the runs log, sorted by name.

    ``last_runs``: stream → its newest run row; ``last_successes``: stream → when its
    newest ``ok`` run finished; ``next_runs``: stream → the scheduler's next fire time.
    """
    next_runs = next_runs or {}
    names = sorted(set(streams) | set(last_runs) | set(last_successes))
    statuses = []
    for name in names:
        success = last_successes.get(name)
        run = last_runs.get(name)
        statuses.append(
            StreamStatus(
                stream=name,
                freshness=freshness(success, now, thresholds),
                last_success_at=success,
                age_seconds=None if success is None else max(0.0, (now - success).total_seconds()),
                next_run_at=next_runs.get(name),
                last_run=None if run is None else {k: run.get(k) for k in _LAST_RUN_FIELDS},
            )
        )
    return statuses


def read_status(
    store: Store,
    *,
    streams: Iterable[str] = (),
    next_runs: Mapping[str, dt.datetime | None] | None = None,
    now: dt.datetime | None = None,
    backend: str | None = None,
) -> list[StreamStatus]:
    """:func:`stream_statuses` from the runs log, with the thresholds from the config table
    (with ``backend``: that backend's runs only).

    Two grouped queries whatever the number of streams: the newest run of each stream,
    and when each stream's newest ``ok`` run finished. With ``streams`` given, only
    those are reported (the runs log also holds jobs such as ``sla`` or ``outbox``).
    """
    runs = odoo_sync_runs
    syncs = runs.c.job != VERIFY_JOB  # a verify run checks a stream, it does not sync it
    if backend is not None:
        syncs = sa.and_(syncs, runs.c.backend == backend)
    newest = (
        sa.select(runs.c.stream, sa.func.max(runs.c.id).label("id"))
        .where(runs.c.status != "skipped", syncs)
        .group_by(runs.c.stream)
        .subquery()
    )
    last_runs_query = sa.select(runs).join(newest, runs.c.id == newest.c.id)
    successes_query = (
        sa.select(runs.c.stream, sa.func.max(runs.c.finished_at).label("finished_at"))
        # one record (a webhook) or a repair of a few is not the stream synced
        .where(runs.c.status == "ok", runs.c.mode.not_in(PARTIAL_MODES), syncs)
        .group_by(runs.c.stream)
    )
    with store.connect() as conn:
        last_runs = {row["stream"]: dict(row) for row in conn.execute(last_runs_query).mappings()}
        successes = {row.stream: _aware(row.finished_at) for row in conn.execute(successes_query)}
    thresholds = Thresholds.from_config(config_get(store, THRESHOLDS_CONFIG_KEY))
    wanted = set(streams)
    if wanted:
        last_runs = {k: v for k, v in last_runs.items() if k in wanted}
        successes = {k: v for k, v in successes.items() if k in wanted}
    return stream_statuses(
        last_runs,
        successes,
        streams=streams,
        next_runs=next_runs,
        now=now or dt.datetime.now(dt.UTC),
        thresholds=thresholds,
    )


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    """MAX() over a SQLite text column comes back as text, without the column's type."""
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def overall_colour(statuses: Sequence[StreamStatus]) -> Colour:
    """The worst colour of all streams (green when there are none)."""
    worst: Colour = "green"
    for status in statuses:
        if _ORDER[status.freshness] > _ORDER[worst]:
            worst = status.freshness
    return worst


_RICH_STYLE = {"green": "green", "amber": "yellow", "red": "red"}


def describe_age(seconds: float | None) -> str:
    """``"never"``, ``"just now"``, ``"3 min ago"``, ``"2 h ago"``, ``"4 days ago"``."""
    if seconds is None:
        return "never"
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def badge(status: StreamStatus) -> Text:
    """``● green 3 min ago`` for a terminal, the dot and word in the stream's colour
    (plain text where Rich sees no terminal)."""
    return Text.assemble(
        (f"● {status.freshness}", _RICH_STYLE[status.freshness]), f" {describe_age(status.age_seconds)}"
    )


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value
