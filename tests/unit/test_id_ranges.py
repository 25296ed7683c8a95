"""The reconcile's counted id ranges (``odoosync.id_ranges``), as properties over
generated id sets: a change Odoo made is always inside a span the bisection returns,
and the ranges relisted from those spans count exactly what Odoo holds."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from odoosync.cursor import StreamState
from odoosync.id_ranges import IdRange, IdRanges, Span, differing_spans, scope_of

IDS = st.sets(st.integers(min_value=1, max_value=400), max_size=120)


def _listing(ids: Iterable[int], chunk: int) -> IdRanges:
    ordered = sorted(ids)
    return IdRanges.from_listing("s", [ordered[i : i + chunk] for i in range(0, len(ordered), chunk)], chunk)


def _well_formed(ranges: IdRanges) -> None:
    uptos = [r.upto for r in ranges.ranges]
    assert uptos == sorted(set(uptos)), uptos
    assert all(0 <= r.count <= ranges.chunk for r in ranges.ranges)
    for index in range(len(ranges.ranges)):  # a range never counts more ids than it spans
        assert ranges.ranges[index].count <= ranges.ranges[index].upto - ranges.after(index)


def _in(ids: set[int], span: Span) -> list[int]:
    return sorted(i for i in ids if span.holds(i))


def _odoo(ids: set[int], calls: list[Span]):
    def count(spans: list[Span]) -> list[int]:
        calls.extend(spans)
        return [len(_in(ids, span)) for span in spans]

    return count


def _reconcile(known: IdRanges, odoo: set[int], calls: list[Span] | None = None) -> list[Span]:
    """What the reconcile lists: the differing spans, and the tail every time."""
    whole = len(_in(odoo, Span(0, known.last)))
    return [*differing_spans(known, _odoo(odoo, [] if calls is None else calls), whole), known.tail]


def _relist(known: IdRanges, odoo: set[int], spans: list[Span]) -> IdRanges:
    return known.relisted({Span(s.after, s.upto): _in(odoo, s) for s in spans})


def _counts_match(ranges: IdRanges, odoo: set[int]) -> bool:
    return all(
        r.count == len(_in(odoo, Span(ranges.after(i), r.upto))) for i, r in enumerate(ranges.ranges)
    ) and not _in(odoo, Span(ranges.last, None))


@settings(max_examples=300, deadline=None)
@given(listed=IDS, removed=st.sets(st.integers(1, 400)), chunk=st.integers(1, 12))
def test_every_odoo_delete_lies_in_a_returned_span_and_the_relisted_ranges_count_odoo(
    listed: set[int], removed: set[int], chunk: int
) -> None:
    known = _listing(listed, chunk)
    odoo = listed - removed
    calls: list[Span] = []
    spans = _reconcile(known, odoo, calls)
    for gone in listed - odoo:
        assert any(s.holds(gone) for s in spans), (gone, spans)
    assert all(s.found == len(_in(odoo, s)) for s in spans[:-1])
    relisted = _relist(known, odoo, spans)
    _well_formed(relisted)
    assert _counts_match(relisted, odoo)
    if odoo == listed:
        assert spans == [known.tail] and calls == []  # no change: one count of the ranges, the tail listed


@settings(max_examples=300, deadline=None)
@given(listed=IDS, added=st.sets(st.integers(1, 600)), chunk=st.integers(1, 12))
def test_every_id_odoo_gained_lies_in_a_returned_span_under_or_past_the_ranges(
    listed: set[int], added: set[int], chunk: int
) -> None:
    known = _listing(listed, chunk)
    odoo = listed | added
    spans = _reconcile(known, odoo)
    for new in odoo - listed:
        assert any(s.holds(new) for s in spans), (new, spans)
    relisted = _relist(known, odoo, spans)
    _well_formed(relisted)
    assert _counts_match(relisted, odoo)


@settings(max_examples=300, deadline=None)
@given(listed=IDS, removed=st.sets(st.integers(1, 400)), added=st.sets(st.integers(1, 600)), chunk=st.integers(1, 12))
def test_any_change_leaves_well_formed_ranges_and_only_a_balanced_one_goes_unlisted(
    listed: set[int], removed: set[int], added: set[int], chunk: int
) -> None:
    """Deletes and additions together: what was listed is counted exactly; the ranges not
    listed hold, together, as many ids as they did (a delete balanced by a record that
    entered under an old id: what the random listing of one range a run is there for)."""
    known = _listing(listed, chunk)
    odoo = (listed - removed) | added
    spans = _reconcile(known, odoo)
    relisted = _relist(known, odoo, spans)
    _well_formed(relisted)
    unlisted = [
        (Span(known.after(i), r.upto), r.count)
        for i, r in enumerate(known.ranges)
        if not any(s.holds(r.upto) for s in spans)
    ]
    assert sum(len(_in(odoo, span)) for span, _ in unlisted) == sum(count for _, count in unlisted)
    for gone in listed - odoo:  # a delete not listed sits beside an addition not listed
        if not any(s.holds(gone) for s in spans):
            assert any(not any(s.holds(new) for s in spans) for new in odoo - listed)
    assert all(any(s.holds(new) for s in spans) for new in odoo - listed if new > known.last)


def test_one_change_among_many_ranges_costs_a_count_per_level() -> None:
    listed = set(range(1, 1025))
    known = _listing(listed, 8)  # 128 ranges
    calls: list[Span] = []
    spans = _reconcile(known, listed - {700}, calls)
    assert spans == [Span(688, 704, 15), known.tail]  # two ranges: one search lists them
    assert len(calls) <= 7  # one count per level, not 128 counts


@settings(max_examples=100, deadline=None)
@given(removed=st.sets(st.integers(1, 1024), max_size=200))
def test_the_bisection_never_costs_more_counts_than_there_are_ranges(removed: set[int]) -> None:
    listed = set(range(1, 1025))
    known = _listing(listed, 8)
    calls: list[Span] = []
    spans = _reconcile(known, listed - removed, calls)
    assert len(calls) < len(known.ranges)
    assert sum(len(_in(listed, s)) for s in spans[:-1]) <= len(listed)


@settings(max_examples=200, deadline=None)
@given(listed=IDS, read=st.lists(st.integers(1, 800), max_size=60), chunk=st.integers(1, 12))
def test_ids_an_increment_reads_past_the_ranges_join_them(listed: set[int], read: list[int], chunk: int) -> None:
    known = _listing(listed, chunk)
    extended = known.extended(read)
    _well_formed(extended)
    fresh = {i for i in read if i > known.last}
    assert sum(r.count for r in extended.ranges) == len(listed) + len(fresh)
    assert extended.last == max([known.last, *fresh])
    assert extended.ranges[: max(len(known.ranges) - 1, 0)] == known.ranges[: max(len(known.ranges) - 1, 0)]
    assert _counts_match(extended, listed | fresh)


def test_small_neighbours_merge_and_an_emptied_range_keeps_its_bound() -> None:
    known = IdRanges("s", (IdRange(10, 3), IdRange(20, 3), IdRange(30, 3)), chunk=4)
    relisted = known.relisted({Span(10, 20): []})
    assert relisted.ranges == (IdRange(20, 3), IdRange(30, 3))  # (10, 20] now empty: merged into the first
    assert known.relisted({Span(30, None): [31, 32, 40]}).ranges == (*known.ranges, IdRange(40, 3))


def test_the_ranges_round_trip_through_the_checkpoint() -> None:
    ranges = IdRanges(scope_of("crm.lead", [("type", "=", "opportunity")]), (IdRange(9, 4), IdRange(30, 2)), 10)
    state = StreamState(id_ranges=ranges)
    assert StreamState.from_json(state.to_json()) == state
    assert StreamState.from_json(StreamState().to_json()).id_ranges is None


def test_the_scope_changes_with_the_model_or_the_domain() -> None:
    base = scope_of("mail.message", [("model", "=", "crm.lead")])
    assert base == scope_of("mail.message", [("model", "=", "crm.lead")])
    assert base != scope_of("mail.message", [("model", "=", "res.partner")])
    assert base != scope_of("mail.activity", [("model", "=", "crm.lead")])
