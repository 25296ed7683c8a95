"""Reading a CSV body as a stream of records, in chunks, with bounded memory.

The body is decoded as UTF-8 with or without a byte-order mark and read by the stdlib
``csv`` module one record at a time (a record may span lines when a cell holds a line
break, as Google's export writes them). Callers take the header first, then chunks of
records, each with the row number a person sees in the spreadsheet (the header is row
1), so an error can say "row 17".

A body that is not UTF-8 or not CSV at all stops the parse with ``SheetFormatError``:
unlike a bad row, there is nothing sensible to continue with.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from odoosync.exceptions import SheetFormatError

__all__ = ["CsvRecords", "Record", "DEFAULT_CHUNK_ROWS"]

DEFAULT_CHUNK_ROWS = 1000
# A cell of a Google Sheet holds at most 50,000 characters; allow some margin.
_MAX_CELL_CHARS = 1_000_000


@dataclass(frozen=True)
class Record:
    """One CSV record and its spreadsheet row number (header = 1)."""

    row: int
    cells: list[str]


class CsvRecords:
    """A CSV body as ``header`` plus ``chunks()`` of ``Record``; ``progress`` is 0.0–1.0 by bytes read."""

    def __init__(self, body: BinaryIO, *, size: int | None = None):
        csv.field_size_limit(max(csv.field_size_limit(), _MAX_CELL_CHARS))
        self._body = body
        self._size = size
        self._text = io.TextIOWrapper(body, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(self._text, strict=False)
        self._records_read = 0
        self.header: list[str] = self._first_record()

    @property
    def progress(self) -> float:
        """How far through the body the reader is (0.0–1.0; 0.0 when the size is unknown)."""
        if not self._size:
            return 0.0
        try:
            return min(1.0, self._body.tell() / self._size)
        except (OSError, ValueError):
            return 0.0

    def records(self) -> Iterator[Record]:
        """Every record after the header; blank lines are skipped (they keep their number)."""
        while True:
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise SheetFormatError(f"after row {self._reader.line_num}: the sheet is not UTF-8 text ({exc.reason})") from None
            except csv.Error as exc:
                raise SheetFormatError(f"row {self._reader.line_num}: not valid CSV ({exc})") from None
            # A spreadsheet counts records, not physical lines (a cell may hold a line break).
            self._records_read += 1
            if not cells or all(not cell.strip() for cell in cells):
                continue
            yield Record(self._records_read, cells)

    def chunks(self, size: int = DEFAULT_CHUNK_ROWS) -> Iterator[list[Record]]:
        """Records in lists of at most ``size`` (the unit of staging, progress and pause checks)."""
        chunk: list[Record] = []
        for record in self.records():
            chunk.append(record)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _first_record(self) -> list[str]:
        for record in self.records():
            return [cell.strip() for cell in record.cells]
        raise SheetFormatError("the sheet is empty: no header row")
