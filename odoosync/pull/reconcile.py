"""Reconcile: Odoo's ids against the database's, and deletes only on proof.

A stream's first reconcile (and every one after a full walk) lists all of Odoo's ids
(``search``, ids only) in keyset chunks until an empty one, range by range against the
ids the database holds. Later ones list only where Odoo's counts differ from the counted
id ranges the last listing left (:mod:`odoosync.id_ranges`): one ``search_count`` of
everything, a bisection where it differs, and one range chosen at random listed anyway.

In a listed range, records the database lacks are read and written; rows Odoo did not
list are only *candidates*. They are asked for again by id (:func:`confirmed_gone`), and
only those still absent are marked deleted, and only within the stream's mass-delete
limit (:func:`check_delete_share`). A chunk's length proves nothing (Odoo drops some ids
after SQL's LIMIT, never without one), and a run the budget stops deletes nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from odoosync.exceptions import MassDeleteRefused
from odoosync.id_ranges import IdRanges, Span, differing_spans, scope_of
from odoosync.streams.base import Stream

if TYPE_CHECKING:
    from odoosync.pull.run import StreamRun

__all__ = [
    "DEFAULT_MAX_DELETE_SHARE",
    "FirstRound",
    "Listing",
    "ID_CHUNK",
    "MASS_DELETE_FLOOR",
    "check_delete_share",
    "confirmed_gone",
    "id_chunk",
    "list_span",
    "listing_after_walk",
    "reconcile",
    "send_first_round",
]

ID_CHUNK = 10_000  # ids per reconcile ``search``; small JSON, bounded memory
WALK_LISTING_CHUNKS = 8  # a finished walk lists every id at once up to this many chunks (80,000 ids, ~3 MiB)
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


def id_chunk(client: Any, stream: Stream, after: int, upto: int | None = None) -> list[int]:
    """Odoo's next ``ID_CHUNK`` ids after ``after`` (up to ``upto``; ids only, archived
    included)."""
    return client.search(
        stream.model, [*stream.domain, *Span(after, upto).domain()], limit=ID_CHUNK, order="id", active_test=False
    )


def reconcile(run: StreamRun, *, fetch_missing: bool) -> None:
    """Compare Odoo's ids with the database's where they may differ (module docstring);
    the records the database lacks are read and written when ``fetch_missing``."""
    stream = run.stream
    ahead, run.reconcile_ahead = run.reconcile_ahead, None
    known = run.state.id_ranges if ahead is None else ahead.known
    started = time.monotonic()
    if run.walked or not _trusted(run, known):
        outcome = _list_everything(run, scope_of(stream.model, stream.domain), fetch_missing=fetch_missing)
    else:
        assert known is not None
        answers = first_round(run, known) if ahead is None else ahead.answers.result()
        outcome = _list_differing(run, known, answers, fetch_missing=fetch_missing)
        run.budget.record(time.monotonic() - started)
    if outcome is None:
        return
    ranges, candidates = outcome
    gone = confirmed_gone(run.client, stream, candidates)
    if gone:
        with run.store.connect() as conn:
            present = len(stream.target.present_ids(conn, run.ctx, 0, None))
        check_delete_share(
            stream.name,
            len(gone),
            present,
            max_share=run.options.max_delete_share,
            allow_mass_delete=run.options.allow_mass_delete,
        )
        run.pages.mark_deleted(gone)
    run.keep_id_ranges(ranges)


@dataclass(frozen=True)
class Listing:
    """Odoo's ids as a full walk hands them over: every id up to the last one listed
    (a first page that held the whole table, or one ``search`` without a limit). Ids
    created past it are the tail, which every later reconcile lists."""

    ids: list[int]

    def ranges(self, stream: Stream) -> IdRanges:
        return IdRanges.from_listing(scope_of(stream.model, stream.domain), [self.ids], ID_CHUNK)


def listing_after_walk(client: Any, stream: Stream, rows: int) -> Listing | list[int]:
    """What a finished walk of ``rows`` records asks for the reconcile: every id in one
    ``search`` without a limit while that stays small (``WALK_LISTING_CHUNKS``; one
    request where chunk after chunk would be one round trip each, after the walk's last
    page), else the first chunk of a complete listing."""
    if rows <= WALK_LISTING_CHUNKS * ID_CHUNK:
        return Listing(list_span(client, stream, Span(0, None)))
    return id_chunk(client, stream, 0)


def _list_everything(run: StreamRun, scope: str, *, fetch_missing: bool) -> tuple[IdRanges, list[int]] | None:
    """Every id, chunk by chunk until an empty one, or as the walk listed them (None:
    the budget stopped it): the ranges the chunks make and the deletion candidates."""
    after = 0
    candidates: list[int] = []
    chunks: list[list[int]] = []
    while True:
        if not run.may_continue():
            return None
        step_started = time.monotonic()
        prefetched, run.first_ids = run.first_ids, None
        if prefetched is None or after:
            ids = id_chunk(run.client, run.stream, after)
        else:
            answer = prefetched.result() if isinstance(prefetched, Future) else prefetched
            if isinstance(answer, Listing):
                candidates = _compare(run, Span(0, None), answer.ids, fetch_missing=fetch_missing)
                run.emit("reconcile")
                return answer.ranges(run.stream), candidates
            ids = answer
        upto = int(ids[-1]) if ids else None
        candidates.extend(_compare(run, Span(after, upto), ids, fetch_missing=fetch_missing))
        run.emit("reconcile")
        run.budget.record(time.monotonic() - step_started)
        if upto is None:
            return IdRanges.from_listing(scope, chunks, ID_CHUNK), candidates
        chunks.append([int(i) for i in ids])
        after = upto


@dataclass(frozen=True)
class FirstRound:
    """The reconcile's first round, sent before the increment so that both travel
    together: the ranges it counts against (the increment extends the state's, whose new
    ids the tail listing covers) and its answers (:func:`first_round`)."""

    known: IdRanges
    answers: Future[dict[str, Any]]


def send_first_round(run: StreamRun, executor: Executor) -> FirstRound | None:
    """Send the first round in the background when the stored ranges will be used
    (None: a complete listing follows)."""
    known = run.state.id_ranges
    if not _trusted(run, known):
        return None
    assert known is not None
    return FirstRound(known, executor.submit(first_round, run, known))


def _trusted(run: StreamRun, known: IdRanges | None) -> bool:
    """Whether ``known`` counts this stream's set (same model and domain)."""
    return known is not None and known.scope == scope_of(run.stream.model, run.stream.domain)


def first_round(run: StreamRun, known: IdRanges) -> dict[str, Any]:
    """One concurrent round: Odoo's count of the ranges (``count``; not when there is one
    range) and the ids of the tail and of one range picked at random (``list``: one
    ``search``, by span)."""
    client, stream = run.client, run.stream
    probed = [known.tail]
    if known.ranges:
        index = pick_range(len(known.ranges))
        probed.insert(0, known.span(index, index))

    def ask(what: str) -> Any:
        if what == "count":
            return _count(client, stream, Span(0, known.last))
        return list_spans(client, stream, probed)

    asks = ["count", "list"] if len(known.ranges) > 1 else ["list"]  # one range: the listing is all
    return dict(zip(asks, client.map_concurrent(ask, asks), strict=True))


def _count(client: Any, stream: Stream, span: Span) -> int:
    return int(client.search_count(stream.model, [*stream.domain, *span.domain()], active_test=False))


def _list_differing(
    run: StreamRun, known: IdRanges, answers: dict[str, Any], *, fetch_missing: bool
) -> tuple[IdRanges, list[int]] | None:
    """After the first round's ``answers``, the ranges whose counts differ are found by
    bisection and listed (None: the budget stopped it). Returns the ranges relisted and
    the deletion candidates."""
    client, stream = run.client, run.stream

    def counts(spans: list[Span]) -> list[int]:
        return client.map_concurrent(lambda span: _count(client, stream, span), spans)

    differing = differing_spans(known, counts, answers["count"]) if "count" in answers else []
    listed: dict[Span, list[int]] = {
        span: ids  # a picked range a differing span holds is listed again with it
        for span, ids in answers["list"].items()
        if not any(s.holds(span.upto or 0) for s in differing)
    }
    for span in differing:
        if not run.may_continue():
            return None
        listed[Span(span.after, span.upto)] = list_span(client, stream, span)
    candidates: list[int] = []
    for span, ids in listed.items():
        candidates.extend(_compare(run, span, ids, fetch_missing=fetch_missing))
    run.emit("reconcile")
    return known.relisted(listed), candidates


def pick_range(count: int) -> int:
    """Which of ``count`` ranges a reconcile lists whatever the counts say: any, at
    random, so that every range is listed now and then (module docstring)."""
    return random.randrange(count)


def list_span(client: Any, stream: Stream, span: Span) -> list[int]:
    """Odoo's ids in ``span``: one ``search`` without a limit (nothing is dropped after a
    LIMIT there is not) unless Odoo counted more than two chunks in it, then chunk by
    chunk until an empty one."""
    if span.found is None or span.found <= 2 * ID_CHUNK:
        return list_spans(client, stream, [span])[span]
    ids: list[int] = []
    after = span.after
    while chunk := id_chunk(client, stream, after, span.upto):
        ids.extend(int(i) for i in chunk)
        after = ids[-1]
    return ids


def list_spans(client: Any, stream: Stream, spans: Sequence[Span]) -> dict[Span, list[int]]:
    """Odoo's ids in each of ``spans`` (disjoint), with one ``search`` of their union and
    no limit."""
    union: list[Any] = []
    for span in spans:
        union = ["|", *union, *_conjunction(span.domain())] if union else _conjunction(span.domain())
    found = [int(i) for i in client.search(stream.model, [*stream.domain, *union], order="id", active_test=False)]
    return {span: [i for i in found if span.holds(i)] for span in spans}


def _conjunction(leaves: list[Any]) -> list[Any]:
    return ["&" for _ in leaves[1:]] + leaves


def _compare(run: StreamRun, span: Span, ids: Sequence[int], *, fetch_missing: bool) -> list[int]:
    """Odoo's ``ids`` in ``span`` against the database's: the records it lacks are read
    and written (``fetch_missing``); returns the rows Odoo did not list (candidates)."""
    target, in_odoo = run.stream.target, {int(i) for i in ids}
    with run.store.connect() as conn:
        present = target.present_ids(conn, run.ctx, span.after, span.upto)
        lacking = sorted(in_odoo - present - run.pages.quarantined)  # quarantined ones were just tried
        if lacking:  # the app's deletions stay absent: not read again
            lacking = sorted(set(lacking) - target.app_deleted(conn, run.ctx, lacking))
    if fetch_missing and lacking:
        run.read_and_write(lacking)
    return sorted(present - in_odoo)
