"""Reading a CSV body as a stream of records, in chunks, with bounded memory.

The body is decoded line by line as UTF-8 (with or without a byte-order mark) and read
by the stdlib ``csv`` module one record at a time (a record may span lines when a cell
holds a line break, as Google's export writes them). Callers take the header first,
then chunks of records, each with the row number a person sees in the spreadsheet (the
header is row 1), so an error can say "row 17".

The reader is strict, because a lenient one loses data silently: an unbalanced quote
makes it swallow the rest of the file into one cell, and the rows after it would look
deleted. So a body that is not UTF-8, not CSV (an HTML page, whatever its
``Content-Type``) or not cleanly quoted stops the parse with ``SheetFormatError``,
naming the row and what to do; unlike a bad row, there is nothing sensible to continue
with. Nothing of the body is echoed beyond a short excerpt.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from odoosync.exceptions import SheetFormatError

__all__ = ["CsvRecords", "Record", "DEFAULT_CHUNK_ROWS", "looks_like_html"]

DEFAULT_CHUNK_ROWS = 1000
# A cell of a Google Sheet holds at most 50,000 characters; allow some margin.
_MAX_CELL_CHARS = 1_000_000
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title", b"<script")
_RE_EXPORT = (
    're-export it from Google Sheets (File → Download → Comma-separated values), or save it as "CSV UTF-8" in Excel'
)


def looks_like_html(start: bytes) -> bool:
    """True when the first bytes of a body are an HTML page (a sign-in or error page, not a sheet)."""
    head = start.lstrip(codecs.BOM_UTF8).lstrip().lower()
    return head.startswith(_HTML_MARKERS)


@dataclass(frozen=True)
class Record:
    """One CSV record and its spreadsheet row number (header = 1)."""

    row: int
    cells: list[str]


class CsvRecords:
    """A CSV body as ``header`` plus ``chunks()`` of ``Record``; ``progress`` is 0.0–1.0 by bytes read."""

    def __init__(self, body: IO[bytes], *, size: int | None = None):
        csv.field_size_limit(max(csv.field_size_limit(), _MAX_CELL_CHARS))
        if looks_like_html(body.read(512)):
            raise SheetFormatError(
                "the address returned a web page (HTML), not CSV: check that the URL is the sheet's link "
                "and that the sheet is shared (Anyone with the link) or published to the web"
            )
        body.seek(0)
        self._body = body
        self._size = size
        self._reader = csv.reader(self._lines(), strict=True)
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

    def _lines(self) -> Iterator[str]:
        """The body's lines as text; a byte that is not UTF-8 names the row it is in."""
        first = True
        for raw in self._body:
            try:
                line = raw.decode("utf-8-sig" if first else "utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[max(0, exc.start - 20) : exc.end + 20].decode("utf-8", "replace").strip()
                raise SheetFormatError(
                    f"row {self._records_read + 1}: the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} "
                    f"in {bad!r}); {_RE_EXPORT}"
                ) from None
            first = False
            yield line

    def records(self) -> Iterator[Record]:
        """Every record after the header; blank lines are skipped (they keep their number)."""
        while True:
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise SheetFormatError(self._csv_problem(exc)) from None
            # A spreadsheet counts records, not physical lines (a cell may hold a line break).
            self._records_read += 1
            if not "".join(cells).strip():
                continue
            yield Record(self._records_read, cells)

    def _csv_problem(self, exc: csv.Error) -> str:
        row = self._records_read + 1
        reason = str(exc)
        if "unexpected end of data" in reason:
            what = 'a quote (") opened in this row is never closed, so the rest of the file would run into one cell'
        elif "expected after" in reason:
            what = 'a quoted cell has text after its closing quote ("..."x)'
        elif "field larger than" in reason:
            what = f"a cell is longer than {_MAX_CELL_CHARS:,} characters"
        else:
            what = f"not valid CSV ({reason})"
        return f"row {row}: {what}; nothing was changed. Fix the quoting in that row or {_RE_EXPORT}"

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
