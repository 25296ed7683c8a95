"""Storage of the simulator: one ``Table`` per model and the undo log of a transaction.

A ``Table`` keeps rows as sparse dicts (an absent key is an empty value, which keeps
hundreds of thousands of messages affordable), their ids in ascending order (for keyset
scans with ``bisect``), equality indexes built on first use for the fields chatter
and activities are looked up by (``res_id``, ``mail_message_id``, ...), and an ordered
index of ``write_date`` for the increments' ``write_date >= S`` (a no-change increment
of 384,000 messages scanned them all: 150 ms of the simulator's CPU a request). Indexes
only narrow the rows a search looks at; the domain still decides. ``Journal``
remembers each touched row so a failing call can be undone: one call, one transaction.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from odoosync.simulator import domain as domains
from odoosync.simulator.schema import ModelSpec

__all__ = ["Table", "Journal"]

_INDEXED = {"res_id", "mail_message_id", "parent_id", "partner_id"}
_ORDERED = {"write_date"}  # stored as text with microseconds: ordered as strings
_ORDERED_SHARE = 4  # an ordered index narrows a search when at most 1/4 of the rows pass it


class Table:
    """Rows of one model: id → stored values (absent key = empty), ids in ascending order."""

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self.rows: dict[int, dict[str, Any]] = {}
        self.ids: list[int] = []
        self.next_id = 1
        self.field_types = {name: f.type for name, f in spec.fields.items()}
        self._indexes: dict[str, dict[Any, set[int]]] = {}
        self._ordered: dict[str, list[tuple[Any, int]]] = {}

    def insert(self, values: dict[str, Any]) -> int:
        record_id = self.next_id
        self.next_id += 1
        values["id"] = record_id
        self.rows[record_id] = values
        self.ids.append(record_id)
        for name, index in self._indexes.items():
            index.setdefault(values.get(name), set()).add(record_id)
        for name, ordered in self._ordered.items():
            _enter(ordered, values.get(name), record_id)
        return record_id

    def update(self, record_id: int, values: Mapping[str, Any]) -> None:
        row = self.rows[record_id]
        for name, index in self._indexes.items():
            if name in values and values[name] != row.get(name):
                index.get(row.get(name), set()).discard(record_id)
                index.setdefault(values[name], set()).add(record_id)
        for name, ordered in self._ordered.items():
            if name in values and values[name] != row.get(name):
                _leave(ordered, row.get(name), record_id)
                _enter(ordered, values[name], record_id)
        for name, value in values.items():
            if value is None:
                row.pop(name, None)
            else:
                row[name] = value

    def delete(self, record_id: int) -> None:
        row = self.rows.pop(record_id)
        position = bisect.bisect_left(self.ids, record_id)
        del self.ids[position]
        for name, index in self._indexes.items():
            index.get(row.get(name), set()).discard(record_id)
        for name, ordered in self._ordered.items():
            _leave(ordered, row.get(name), record_id)

    def restore(self, row: dict[str, Any]) -> None:
        """Put back a deleted row (transaction rollback) under its own id."""
        record_id = row["id"]
        self.rows[record_id] = row
        bisect.insort(self.ids, record_id)
        for name, index in self._indexes.items():
            index.setdefault(row.get(name), set()).add(record_id)
        for name, ordered in self._ordered.items():
            _enter(ordered, row.get(name), record_id)

    def get(self, record_id: Any) -> dict[str, Any] | None:
        """The row with this id; None for an unknown or empty (``False``) id."""
        return self.rows.get(record_id)

    def index(self, name: str) -> dict[Any, set[int]]:
        """An equality index on ``name``, built on first use and kept up to date."""
        if name not in self._indexes:
            built: dict[Any, set[int]] = {}
            for record_id, row in self.rows.items():
                built.setdefault(row.get(name), set()).add(record_id)
            self._indexes[name] = built
        return self._indexes[name]

    def ordered(self, name: str) -> list[tuple[Any, int]]:
        """``(value, id)`` of the rows with a value of ``name``, in ascending order, built
        on first use and kept up to date."""
        if name not in self._ordered:
            self._ordered[name] = sorted(
                (row[name], record_id) for record_id, row in self.rows.items() if row.get(name) is not None
            )
        return self._ordered[name]

    def candidates(self, domain: Sequence[Any]) -> Sequence[int]:
        """Ids that may match ``domain``, in ascending order (narrowed by id/index leaves)."""
        spans, wanted = domains.id_bounds(domain)
        leaves = _conjuncts(domain)
        for name, values in _indexed_leaves(leaves, self.spec):
            index = self.index(name)
            found: set[int] = set()
            for value in values:
                found |= index.get(value, set())
            wanted = frozenset(found) if wanted is None else wanted & found
        for name, lowest in _lower_bounds(leaves, self.spec):
            ordered = self.ordered(name)
            start = bisect.bisect_left(ordered, (lowest,))
            if (len(ordered) - start) * _ORDERED_SHARE > len(self.rows):
                continue  # most rows pass: the scan is cheaper than a set of them
            later = {record_id for _, record_id in ordered[start:]}
            wanted = frozenset(later) if wanted is None else wanted & later
        if wanted is not None:
            return sorted(i for i in wanted if i in self.rows and _within(spans, i))
        found_ids: list[int] = []
        for low, high in spans:  # ascending and disjoint: the slices stay in id order
            start = 0 if low is None else bisect.bisect_left(self.ids, low)
            stop = len(self.ids) if high is None else bisect.bisect_right(self.ids, high)
            found_ids += self.ids[start:stop]
        return found_ids


def _within(spans: Sequence[domains.Span], record_id: int) -> bool:
    return any((low is None or record_id >= low) and (high is None or record_id <= high) for low, high in spans)


def _conjuncts(domain: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The leaves every match satisfies: those joined to the root by ``&`` alone (a leaf
    under ``|`` or ``!`` need not hold). Iterative: a domain may nest thousands deep."""
    leaves = []
    pending = [True]  # per subtree still to read: is it on an AND-only path from the root?
    for token in domains.normalize_domain(domain):
        conjunctive = pending.pop()
        if token == "&":
            pending += [conjunctive, conjunctive]
        elif token == "|":
            pending += [False, False]
        elif token == "!":
            pending.append(False)
        elif conjunctive:
            leaves.append(token)
    return leaves


def _lower_bounds(leaves: Sequence[tuple[Any, ...]], spec: ModelSpec) -> Iterator[tuple[str, str]]:
    """``(field, lowest)`` for ``field > X`` / ``field >= X`` leaves on the ordered fields:
    every match has a stored value ``>= X[:19]`` (a stored value sorts after its own
    second, and a date ``X`` before its day's times), and an empty one never matches."""
    for left, operator, right in leaves:
        if left in _ORDERED and left in spec.fields and operator in (">", ">=") and isinstance(right, str) and right:
            yield left, right[:19]


def _indexed_leaves(leaves: Sequence[tuple[Any, ...]], spec: ModelSpec) -> Iterator[tuple[str, list[Any]]]:
    for left, operator, right in leaves:
        if left in _INDEXED and left in spec.fields and spec.fields[left].type in ("many2one", "many2one_reference"):
            if operator == "=" and isinstance(right, int) and not isinstance(right, bool):
                yield left, [right]
            elif (
                operator == "in"
                and isinstance(right, (list, tuple))
                and all(isinstance(v, int) and not isinstance(v, bool) for v in right)
            ):
                yield left, list(right)


def _enter(ordered: list[tuple[Any, int]], value: Any, record_id: int) -> None:
    if value is not None:
        bisect.insort(ordered, (value, record_id))  # new stamps are the latest: an append


def _leave(ordered: list[tuple[Any, int]], value: Any, record_id: int) -> None:
    if value is not None:
        position = bisect.bisect_left(ordered, (value, record_id))
        if position < len(ordered) and ordered[position] == (value, record_id):
            del ordered[position]


class Journal:
    """Undo log of one transaction: each touched record's row before the call (None: created)."""

    def __init__(self) -> None:
        self.saved: dict[tuple[str, int], dict[str, Any] | None] = {}
        self.next_ids: dict[str, int] = {}

    def before_change(self, table: Table, record_id: int) -> None:
        key = (table.spec.name, record_id)
        if key not in self.saved:
            self.saved[key] = dict(table.rows[record_id])

    def created(self, table: Table, record_id: int, next_id_before: int) -> None:
        self.next_ids.setdefault(table.spec.name, next_id_before)
        self.saved.setdefault((table.spec.name, record_id), None)

    def rollback(self, tables: dict[str, Table]) -> None:
        for (model, record_id), old in reversed(list(self.saved.items())):
            table = tables[model]
            if record_id in table.rows:
                table.delete(record_id)
            if old is not None:
                table.restore(old)
        for model, next_id in self.next_ids.items():
            tables[model].next_id = next_id
