"""A sync's private scratch space: the sheet's rows and the customer's leads, side by side.

A 100k-row sheet must not sit in memory, and the diff needs three things memory would
otherwise give: duplicate keys found, rows sorted by key for the checksum, and the
sheet joined with the existing leads. So the rows go, chunk by chunk, into a private
SQLite file in the temp directory (journal off: it is thrown away at the end), and
those questions become indexed queries on it. The application database sees nothing of
this until the diff writes its batches.

Nothing here knows about the application database; ``diff.py`` feeds the existing
leads in and reads the plan out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from odoosync.sheets.mapping import RowError, SheetLead

__all__ = ["Stage", "StagedRow"]

StagedRow = tuple[str, dict[str, Any]]  # (row key, lead values incl. "extra" and "digest")


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
    """The staged sheet (``add``), its duplicates and checksum, and the plan against existing leads."""

    def __init__(self) -> None:
        handle, self._path = tempfile.mkstemp(prefix="odoosync-sheet-", suffix=".sqlite")
        os.close(handle)
        self._db = sqlite3.connect(self._path, isolation_level=None)
        self._db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            PRAGMA temp_store = FILE;
            CREATE TABLE sheet (row INTEGER PRIMARY KEY, key TEXT NOT NULL, digest TEXT NOT NULL, data TEXT NOT NULL);
            CREATE TABLE existing (key TEXT PRIMARY KEY, lead_id INTEGER NOT NULL, digest TEXT, deleted INTEGER NOT NULL);
            CREATE TABLE present (key TEXT PRIMARY KEY) WITHOUT ROWID;
            """
        )
        self._indexed = False
        self.rows = 0

    def close(self) -> None:
        self._db.close()
        try:
            os.unlink(self._path)
        except FileNotFoundError:
            pass

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the sheet side ----------------------------------------------------------------

    def add(self, leads: Iterable[SheetLead]) -> None:
        """Stage one chunk of valid rows."""
        batch = [
            (
                lead.row,
                lead.key,
                lead.digest,
                json.dumps(lead.values | {"extra": lead.extra}, default=str),
            )
            for lead in leads
        ]
        self._db.execute("BEGIN")
        self._db.executemany("INSERT INTO sheet (row, key, digest, data) VALUES (?, ?, ?, ?)", batch)
        self._db.execute("COMMIT")
        self.rows += len(batch)

    def keep_present(self, keys: Iterable[str]) -> None:
        """Keys of rows that are in the sheet but invalid: their leads stay as they are."""
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR IGNORE INTO present (key) VALUES (?)", [(key,) for key in keys])
        self._db.execute("COMMIT")

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
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM sheet WHERE row = ?", [(row,) for row, _, _ in duplicates])
            self._db.execute("COMMIT")
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

    def add_existing(self, leads: Iterable[tuple[str, int, str | None, bool]]) -> None:
        """Stage one chunk of the customer's existing sheet leads: (key, lead id, digest, deleted)."""
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT INTO existing (key, lead_id, digest, deleted) VALUES (?, ?, ?, ?)",
            [(key, lead_id, digest, int(deleted)) for key, lead_id, digest, deleted in leads],
        )
        self._db.execute("COMMIT")

    def new_rows(self, batch: int) -> Iterator[list[StagedRow]]:
        """Sheet rows with no lead yet, in batches."""
        yield from self._batches(
            "SELECT s.key, s.data, s.digest FROM sheet s LEFT JOIN existing e ON e.key = s.key "
            "WHERE e.key IS NULL ORDER BY s.row",
            batch,
        )

    def changed_rows(self, batch: int) -> Iterator[list[tuple[int, str, dict[str, Any]]]]:
        """(lead id, key, values) of rows whose lead differs or was soft-deleted (a restore), in batches."""
        self._index()
        cursor = self._db.execute(
            "SELECT e.lead_id, s.key, s.data, s.digest FROM sheet s JOIN existing e ON e.key = s.key "
            "WHERE e.deleted = 1 OR e.digest IS NULL OR e.digest <> s.digest ORDER BY s.row"
        )
        while chunk := cursor.fetchmany(batch):
            yield [(lead_id, key, _values(data, digest)) for lead_id, key, data, digest in chunk]

    def restorable(self) -> int:
        """How many soft-deleted leads have their row back in the sheet."""
        self._index()
        return self._db.execute(
            "SELECT COUNT(*) FROM sheet s JOIN existing e ON e.key = s.key WHERE e.deleted = 1"
        ).fetchone()[0]

    _VANISHED = (
        "FROM existing e WHERE e.deleted = 0 AND NOT EXISTS (SELECT 1 FROM sheet s WHERE s.key = e.key) "
        "AND NOT EXISTS (SELECT 1 FROM present p WHERE p.key = e.key)"
    )

    def vanished_count(self) -> int:
        """How many live leads the diff would soft-delete (their row left the sheet)."""
        self._index()
        return self._db.execute(f"SELECT COUNT(*) {self._VANISHED}").fetchone()[0]

    def live_count(self) -> int:
        """How many live sheet leads the customer has now."""
        return self._db.execute("SELECT COUNT(*) FROM existing WHERE deleted = 0").fetchone()[0]

    def vanished_leads(self, batch: int) -> Iterator[list[int]]:
        """Ids of live leads whose row left the sheet (not merely invalid), in batches."""
        self._index()
        cursor = self._db.execute(f"SELECT e.lead_id {self._VANISHED} ORDER BY e.lead_id")
        while chunk := cursor.fetchmany(batch):
            yield [lead_id for (lead_id,) in chunk]

    def _batches(self, sql: str, batch: int) -> Iterator[list[StagedRow]]:
        self._index()
        cursor = self._db.execute(sql)
        while chunk := cursor.fetchmany(batch):
            yield [(key, _values(data, digest)) for key, data, digest in chunk]

    def _index(self) -> None:
        if not self._indexed:
            self._db.execute("CREATE INDEX sheet_key ON sheet (key)")
            self._indexed = True
