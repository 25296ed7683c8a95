"""Where a pull stream stands: the typed checkpoint record and the Odoo domains it implies.

Two kinds of position, both plain values that are saved in ``ops.odoo_sync_checkpoints``
together with the page of rows they describe (one transaction):

* :class:`Cursor` ``(write_date, id)``: the incremental high-water mark. Odoo stamps
  ``write_date`` with the *transaction's start* at one-second precision, so many rows share
  a stamp and a long transaction can commit rows stamped before the cursor moved. Changed
  rows are therefore read in ``(write_date, id)`` order past the cursor (so rows sharing a
  second are never skipped), and every run starts an *overlap window* behind the stored
  cursor (default five minutes) and upserts idempotently.
* ``read_at``: a lower bound, in *Odoo's* clock, of when the reads that set the cursor
  began (the first page of the last incremental run, or a full walk's probe round). A
  row those reads missed committed after that moment, so (transactions being shorter
  than the overlap) its ``write_date`` is at least ``read_at - overlap``. The next run
  therefore starts at ``min(cursor, read_at - overlap)`` (:func:`incremental_start`):
  while Odoo is busy that is the same window as ``cursor - overlap``; once Odoo has been
  idle for longer than the overlap it is the cursor itself, and an idle run is one
  request. Without ``read_at`` (no ``Date`` header) it is ``cursor - overlap``.
* :class:`FullWalk`: an unfinished full read, the id range cut into :class:`Partition`\\ s
  that are walked concurrently by id keyset (``id > after``, ``order: id``). ``start`` is
  the newest ``(write_date, id)`` in Odoo when the walk began: once the walk ends it
  becomes the incremental cursor, so anything changed *during* the walk is read by the
  next incremental run.

This module only describes positions; advancing them is the pull engine's job
(``odoosync.pull``). Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "DEFAULT_OVERLAP",
    "Cursor",
    "Partition",
    "FullWalk",
    "StreamState",
    "incremental_start",
    "odoo_datetime",
    "parse_odoo_datetime",
]

DEFAULT_OVERLAP = dt.timedelta(minutes=5)
"""How far behind the stored cursor an incremental run starts reading again."""

_ODOO_FORMAT = "%Y-%m-%d %H:%M:%S"


def odoo_datetime(value: dt.datetime) -> str:
    """A datetime as Odoo compares it in domains: UTC, ``YYYY-MM-DD HH:MM:SS``."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime(_ODOO_FORMAT)


def parse_odoo_datetime(value: str) -> dt.datetime:
    """The inverse of :func:`odoo_datetime` (also accepts ISO 8601 with an offset)."""
    try:
        parsed = dt.datetime.strptime(value, _ODOO_FORMAT)
    except ValueError:
        parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in ``(write_date, id)`` order: everything up to here has been stored."""

    write_date: dt.datetime
    id: int = 0

    def __post_init__(self) -> None:
        if self.write_date.tzinfo is None:
            object.__setattr__(self, "write_date", self.write_date.replace(tzinfo=dt.UTC))

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Cursor | None:
        """The position of one normalised Odoo record (None if it has no ``write_date``)."""
        stamp = record.get("write_date")
        if stamp is None:
            return None
        if isinstance(stamp, str):
            stamp = parse_odoo_datetime(stamp)
        return cls(stamp, int(record["id"]))

    @classmethod
    def newest(cls, records: Iterable[Mapping[str, Any]], start: Cursor | None = None) -> Cursor | None:
        """The furthest position among ``records`` and ``start``."""
        best = start
        for record in records:
            here = cls.of(record)
            if here is not None and (best is None or here > best):
                best = here
        return best

    def rewound(self, overlap: dt.timedelta) -> Cursor:
        """Where an incremental run starts: ``overlap`` before this cursor, every id."""
        return Cursor(self.write_date - overlap, 0)

    def after_domain(self) -> list[Any]:
        """Odoo domain for records strictly after this position in ``(write_date, id)`` order."""
        stamp = odoo_datetime(self.write_date)
        return ["|", ("write_date", ">", stamp), "&", ("write_date", "=", stamp), ("id", ">", self.id)]

    def to_json(self) -> dict[str, Any]:
        return {"write_date": odoo_datetime(self.write_date), "id": self.id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Cursor:
        return cls(parse_odoo_datetime(str(data["write_date"])), int(data.get("id", 0)))


def incremental_start(cursor: Cursor, read_at: dt.datetime | None, overlap: dt.timedelta) -> Cursor:
    """Where an incremental run starts reading: far enough back to catch every row the
    reads that set ``cursor`` (begun no earlier than ``read_at``, in Odoo's clock) could
    have missed, i.e. ``min(cursor, read_at - overlap)``; ``cursor - overlap`` when
    ``read_at`` is unknown."""
    if read_at is None:
        return cursor.rewound(overlap)
    return min(cursor, Cursor(_utc(read_at) - overlap, 0))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _whole_second(value: dt.datetime | None) -> dt.datetime | None:
    """UTC, rounded down to the second (as stored; rounding down only widens a window)."""
    return None if value is None else _utc(value).replace(microsecond=0)


def _datetime_from_json(value: Any) -> dt.datetime | None:
    return None if value is None else parse_odoo_datetime(str(value))


@dataclass(frozen=True)
class Partition:
    """One slice ``(after, upto]`` of the id range, walked by id keyset.

    ``after`` moves forward as pages commit; ``upto`` is None for the open-ended last
    partition (records created during the walk land there). ``done`` once a short page
    came back.
    """

    after: int
    upto: int | None
    done: bool = False

    def domain(self) -> list[Any]:
        """Odoo domain for the rest of this partition."""
        clauses: list[Any] = [("id", ">", self.after)]
        if self.upto is not None:
            clauses.append(("id", "<=", self.upto))
        return clauses

    def advanced(self, last_id: int | None, page_was_full: bool) -> Partition:
        """This partition after a page whose last id is ``last_id``."""
        after = self.after if last_id is None else max(self.after, last_id)
        return replace(self, after=after, done=not page_was_full)

    def to_json(self) -> list[Any]:
        return [self.after, self.upto, self.done]

    @classmethod
    def from_json(cls, data: list[Any]) -> Partition:
        after, upto, done = data
        return cls(int(after), None if upto is None else int(upto), bool(done))


@dataclass(frozen=True)
class FullWalk:
    """An unfinished full read: its partitions, where Odoo stood when it began (``start``)
    and a lower bound of Odoo's clock at that moment (``read_at``, None if unknown)."""

    partitions: tuple[Partition, ...]
    start: Cursor | None = None
    read_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "read_at", _whole_second(self.read_at))

    @property
    def finished(self) -> bool:
        return all(p.done for p in self.partitions)

    def with_partition(self, index: int, partition: Partition) -> FullWalk:
        parts = list(self.partitions)
        parts[index] = partition
        return replace(self, partitions=tuple(parts))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "partitions": [p.to_json() for p in self.partitions],
            "start": None if self.start is None else self.start.to_json(),
        }
        if self.read_at is not None:
            data["read_at"] = odoo_datetime(self.read_at)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FullWalk:
        start = data.get("start")
        return cls(
            tuple(Partition.from_json(p) for p in data["partitions"]),
            None if start is None else Cursor.from_json(start),
            _datetime_from_json(data.get("read_at")),
        )


@dataclass(frozen=True)
class StreamState:
    """Everything a stream stores between pages and runs.

    ``cursor``: the incremental high-water mark (None: never completed a full read).
    ``walk``: a full read in progress (None: none), resumed by the next run.
    ``extra``: stream-specific state (e.g. a chatter stream's parent keyset), JSON only.
    ``read_at``: a lower bound of Odoo's clock when the reads that set ``cursor`` began
    (None: unknown, the next run starts at ``cursor - overlap``); see the module docstring.
    """

    cursor: Cursor | None = None
    walk: FullWalk | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    read_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "read_at", _whole_second(self.read_at))

    def incremental_start(self, overlap: dt.timedelta) -> Cursor:
        """Where the next incremental run starts (see :func:`incremental_start`)."""
        assert self.cursor is not None, "an incremental run needs a cursor"
        return incremental_start(self.cursor, self.read_at, overlap)

    def with_read_at(self, read_at: dt.datetime | None, overlap: dt.timedelta) -> StreamState:
        """This state once the reads of a run begun no earlier than ``read_at`` are stored.

        The stored ``read_at`` is kept while it is no later than the new one and already
        lets the next run start at the cursor: the window is the same, and an idle run
        then leaves the checkpoint untouched (writes nothing).
        """
        kept, read_at = self.read_at, _whole_second(read_at)
        if (
            read_at is not None and kept is not None and self.cursor is not None
            and kept <= read_at and incremental_start(self.cursor, kept, overlap) == self.cursor
        ):
            return self
        return replace(self, read_at=read_at)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "cursor": None if self.cursor is None else self.cursor.to_json(),
            "walk": None if self.walk is None else self.walk.to_json(),
        }
        if self.extra:
            data["extra"] = dict(self.extra)
        if self.read_at is not None:
            data["read_at"] = odoo_datetime(self.read_at)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> StreamState:
        if not data:
            return cls()
        cursor = data.get("cursor")
        walk = data.get("walk")
        return cls(
            None if cursor is None else Cursor.from_json(cursor),
            None if walk is None else FullWalk.from_json(walk),
            dict(data.get("extra") or {}),
            _datetime_from_json(data.get("read_at")),
        )
