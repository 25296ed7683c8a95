"""Writing one stream's pages: each page with its checkpoint in one transaction.

Unchanged records are skipped before any write (a page with nothing to write and no
checkpoint move opens no write transaction). A page the database refuses is written row
by row: the rows still refused go to the quarantine (``pull/rejects.py``), the rest are
written, then the checkpoint moves past the page, so one bad record never stops its
stream. Every run retries its quarantined records first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from odoosync.exceptions import StoreIntegrityError
from odoosync.models import RunCounters
from odoosync.pull import rejects
from odoosync.store import checkpoints
from odoosync.store.port import PullStore
from odoosync.streams.base import PageContext, Stream

__all__ = ["PageWriter"]

log = logging.getLogger("odoosync.pull")

Records = Sequence[Mapping[str, Any]]


class PageWriter:
    """Writes the pages of one run of one stream (see the module docstring).

    ``counts`` is what the pages did so far (fetched, written, skipped, deleted,
    rejected); ``stored_state`` is the checkpoint as committed; ``quarantined`` the stream's Odoo ids
    in the quarantine, ``refused`` those the database refused again in this run (written
    once per run, not once per page that carries them)."""

    def __init__(
        self,
        store: PullStore,
        stream: Stream,
        ctx: PageContext,
        *,
        key: str,
        backend: str,
        on_page: Callable[[], None],
    ):
        self.store = store
        self.stream = stream
        self.ctx = ctx
        self.key = key
        self.backend = backend
        self.on_page = on_page
        self.counts = RunCounters()
        self.stored_state: dict[str, Any] | None = None
        self.quarantined: set[int] = set()
        self.refused: set[int] = set()

    def commit(self, records: Records, state: dict[str, Any] | None) -> None:
        """Write the page's changed records and ``state`` (None: leave the checkpoint
        alone) in one transaction."""
        target = self.stream.target
        if records and not self.ctx.force:
            with self.store.connect() as conn:
                changed = target.select_changed(self.ctx, conn, records)
        else:
            changed = list(records)
        if self.refused:  # refused earlier in this run: quarantined once per run
            changed = [r for r in changed if int(r["id"]) not in self.refused]
        self.counts += RunCounters(fetched=len(records), skipped=len(records) - len(changed))
        new_state = self.stored_state if state is None else state
        if changed or new_state != self.stored_state:
            try:
                with self.store.transaction(origin="pull") as conn:
                    counts = target.write_page(self.ctx, conn, changed)
                    if state is not None:
                        checkpoints.put(conn, self.key, state)
                    self._release(conn, changed)
            except StoreIntegrityError:
                if not changed:
                    raise
                counts = self._write_row_by_row(changed, state)
            self.counts += counts
            self.stored_state = new_state
        self.on_page()

    def mark_deleted(self, odoo_ids: list[int]) -> None:
        """Mark rows deleted (the caller holds the proof)."""
        with self.store.transaction(origin="pull") as conn:
            count = self.stream.target.mark_deleted(conn, self.ctx, odoo_ids)
        self.counts += RunCounters(deleted=count)

    def retry_quarantined(
        self,
        read: Callable[[list[int]], list[dict[str, Any]]],
        confirmed_gone: Callable[[list[int]], list[int]],
        page_size: int,
    ) -> None:
        """Read the stream's quarantined records again (``read``: one page by ids) and
        write them: those that pass (or that Odoo no longer has) leave the quarantine,
        the others count one more attempt. Runs first in every run of the stream."""
        if not self.quarantined:
            return
        ids = sorted(self.quarantined)
        found: set[int] = set()
        for start in range(0, len(ids), page_size):
            records = read(ids[start : start + page_size])
            found.update(int(r["id"]) for r in records)
            self.commit(records, None)
        gone = confirmed_gone(sorted(set(ids) - found))
        if gone:
            with self.store.transaction(origin="pull") as conn:
                rejects.clear(conn, backend=self.backend, stream=self.stream.name, odoo_ids=gone)
            self.quarantined -= set(gone)

    def _write_row_by_row(self, records: Records, state: dict[str, Any] | None) -> RunCounters:
        """A page the database refused: each record in its own transaction; those still
        refused go to the quarantine, the rest are written, then the checkpoint moves
        past the page."""
        target, counts = self.stream.target, RunCounters()
        written = []
        for record in records:
            odoo_id = int(record["id"])
            try:
                with self.store.transaction(origin="pull") as conn:
                    counts += target.write_page(self.ctx, conn, [record])
                written.append(record)
            except StoreIntegrityError as exc:
                log.warning(
                    "%s: Odoo record %s refused by the database, quarantined: %s", self.stream.name, odoo_id, exc
                )
                with self.store.transaction(origin="pull") as conn:
                    rejects.record(conn, backend=self.backend, stream=self.stream.name, odoo_id=odoo_id, error=str(exc))
                self.refused.add(odoo_id)
                counts += RunCounters(rejected=1)
                self.quarantined.add(odoo_id)
                self.ctx.cache.clear()  # lookups made in the rolled-back transaction are gone
                target.begin_run(self.ctx)
        with self.store.transaction(origin="pull") as conn:
            if state is not None:
                checkpoints.put(conn, self.key, state)
            self._release(conn, written)
        return counts

    def _release(self, conn: sa.Connection, written: Records) -> None:
        """Written records leave the quarantine (one statement, only while it holds some)."""
        if self.quarantined and written:
            done = self.quarantined & {int(r["id"]) for r in written}
            if done:
                rejects.clear(conn, backend=self.backend, stream=self.stream.name, odoo_ids=done)
                self.quarantined -= done
