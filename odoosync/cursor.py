"""Where a pull stream stands: the typed checkpoint record and the Odoo domains it implies.

Two kinds of position, both plain values that are saved in ``ops.odoo_sync_checkpoints``
together with the page of rows they describe (one transaction):

* :class:`Cursor` ``(write_date, id)``: the incremental high-water mark, in *whole
  seconds* and id: every row whose ``(second of write_date, id)`` is at or before it has
  been stored. Odoo stamps ``write_date`` with the *transaction's start*, stores it with
  microseconds and serves it cut to the second, and one transaction stamps all its rows
  alike, so thousands of rows can share a served second. Comparing a served stamp with
  ``=`` or ``>`` therefore answers differently by version (16-18 compare the stored
  microseconds: ``= S`` matches nothing and ``> S`` the whole second; 19 compares whole
  seconds). The domains here use only ``>=`` and ``<`` on whole seconds, which every
  version answers alike, and an increment walks the rows changed since the cursor by id
  (:class:`Increment`), never in ``write_date`` order (rows of one second are not in id
  order there). Every run starts an *overlap window* behind the stored cursor (default
  five minutes) and upserts idempotently, so a long transaction that commits rows
  stamped before the cursor moved is still read.
* ``read_at``: a lower bound, in *Odoo's* clock, of when the reads that set the cursor
  began (the first page of the last incremental run, or a full walk's probe round). A
  row those reads missed committed after that moment, so (transactions being shorter
  than the overlap) its ``write_date`` is at least ``read_at - overlap``. The next run
  therefore starts at ``min(cursor, read_at - overlap)`` (:func:`incremental_start`):
  while Odoo is busy that is the same window as ``cursor - overlap``; once Odoo has been
  idle for longer than the overlap it is the cursor itself, and an idle run is one
  request. Without ``read_at`` (no ``Date`` header) it is ``cursor - overlap``.
* :class:`Increment`: an unfinished incremental read: the rows after ``since`` walked by
  id keyset, resumed by the next run if this one stops.
* :class:`FullWalk`: an unfinished full read, the id range cut into :class:`Partition`\\ s
  that are walked concurrently by id keyset (``id > after``, ``order: id``). ``start`` is
  the newest ``(second, id)`` among the rows it stored: once the walk ends it becomes the
  incremental cursor, and the next increment starts at ``min(cursor, read_at - overlap)``
  with ``read_at`` the walk's first read, so anything changed *during* the walk is read.

This module only describes positions; advancing them is the pull engine's job
(``odoosync.pull``). Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from odoosync.id_ranges import IdRanges
from odoosync.odoo.values import odoo_datetime, parse_datetime

__all__ = [
    "DEFAULT_OVERLAP",
    "Cursor",
    "Partition",
    "FullWalk",
    "Increment",
    "StreamState",
    "incremental_start",
]

DEFAULT_OVERLAP = dt.timedelta(minutes=5)
"""How far behind the stored cursor an incremental run starts reading again."""


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in ``(write_date, id)`` order: everything up to here has been stored."""

    write_date: dt.datetime
    id: int = 0

    def __post_init__(self) -> None:
        # Whole seconds: what Odoo serves, and the precision its domains compare alike.
        object.__setattr__(self, "write_date", _utc(self.write_date).replace(microsecond=0))

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Cursor | None:
        """The position of one normalised Odoo record (None if it has no ``write_date``)."""
        position = _position(record)
        return None if position is None else cls(*position)

    @classmethod
    def newest(cls, records: Iterable[Mapping[str, Any]], start: Cursor | None = None) -> Cursor | None:
        """The furthest position among ``records`` and ``start``: :meth:`of` each record,
        compared as plain ``(second, id)`` tuples (one Cursor made, not one a record: a
        full import passes every record read through here)."""
        best: tuple[dt.datetime, int] | None = None
        for record in records:
            here = _position(record)
            if here is not None and (best is None or here > best):
                best = here
        if best is None:
            return start
        found = cls(*best)
        return found if start is None or found > start else start

    def rewound(self, overlap: dt.timedelta) -> Cursor:
        """Where an incremental run starts: ``overlap`` before this cursor, every id."""
        return Cursor(self.write_date - overlap, 0)

    def after_domain(self) -> list[Any]:
        """Odoo domain for the rows after this position in ``(second, id)`` order.

        Only ``>=`` and ``<`` on whole seconds: on Odoo 16-18 a stored stamp has
        microseconds (``= S`` never matches it, ``> S`` matches its whole second), on 19
        comparisons are at whole seconds; ``>= S`` and ``>= S + 1 s`` mean the same on both.
        """
        second = self.write_date.replace(microsecond=0)
        stamp = odoo_datetime(second)
        if self.id <= 0:
            return [("write_date", ">=", stamp)]
        following = odoo_datetime(second + dt.timedelta(seconds=1))
        return [("write_date", ">=", stamp), "|", ("write_date", ">=", following), ("id", ">", self.id)]

    def to_json(self) -> dict[str, Any]:
        return {"write_date": odoo_datetime(self.write_date), "id": self.id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Cursor:
        return cls(parse_datetime(str(data["write_date"])), int(data.get("id", 0)))


def incremental_start(cursor: Cursor, read_at: dt.datetime | None, overlap: dt.timedelta) -> Cursor:
    """Where an incremental run starts reading: far enough back to catch every row the
    reads that set ``cursor`` (begun no earlier than ``read_at``, in Odoo's clock) could
    have missed, i.e. ``min(cursor, read_at - overlap)``; ``cursor - overlap`` when
    ``read_at`` is unknown."""
    if read_at is None:
        return cursor.rewound(overlap)
    return min(cursor, Cursor(_utc(read_at) - overlap, 0))


def _position(record: Mapping[str, Any]) -> tuple[dt.datetime, int] | None:
    """A record's ``(whole second, id)`` as a tuple that orders as its :class:`Cursor`
    would (None if it has no ``write_date``). The stamp is made aware, not converted to
    UTC: aware datetimes compare by instant, and :meth:`Cursor.newest` runs this for
    every record an import reads (the Cursor it makes converts)."""
    stamp = record.get("write_date")
    if stamp is None:
        return None
    if isinstance(stamp, str):
        stamp = parse_datetime(stamp)
    elif stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return (stamp.replace(microsecond=0) if stamp.microsecond else stamp), int(record["id"])


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _whole_second(value: dt.datetime | None) -> dt.datetime | None:
    """UTC, rounded down to the second (as stored; rounding down only widens a window)."""
    return None if value is None else _utc(value).replace(microsecond=0)


def _datetime_from_json(value: Any) -> dt.datetime | None:
    return None if value is None else parse_datetime(str(value))


@dataclass(frozen=True)
class Partition:
    """One slice ``(after, upto]`` of the id range, walked by id keyset.

    ``after`` moves forward as pages commit; ``upto`` is None for the open-ended last
    partition). ``done`` once a page came back empty, or its last id reached ``upto``:
    never because a page was shorter than its limit (Odoo filters some models, e.g.
    ``mail.message``, for access *after* SQL's LIMIT, so 497 of 500 rows can come back
    while thousands follow).
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

    def advanced(self, last_id: int | None) -> Partition:
        """This partition after a page whose last id is ``last_id`` (None: an empty page)."""
        if last_id is None:
            return replace(self, done=True)
        after = max(self.after, last_id)
        return replace(self, after=after, done=self.upto is not None and after >= self.upto)

    def to_json(self) -> list[Any]:
        return [self.after, self.upto, self.done]

    @classmethod
    def from_json(cls, data: list[Any]) -> Partition:
        after, upto, done = data
        return cls(int(after), None if upto is None else int(upto), bool(done))


@dataclass(frozen=True)
class Increment:
    """An unfinished incremental read: the rows after ``since`` (:meth:`Cursor.after_domain`)
    walked by id keyset (``id > after``, ``order: id``) until a page comes back empty.

    ``read_at`` is Odoo's clock when its first page was read; it is kept when a stopped
    increment is resumed, because a row the first pages missed committed after that.
    """

    since: Cursor
    after: int = 0
    read_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "read_at", _whole_second(self.read_at))

    def domain(self) -> list[Any]:
        """Odoo domain for the rest of this increment."""
        return [*self.since.after_domain(), ("id", ">", self.after)]

    def advanced(self, last_id: int) -> Increment:
        return replace(self, after=max(self.after, last_id))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"since": self.since.to_json(), "after": self.after}
        if self.read_at is not None:
            data["read_at"] = odoo_datetime(self.read_at)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Increment:
        return cls(Cursor.from_json(data["since"]), int(data.get("after", 0)), _datetime_from_json(data.get("read_at")))


@dataclass(frozen=True)
class FullWalk:
    """An unfinished full read: its partitions, the newest ``(second, id)`` among the rows
    it stored so far (``start``, the next increment's cursor once it ends) and a lower
    bound of Odoo's clock when it began (``read_at``, None if unknown)."""

    partitions: tuple[Partition, ...]
    start: Cursor | None = None
    read_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "read_at", _whole_second(self.read_at))

    @property
    def finished(self) -> bool:
        return all(p.done for p in self.partitions)

    def reached(self, records: Iterable[Mapping[str, Any]]) -> FullWalk:
        """This walk once ``records`` are stored: ``start`` moves to the newest of them."""
        start = Cursor.newest(records, self.start)
        return self if start == self.start else replace(self, start=start)

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
    ``increment``: an incremental read in progress (None: none), resumed by the next run.
    ``extra``: stream-specific state (e.g. a chatter stream's parent keyset), JSON only.
    ``read_at``: a lower bound of Odoo's clock when the reads that set ``cursor`` began
    (None: unknown, the next run starts at ``cursor - overlap``); see the module docstring.
    ``id_ranges``: Odoo's id set in counted ranges, for the reconcile (None: not listed
    yet); see :mod:`odoosync.id_ranges`.
    """

    cursor: Cursor | None = None
    walk: FullWalk | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    read_at: dt.datetime | None = None
    increment: Increment | None = None
    id_ranges: IdRanges | None = None

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
            read_at is not None
            and kept is not None
            and self.cursor is not None
            and kept <= read_at
            and incremental_start(self.cursor, kept, overlap) == self.cursor
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
        if self.increment is not None:
            data["increment"] = self.increment.to_json()
        if self.id_ranges is not None:
            data["id_ranges"] = self.id_ranges.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> StreamState:
        if not data:
            return cls()
        cursor = data.get("cursor")
        walk = data.get("walk")
        increment = data.get("increment")
        id_ranges = data.get("id_ranges")
        return cls(
            None if cursor is None else Cursor.from_json(cursor),
            None if walk is None else FullWalk.from_json(walk),
            dict(data.get("extra") or {}),
            _datetime_from_json(data.get("read_at")),
            None if increment is None else Increment.from_json(increment),
            None if id_ranges is None else IdRanges.from_json(id_ranges),
        )
