"""Reconcile: Odoo's ids against the database's, and deletes only on proof.

Odoo's ids are listed (``search``, ids only) in keyset chunks until an empty one, range
by range against the ids the database holds: records the database lacks are read and
written as the chunks come; rows Odoo did not list are only *candidates*. Once the whole
range has been listed they are asked for again by id (:func:`confirmed_gone`), and only
those still absent are marked deleted, and only within the stream's mass-delete limit
(:func:`check_delete_share`). A chunk's length proves nothing (Odoo drops some ids after
SQL's LIMIT), and a run the budget stops before the end deletes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from odoosync.exceptions import MassDeleteRefused
from odoosync.streams.base import Stream

if TYPE_CHECKING:
    from odoosync.pull.run import StreamRun

__all__ = [
    "DEFAULT_MAX_DELETE_SHARE",
    "ID_CHUNK",
    "MASS_DELETE_FLOOR",
    "check_delete_share",
    "confirmed_gone",
    "id_chunk",
    "reconcile",
]

ID_CHUNK = 10_000  # ids per reconcile ``search``; small JSON, bounded memory
DEFAULT_MAX_DELETE_SHARE = 0.10  # a reconcile deleting more of a stream than this refuses
MASS_DELETE_FLOOR = 10  # ... unless it deletes at most this many rows (and not all of them)


def confirmed_gone(client: Any, stream: Stream, candidates: Sequence[int]) -> list[int]:
    """The candidates Odoo still does not return when asked for them by id (the stream's
    domain, archived included, no limit so nothing is dropped after one): the proof a
    row may be marked deleted."""
    still: set[int] = set()
    for start in range(0, len(candidates), ID_CHUNK):
        chunk = list(candidates[start : start + ID_CHUNK])
        found = client.search(stream.model, [*stream.domain, ("id", "in", chunk)], order="id", active_test=False)
        still.update(int(i) for i in found)
    return [i for i in candidates if i not in still]


def check_delete_share(stream: str, deleting: int, present: int, *, max_share: float, allow_mass_delete: bool) -> None:
    """Refuse (``MassDeleteRefused``, nothing deleted) deleting every row of a non-empty
    stream, or more than ``max_share`` of it and more than ``MASS_DELETE_FLOOR`` rows,
    unless mass deletes are allowed."""
    if allow_mass_delete or present <= 0:
        return
    share = deleting / present
    everything = deleting >= present
    if everything or (share > max_share and deleting > MASS_DELETE_FLOOR):
        raise MassDeleteRefused(
            f"stream {stream!r}: refusing to delete {deleting:,} of {present:,} rows "
            f"({share:.0%}; the limit is {max_share:.0%}"
            f"{' and never all of them' if everything else ''}) that Odoo no longer returns. "
            "Nothing was deleted. If Odoo really lost them (or the sync user lost access), re-run with "
            f"--allow-mass-delete (odoosync sync {stream} --allow-mass-delete); if not, check the "
            "sync user's rights and companies (ODOO_COMPANY_IDS).",
            stream=stream,
            deleting=deleting,
            present=present,
        )


def id_chunk(client: Any, stream: Stream, after: int) -> list[int]:
    """Odoo's next ``ID_CHUNK`` ids after ``after`` (ids only, archived included)."""
    return client.search(
        stream.model, [*stream.domain, ("id", ">", after)], limit=ID_CHUNK, order="id", active_test=False
    )


def reconcile(run: StreamRun, *, fetch_missing: bool) -> None:
    """Compare Odoo's ids with the database's, range by range (module docstring); the
    records the database lacks are read and written when ``fetch_missing``."""
    after = 0
    candidates: list[int] = []
    present_total = 0
    stream, pages = run.stream, run.pages
    while True:
        if not run.may_continue():
            return
        step_started = time.monotonic()
        prefetched, run.first_ids = run.first_ids, None
        if prefetched is None or after:
            ids = id_chunk(run.client, stream, after)
        else:
            ids = prefetched.result() if isinstance(prefetched, Future) else prefetched
        upto = int(ids[-1]) if ids else None
        with run.store.connect() as conn:
            present = stream.target.present_ids(conn, run.ctx, after, upto)
        present_total += len(present)
        in_odoo = {int(i) for i in ids}
        candidates.extend(sorted(present - in_odoo))
        lacking = sorted(in_odoo - present - pages.quarantined)  # quarantined ones were just tried
        if fetch_missing and lacking:
            run.read_and_write(lacking)
        run.emit("reconcile")
        run.budget.record(time.monotonic() - step_started)
        if upto is None:
            break
        after = upto
    gone = confirmed_gone(run.client, stream, candidates)
    if gone:
        check_delete_share(
            stream.name,
            len(gone),
            present_total,
            max_share=run.options.max_delete_share,
            allow_mass_delete=run.options.allow_mass_delete,
        )
        pages.mark_deleted(gone)
