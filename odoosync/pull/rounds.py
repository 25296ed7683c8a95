"""A full walk's rounds, read ahead of their writes.

A round is one page of every unfinished partition, asked for concurrently. The next
round's position is known as soon as a round arrives (each partition continues after its
page's last id), so a reader thread asks for it at once, while the round just read is
prepared (the target's prefetch, on a thread of its own) and written by the walk. At most
``ROUNDS_HELD`` rounds are between their request and the end of their write, and only one
while the walk waits for the streams it comes after (``pull/prerequisites.py``; it is
read and prepared when the wait ends): memory stays bounded by the rounds, never by the
table, and streams that overlap while one waits for another add one round each.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from odoosync.cursor import FullWalk, Partition

if TYPE_CHECKING:
    from odoosync.pull.run import StreamRun

__all__ = ["ROUNDS_HELD", "ReadRound", "RoundReader"]

ROUNDS_HELD = 2  # rounds requested and not yet written: one written, one read ahead (3 was no faster)
_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ReadRound:
    """A round as read: the partitions asked, a page each, their records in one list, and
    where the reads stand after it (``advanced``)."""

    active: list[tuple[int, Partition]]
    pages: list[list[dict[str, Any]]]
    records: list[dict[str, Any]]
    advanced: FullWalk
    prepared: Future[None]


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_END = object()


class RoundReader:
    """Reads the rounds of a walk from ``start`` on a thread of its own; iterating yields
    them in order once prepared, and a round's slot is freed when the next is asked for
    (its write is done). ``on_last_round(rows)`` runs on the reader thread when the
    walk's last round has arrived, before it is handed over; ``rows``: records read so far."""

    def __init__(
        self, run: StreamRun, start: FullWalk, *, rows_before: int, on_last_round: Callable[[int], None]
    ) -> None:
        self.run = run
        self.start = start
        self.rows = rows_before
        self.on_last_round = on_last_round
        self._slots = threading.Semaphore(1)  # until the walk may write (:meth:`writing`)
        self._rounds: queue.Queue[Any] = queue.Queue()
        self._closed = threading.Event()
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoosync-read-ahead")
        self._preparer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoosync-prepare")

    def __enter__(self) -> RoundReader:
        self._reader.submit(self._read_all)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._closed.set()
        self._reader.shutdown(wait=True)
        self._preparer.shutdown(wait=True)

    def writing(self) -> None:
        """The walk may write now: up to ``ROUNDS_HELD`` rounds between request and write."""
        self._slots.release(ROUNDS_HELD - 1)

    def __iter__(self) -> Iterator[ReadRound]:
        while (item := self._rounds.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            item.prepared.result()
            yield item
            self._slots.release()  # that round is written

    def _read_all(self) -> None:
        run, position = self.run, self.start
        try:
            while not position.finished and self._take_slot() and run.may_continue():
                active = [(i, p) for i, p in enumerate(position.partitions) if not p.done]
                pages = run.client.map_concurrent(lambda item: run.read_page(item[1].domain()), active)
                for (index, partition), records in zip(active, pages, strict=True):
                    last_id = int(records[-1]["id"]) if records else None
                    position = position.with_partition(index, partition.advanced(last_id))
                read = [record for records in pages for record in records]
                self.rows += len(read)
                prepared = self._preparer.submit(run.stream.target.prefetch, run.ctx, read)
                if position.finished:
                    self.on_last_round(self.rows)
                self._rounds.put(ReadRound(active, pages, read, position, prepared))
        except BaseException as error:  # noqa: BLE001 - handed to the walk, which raises it
            self._rounds.put(_Failed(error))
        finally:
            self._rounds.put(_END)

    def _take_slot(self) -> bool:
        """Wait until fewer than ``ROUNDS_HELD`` rounds are held; False once closed."""
        while not self._slots.acquire(timeout=_POLL_SECONDS):
            if self._closed.is_set():
                return False
        return not self._closed.is_set()
