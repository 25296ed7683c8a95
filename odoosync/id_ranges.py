"""What a stream knows of Odoo's id set between reconciles: id ranges and their counts.

The reconcile must find the records Odoo deleted (it keeps no tombstones) and the ones the
database lacks. Listing every id costs requests that grow with the table. Instead, the
ids are cut into consecutive ranges ``(previous upto, upto]``, each holding the number of
ids Odoo had in it when the range was last listed (or when an increment read ids past the
last range). One ``search_count`` then tells whether Odoo still holds as many, and only
the ranges whose counts differ are listed again (:func:`differing_spans`, one count per
level of a bisection). The ids past the last range (the *tail*: records created since the
last increment) are listed every time, so a new record cannot balance a delete.

Why not compare with the database's rows: the database does not hold Odoo's set. A lead
the app deleted stays in Odoo (archived); a quarantined record is absent on purpose. A
later delete in Odoo would balance such a row and go unseen. These counts are Odoo's own.

A count that matches proves nothing by itself: a delete and a record entering the
stream's domain under an old id (a company given to the sync user, say) balance. The
reconcile therefore also lists one range chosen at random each run, so a balanced change
is found within a few runs, and ``odoosync verify`` lists everything.

Nothing here does I/O: the counts and listings are the reconcile's (``pull/reconcile.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["IdRange", "IdRanges", "Span", "differing_spans", "scope_of"]


@dataclass(frozen=True)
class IdRange:
    """The ids in ``(previous range's upto, upto]``: ``count`` of them in Odoo when listed."""

    upto: int
    count: int


@dataclass(frozen=True)
class Span:
    """A stretch of ids, ``(after, upto]`` (``upto`` None: no upper bound), with the number of
    ids Odoo holds in it now (``found``; None: not counted)."""

    after: int
    upto: int | None
    found: int | None = None

    def domain(self) -> list[tuple[str, str, int]]:
        bounds = [("id", ">", self.after)]
        return bounds if self.upto is None else [*bounds, ("id", "<=", self.upto)]

    def holds(self, odoo_id: int) -> bool:
        return odoo_id > self.after and (self.upto is None or odoo_id <= self.upto)


def scope_of(model: str, domain: Sequence[Any]) -> str:
    """A short fingerprint of the set the ranges count: a stream whose model or domain
    changed starts again from a complete listing."""
    text = json.dumps([model, list(domain)], default=str, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IdRanges:
    """A stream's ranges, ascending and adjacent: range ``i`` covers
    ``(ranges[i-1].upto, ranges[i].upto]`` (the first from 0). Ids past the last range are
    the *tail*, expected empty."""

    scope: str
    ranges: tuple[IdRange, ...] = ()
    chunk: int = 10_000

    @property
    def last(self) -> int:
        return self.ranges[-1].upto if self.ranges else 0

    def after(self, index: int) -> int:
        """Where range ``index`` starts (exclusive)."""
        return 0 if index == 0 else self.ranges[index - 1].upto

    def span(self, first: int, last: int, found: int | None = None) -> Span:
        """The ids of ranges ``first..last``."""
        return Span(self.after(first), self.ranges[last].upto, found)

    @property
    def tail(self) -> Span:
        """The ids past the last range."""
        return Span(self.last, None)

    def expected(self, first: int, last: int) -> int:
        return sum(r.count for r in self.ranges[first : last + 1])

    def extended(self, ids: Iterable[int]) -> IdRanges:
        """These ranges once an increment has read ``ids`` (in Odoo at the time): those
        past the last range join it, or a new one when it is full. Ids missed between them
        (or under the last range) only make a count differ, which a listing corrects."""
        fresh = sorted({i for i in ids if i > self.last})
        if not fresh:
            return self
        ranges = list(self.ranges)
        for odoo_id in fresh:
            if ranges and ranges[-1].count < self.chunk:
                ranges[-1] = IdRange(odoo_id, ranges[-1].count + 1)
            else:
                ranges.append(IdRange(odoo_id, 1))
        return IdRanges(self.scope, tuple(ranges), self.chunk)

    def relisted(self, listed: Mapping[Span, Sequence[int]]) -> IdRanges:
        """These ranges with each listed span's ranges replaced by ranges cut from the ids
        Odoo listed in it; small neighbours are merged (a merged range still counts what
        Odoo held when each part was listed)."""
        bounds = sorted(listed, key=lambda s: s.after)
        cut: list[IdRange] = []
        index = 0
        for span in bounds:
            while index < len(self.ranges) and self.ranges[index].upto <= span.after:
                cut.append(self.ranges[index])
                index += 1
            while index < len(self.ranges) and span.holds(self.ranges[index].upto):
                index += 1
            cut.extend(_cut(sorted(listed[span]), span, self.chunk))
        cut.extend(self.ranges[index:])
        return IdRanges(self.scope, _merged(cut, self.chunk), self.chunk)

    def to_json(self) -> dict[str, Any]:
        return {"scope": self.scope, "chunk": self.chunk, "ranges": [[r.upto, r.count] for r in self.ranges]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IdRanges:
        return cls(str(data["scope"]), tuple(IdRange(int(u), int(c)) for u, c in data["ranges"]), int(data["chunk"]))

    @classmethod
    def from_listing(cls, scope: str, chunks: Iterable[Sequence[int]], chunk: int) -> IdRanges:
        """The ranges of a complete listing of ascending ids, in chunks as they came."""
        ids = [int(i) for piece in chunks for i in piece]
        return cls(scope, _merged(_cut(ids, Span(0, None), chunk), chunk), chunk)


def _cut(ids: list[int], span: Span, chunk: int) -> list[IdRange]:
    """Ranges of at most ``chunk`` listed ids covering ``span`` (its tail part only up to
    the last id listed): the last range reaches the span's own bound."""
    pieces = [IdRange(ids[min(i + chunk, len(ids)) - 1], len(ids[i : i + chunk])) for i in range(0, len(ids), chunk)]
    if span.upto is None:
        return pieces
    if pieces:
        pieces[-1] = IdRange(span.upto, pieces[-1].count)
        return pieces
    return [IdRange(span.upto, 0)]


def _merged(ranges: list[IdRange], chunk: int) -> tuple[IdRange, ...]:
    out: list[IdRange] = []
    for r in ranges:
        if out and out[-1].count + r.count <= chunk:
            out[-1] = IdRange(r.upto, out[-1].count + r.count)
        else:
            out.append(r)
    return tuple(out)


def differing_spans(ranges: IdRanges, count: Callable[[list[Span]], list[int]], whole: int) -> list[Span]:
    """The spans of ranges whose Odoo count differs from the ranges' (with Odoo's count),
    found by bisection, level by level: ``whole`` is Odoo's count of ``(0, ranges.last]``;
    ``count`` answers a level's left halves together (the right halves' counts follow by
    subtraction). A node is listed whole once it is one range or holds at most two chunks
    of ids (what one ``search`` lists). The tail is not here: the reconcile lists it every
    time, so a new record there cannot balance a delete."""
    found: list[Span] = []
    level = [(0, len(ranges.ranges) - 1, whole)] if ranges.ranges else []
    while level:
        splitting: list[tuple[int, int, int]] = []
        for first, last, actual in level:
            expected = ranges.expected(first, last)
            if actual == expected:
                continue
            if first == last or max(actual, expected) <= 2 * ranges.chunk:
                found.append(ranges.span(first, last, actual))
            else:
                splitting.append((first, last, actual))
        lefts = count([ranges.span(first, (first + last) // 2) for first, last, _ in splitting]) if splitting else []
        level = []
        for (first, last, actual), left in zip(splitting, lefts, strict=True):
            middle = (first + last) // 2
            level += [(first, middle, left), (middle + 1, last, actual - left)]
    return sorted(found, key=lambda s: s.after)
