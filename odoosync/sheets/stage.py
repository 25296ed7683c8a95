"""A sync's private scratch space: the sheet's rows, the last sync's rows and the leads, side by side.

A 100k-row sheet must not sit in memory, and the diff needs what memory would otherwise
give: duplicate keys found, rows sorted by key for the checksum, the sheet matched with
the last sync's rows, and joined with the existing leads. So the rows go, chunk by chunk,
into a private SQLite file in the temp directory (journal off: it is thrown away at the
end), and those questions become indexed queries on it. The application database sees
nothing of this until the diff writes its batches.

Tables:

* ``previous``: the last sync's rows (``lead_sync_rows``: key, row digest, lead digest);
* ``sheet``: this sheet's valid rows; ``data`` is NULL for a row whose cells are those of
  a previous row (matched by row digest: not mapped again, its lead not touched);
* ``present``: keys of rows that are in the sheet but invalid (their leads stay);
* ``existing``: the leads the diff needs: all the customer's sheet leads when there is
  no previous sync to go by, else only those of changed rows and of vanished keys.

Nothing here knows about the application database; ``diff.py`` feeds it and reads the
plan out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from odoosync.sheets.mapping import RowError, SheetLead

__all__ = ["Stage", "StagedRow"]

StagedRow = tuple[str, dict[str, Any]]  # (row key, lead values incl. "extra" and "digest")
_CHANGED = "s.data IS NOT NULL"  # a row that was mapped: new, or its cells changed


def _values(data: str, digest: str) -> dict[str, Any]:
    """Stored JSON back to lead values (amounts and dates were stored as text)."""
    values = json.loads(data)
    if values.get("value") is not None:
        values["value"] = Decimal(values["value"])
    if values.get("deadline") is not None:
        values["deadline"] = dt.date.fromisoformat(values["deadline"])
    values["digest"] = digest
    return values


class Stage:
    """The staged sheet, its duplicates and checksum, and the plan against the previous sync and the leads."""

    def __init__(self) -> None:
        handle, self._path = tempfile.mkstemp(prefix="odoosync-sheet-", suffix=".sqlite")
        os.close(handle)
        self._db = sqlite3.connect(self._path, isolation_level=None)
        self._db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            PRAGMA temp_store = FILE;
            CREATE TABLE previous (key TEXT NOT NULL, row_digest TEXT NOT NULL, digest TEXT NOT NULL);
            CREATE TABLE sheet (row INTEGER PRIMARY KEY, key TEXT NOT NULL, digest TEXT NOT NULL, row_digest TEXT, data TEXT);
            CREATE TABLE existing (key TEXT PRIMARY KEY, lead_id INTEGER NOT NULL, digest TEXT, deleted INTEGER NOT NULL);
            CREATE TABLE present (key TEXT PRIMARY KEY) WITHOUT ROWID;
            CREATE TABLE chunk (row INTEGER PRIMARY KEY, row_digest TEXT);
            """
        )
        self._indexed = False
        self.rows = 0
        self.previous = 0

    def close(self) -> None:
        self._db.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _insert(self, sql: str, rows: Sequence[tuple]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany(sql, rows)
        self._db.execute("COMMIT")

    # -- the previous sync -------------------------------------------------------------

    def add_previous(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """One chunk of the last sync's rows: (key, row digest, lead digest)."""
        self._insert("INSERT INTO previous (key, row_digest, digest) VALUES (?, ?, ?)", rows)
        self.previous += len(rows)

    def index_previous(self) -> None:
        """Once loaded (building an index at once is cheaper than keeping it while inserting)."""
        self._db.execute("CREATE INDEX previous_row_digest ON previous (row_digest)")
        self._db.execute("CREATE UNIQUE INDEX previous_key ON previous (key)")

    def add_unchanged(self, digests: Sequence[tuple[int, str | None]]) -> set[int]:
        """Stage the rows of a chunk whose cells digest is a previous row's, as that row (not
        mapped again); returns the row numbers of the others, which must be mapped."""
        self._db.execute("BEGIN")
        self._db.execute("DELETE FROM chunk")
        self._db.executemany("INSERT INTO chunk (row, row_digest) VALUES (?, ?)", digests)
        added = self._db.execute(
            "INSERT INTO sheet (row, key, digest, row_digest, data) "
            "SELECT c.row, p.key, p.digest, c.row_digest, NULL FROM chunk c JOIN previous p ON p.row_digest = c.row_digest"
        ).rowcount
        others = self._db.execute(
            "SELECT c.row FROM chunk c WHERE NOT EXISTS (SELECT 1 FROM sheet s WHERE s.row = c.row)"
        ).fetchall()
        self._db.execute("COMMIT")
        self.rows += added
        return {row for (row,) in others}

    # -- the sheet side ----------------------------------------------------------------

    def add(self, leads: Iterable[SheetLead], row_digests: Mapping[int, str | None] | None = None) -> None:
        """Stage one chunk of mapped valid rows (with each row's cells digest when known)."""
        digests = row_digests or {}
        batch = [
            (
                lead.row,
                lead.key,
                lead.digest,
                digests.get(lead.row),
                json.dumps(lead.values | {"extra": lead.extra}, default=str),
            )
            for lead in leads
        ]
        self._insert("INSERT INTO sheet (row, key, digest, row_digest, data) VALUES (?, ?, ?, ?, ?)", batch)
        self.rows += len(batch)

    def keep_present(self, keys: Iterable[str]) -> None:
        """Keys of rows that are in the sheet but invalid: their leads stay as they are."""
        self._insert("INSERT OR IGNORE INTO present (key) VALUES (?)", [(key,) for key in keys])

    def drop_duplicates(self) -> Iterator[RowError]:
        """Every row whose key an earlier row already has: reported, then removed (the first row wins)."""
        self._index()
        duplicates = self._db.execute(
            """
            SELECT s.row, s.key, first.row
            FROM sheet s JOIN (SELECT key, MIN(row) AS row FROM sheet GROUP BY key HAVING COUNT(*) > 1) first
              ON s.key = first.key AND s.row > first.row
            ORDER BY s.row
            """
        ).fetchall()
        for row, key, first_row in duplicates:
            shown = key if len(key) <= 40 else key[:37] + "..."
            yield RowError(row, "duplicate_key", f"row {row}: duplicate key {shown!r} (first seen in row {first_row})")
        if duplicates:
            self._insert("DELETE FROM sheet WHERE row = ?", [(row,) for row, _, _ in duplicates])
            self.rows -= len(duplicates)

    def checksum(self, salt: str) -> str:
        """SHA-256 of the normalised rows sorted by key (so re-ordering the sheet changes nothing),
        plus the keys of the invalid rows that are present."""
        self._index()
        digest = hashlib.sha256(salt.encode())
        for key, row_digest in self._db.execute("SELECT key, digest FROM sheet ORDER BY key"):
            digest.update(f"{key}\x1f{row_digest}\x1e".encode())
        # Invalid rows count too: one that leaves the sheet lets its lead go.
        for (key,) in self._db.execute("SELECT key FROM present ORDER BY key"):
            digest.update(f"!{key}\x1e".encode())
        return digest.hexdigest()

    # -- the plan ----------------------------------------------------------------------

    _GONE = (
        "NOT EXISTS (SELECT 1 FROM sheet s WHERE s.key = {t}.key) "
        "AND NOT EXISTS (SELECT 1 FROM present p WHERE p.key = {t}.key)"
    )

    def changed_keys(self, batch: int) -> Iterator[list[str]]:
        """Keys of the rows that were mapped (new or changed cells): the leads the diff must look at."""
        self._index()
        cursor = self._db.execute(f"SELECT s.key FROM sheet s WHERE {_CHANGED} ORDER BY s.key")
        while chunk := cursor.fetchmany(batch):
            yield [key for (key,) in chunk]

    def gone_keys(self, batch: int) -> Iterator[list[str]]:
        """Keys of the previous sync that are not in the sheet any more (not even as an invalid row)."""
        self._index()
        cursor = self._db.execute(f"SELECT key FROM previous WHERE {self._GONE.format(t='previous')} ORDER BY key")
        while chunk := cursor.fetchmany(batch):
            yield [key for (key,) in chunk]

    def add_existing(self, leads: Iterable[tuple[str, int, str | None, bool]]) -> None:
        """Stage one chunk of the customer's existing sheet leads: (key, lead id, digest, deleted)."""
        self._insert(
            "INSERT OR REPLACE INTO existing (key, lead_id, digest, deleted) VALUES (?, ?, ?, ?)",
            [(key, lead_id, digest, int(deleted)) for key, lead_id, digest, deleted in leads],
        )

    def new_rows(self, batch: int) -> Iterator[list[StagedRow]]:
        """Sheet rows with no lead yet, in batches."""
        self._index()
        cursor = self._db.execute(
            "SELECT s.key, s.data, s.digest FROM sheet s LEFT JOIN existing e ON e.key = s.key "
            f"WHERE e.key IS NULL AND {_CHANGED} ORDER BY s.row"
        )
        while chunk := cursor.fetchmany(batch):
            yield [(key, _values(data, digest)) for key, data, digest in chunk]

    def changed_rows(self, batch: int) -> Iterator[list[tuple[int, str, dict[str, Any]]]]:
        """(lead id, key, values) of rows whose lead differs or was soft-deleted (a restore), in batches."""
        self._index()
        cursor = self._db.execute(
            "SELECT e.lead_id, s.key, s.data, s.digest FROM sheet s JOIN existing e ON e.key = s.key "
            f"WHERE {_CHANGED} AND (e.deleted = 1 OR e.digest IS NULL OR e.digest <> s.digest) ORDER BY s.row"
        )
        while chunk := cursor.fetchmany(batch):
            yield [(lead_id, key, _values(data, digest)) for lead_id, key, data, digest in chunk]

    def restorable(self) -> int:
        """How many soft-deleted leads have their row back in the sheet."""
        self._index()
        return self._db.execute(
            f"SELECT COUNT(*) FROM sheet s JOIN existing e ON e.key = s.key WHERE e.deleted = 1 AND {_CHANGED}"
        ).fetchone()[0]

    def vanished_count(self) -> int:
        """How many live leads the diff would soft-delete (their row left the sheet)."""
        self._index()
        return self._db.execute(
            f"SELECT COUNT(*) FROM existing e WHERE e.deleted = 0 AND {self._GONE.format(t='e')}"
        ).fetchone()[0]

    def live_count(self) -> int:
        """How many live sheet leads the customer has: the previous sync's rows, else the leads staged."""
        if self.previous:
            return self.previous
        return self._db.execute("SELECT COUNT(*) FROM existing WHERE deleted = 0").fetchone()[0]

    def vanished_leads(self, batch: int) -> Iterator[list[int]]:
        """Ids of live leads whose row left the sheet (not merely invalid), in batches."""
        self._index()
        cursor = self._db.execute(
            f"SELECT e.lead_id FROM existing e WHERE e.deleted = 0 AND {self._GONE.format(t='e')} ORDER BY e.lead_id"
        )
        while chunk := cursor.fetchmany(batch):
            yield [lead_id for (lead_id,) in chunk]

    def rows_to_remember(self, batch: int) -> Iterator[list[tuple[str, str, str]]]:
        """(key, row digest, lead digest) of mapped rows that differ from the previous sync's."""
        self._index()
        cursor = self._db.execute(
            "SELECT s.key, s.row_digest, s.digest FROM sheet s LEFT JOIN previous p ON p.key = s.key "
            f"WHERE {_CHANGED} AND s.row_digest IS NOT NULL "
            "AND (p.key IS NULL OR p.row_digest <> s.row_digest OR p.digest <> s.digest) ORDER BY s.key"
        )
        while chunk := cursor.fetchmany(batch):
            yield list(chunk)

    def _index(self) -> None:
        if not self._indexed:
            self._db.execute("CREATE INDEX sheet_key ON sheet (key)")
            self._indexed = True
