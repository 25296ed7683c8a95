"""The diff as a property: after any sequence of sheet edits, the customer's live sheet
leads are exactly the sheet's rows (first row per key), and no lead is ever duplicated."""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoosync.sheets.engine import SheetSync, SyncSettings
from odoosync.sheets.fetch import SheetFetcher
from odoosync.store.schema import leads

HEADER = ["Ref", "Company", "Amount"]
_examples = itertools.count()

edits = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 30), st.integers(1, 5)),
        st.tuples(st.just("amount"), st.integers(0, 30), st.integers(1, 9)),
        st.tuples(st.just("title"), st.integers(0, 30), st.integers(1, 9)),
        st.tuples(st.just("delete"), st.integers(0, 30), st.just(0)),
        st.tuples(st.just("duplicate"), st.integers(0, 30), st.integers(1, 9)),
        st.tuples(st.just("shuffle"), st.integers(0, 1000), st.just(0)),
    ),
    min_size=1,
    max_size=7,
)


def apply_edit(sheet: list[list[str]], edit: tuple[str, int, int], next_ref: itertools.count) -> list[list[str]]:
    kind, pick, value = edit
    sheet = [list(r) for r in sheet]
    if kind == "add":
        for _ in range(value):
            ref = next(next_ref)
            sheet.append([f"R{ref}", f"Company {ref}", str(ref)])
    elif not sheet:
        return sheet
    elif kind == "amount":
        sheet[pick % len(sheet)][2] = str(value * 7)
    elif kind == "title":
        sheet[pick % len(sheet)][1] = f"Renamed {value}"
    elif kind == "delete":
        del sheet[pick % len(sheet)]
    elif kind == "duplicate":
        original = sheet[pick % len(sheet)]
        sheet.append([original[0], f"Duplicate {value}", "1"])
    elif kind == "shuffle":
        sheet = sheet[pick % len(sheet) :] + sheet[: pick % len(sheet)]
    return sheet


def expected(sheet: list[list[str]]) -> dict[str, tuple[str, str]]:
    first: dict[str, tuple[str, str]] = {}
    for ref, title, amount in sheet:
        first.setdefault(ref, (title, f"{int(amount)}.00"))
    return first


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=edits, initial=st.integers(0, 12))
def test_random_edit_sequences_keep_leads_equal_to_the_sheet(store, sheet_server, steps, initial):
    example = next(_examples)
    path = f"/sheet-{example}.csv"
    next_ref = itertools.count(1)
    sheet = apply_edit([], ("add", 0, initial), next_ref) if initial else []
    with SheetFetcher(allow_private=True) as fetcher:
        engine = SheetSync(store, fetcher, settings=SyncSettings(chunk_rows=4, batch_rows=3))
        url = sheet_server.serve_rows(path, HEADER, sheet)
        state, _ = engine.add(f"customer-{example}", url, key_column="Ref")
        customer = state.customer_id
        ever_seen: set[str] = set()
        for step in [None, *steps]:
            if step is not None:
                sheet = apply_edit(sheet, step, next_ref)
                sheet_server.serve_rows(path, HEADER, sheet)
            result = engine.sync(customer, allow_mass_delete=True)  # random deletes: the guard is tested elsewhere
            assert result.status in ("ok", "unchanged")
            ever_seen |= {ref for ref, _, _ in sheet}
            with store.connect() as conn:
                rows = conn.execute(
                    sa.select(leads.c.source_email_id, leads.c.title, leads.c.value, leads.c.deleted_at).where(
                        leads.c.customer_id == customer
                    )
                ).all()
            prefix = f"sheet_{customer}_"
            live = {sid[len(prefix) :]: (title, str(value)) for sid, title, value, deleted in rows if deleted is None}
            assert live == expected(sheet)
            assert len(rows) == len(ever_seen)  # one lead per key ever seen: restores reuse it
            duplicates = len(sheet) - len({ref for ref, _, _ in sheet})
            assert result.error_count == duplicates  # a 304 reports the errors of the sheet last parsed
