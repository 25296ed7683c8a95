"""Header matching, value normalisation, row keys and row errors (pure)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from odoosync.exceptions import SheetFormatError
from odoosync.sheets.mapping import (
    ROW_ERROR_KINDS,
    RowError,
    SheetLead,
    map_record,
    normalize_header,
    plan_columns,
    source_email_id,
)
from odoosync.sheets.parse import CsvRecords
from odoosync.sheets.stage import Stage

HEADER = [
    "Company Name",
    "Contact",
    "E-mail Address",
    "Phone Number",
    "Expected Revenue",
    "Closing Date",
    "Tags",
    "Notes",
]


def test_headers_match_by_synonym_ignoring_case_spaces_and_punctuation():
    plan = plan_columns(HEADER)
    assert plan.describe() == {
        "title": "Company Name",
        "contact_name": "Contact",
        "email": "E-mail Address",
        "phone": "Phone Number",
        "value": "Expected Revenue",
        "deadline": "Closing Date",
        "tags": "Tags",
    }
    assert plan.extra == {"Notes": 7}
    assert normalize_header("  E-Mail_Address ") == "emailaddress"


def test_an_explicit_map_wins_over_synonyms():
    plan = plan_columns(["Name", "Business", "Mail"], {"title": "name", "contact_name": "Business"})
    assert plan.describe() == {"title": "Name", "contact_name": "Business", "email": "Mail"}


def test_missing_required_column_names_the_field_but_never_quotes_the_header():
    with pytest.raises(SheetFormatError, match=r"required field 'title'.*2 named column\(s\).*--map title=") as caught:
        plan_columns(["root:x:0:0:root:/root:/bin/bash", "Email"])
    assert "root:x" not in str(caught.value) and "Email" not in str(caught.value)


def test_every_mapping_problem_is_reported_at_once():
    with pytest.raises(SheetFormatError) as caught:
        plan_columns(["Title", "Email"], {"titel": "Title", "phone": "Mobile"}, key_column="Ref")
    message = str(caught.value)
    assert "unknown lead field 'titel'" in message
    assert "column 'Mobile' (mapped to phone)" in message
    assert "key column 'Ref'" in message


def lead(header, cells, **kw) -> SheetLead | RowError:
    return map_record(plan_columns(header, **kw), 5, cells)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1200", Decimal("1200.00")),
        ("£1,234.50", Decimal("1234.50")),
        ("1.234,50 €", Decimal("1234.50")),
        ("1234,5", Decimal("1234.50")),
        ("$ 1,200", Decimal("1200.00")),
        ("12k", Decimal("12000.00")),
        ("(300)", Decimal("-300.00")),
        ("", None),
    ],
)
def test_amounts(raw, expected):
    assert lead(["Title", "Amount"], ["x", raw]).values["value"] == expected


@pytest.mark.parametrize(
    ("raw", "expected", "dayfirst"),
    [
        ("2026-02-03", dt.date(2026, 2, 3), True),
        ("2026-02-03T10:00:00Z", dt.date(2026, 2, 3), True),
        ("03/02/2026", dt.date(2026, 2, 3), True),
        ("03/02/2026", dt.date(2026, 3, 2), False),
        ("25/12/2026", dt.date(2026, 12, 25), False),
        ("3.2.26", dt.date(2026, 2, 3), True),
        ("3 Feb 2026", dt.date(2026, 2, 3), True),
        ("February 3rd, 2026", dt.date(2026, 2, 3), True),
    ],
)
def test_dates(raw, expected, dayfirst):
    assert lead(["Title", "Deadline"], ["x", raw], dayfirst=dayfirst).values["deadline"] == expected


def test_text_is_trimmed_emails_lowered_tags_split():
    got = lead(
        ["Title", "Email", "Tags", "Probability"],
        ["  Roof   repair ", " Ann@Example.COM ", "hot, web;hot | b2b", "40%"],
    )
    assert got.values["title"] == "Roof repair"
    assert got.values["email"] == "ann@example.com"
    assert got.values["tags"] == ["hot", "web", "b2b"]
    assert got.values["probability"] == 40.0


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('\t=HYPERLINK("http://evil.example","Click")', '\t=HYPERLINK("http://evil.example","Click")'),
        ("\t+cmd|' /C calc'!A0", "\t+cmd|' /C calc'!A0"),
        ("\t-2+3", "\t-2+3"),
        ("\t@SUM(A1)", "\t@SUM(A1)"),
        ("\t  Roof  repair ", "Roof repair"),  # a tab before plain text is whitespace as before
        ("  =1+1", "=1+1"),  # not neutralised by the sheet: kept as typed (the app escapes on export)
    ],
)
def test_a_tab_that_neutralises_a_formula_is_kept(cell, expected):
    got = lead(["Title", "Contact"], ["Roof", cell])
    assert got.values["contact_name"] == expected


@pytest.mark.parametrize(
    ("header", "cells", "kind"),
    [
        (["Title", "Email"], ["x"], "column_count"),
        (["Title", "Email"], ["x", "a@b.com", "extra"], "column_count"),
        (["Title", "Email"], ["  ", "a@b.com"], "missing_title"),
        (["Title", "Email"], ["x", "not-an-email"], "bad_email"),
        (["Title", "Amount"], ["x", "twelve"], "bad_amount"),
        (["Title", "Deadline"], ["x", "31/02/2026"], "bad_date"),
        (["Title", "Probability"], ["x", "140"], "bad_number"),
    ],
)
def test_row_errors_carry_kind_and_row_number(header, cells, kind):
    error = lead(header, cells)
    assert isinstance(error, RowError) and error.kind == kind and error.row == 5
    assert error.message.startswith("row 5:")
    assert kind in ROW_ERROR_KINDS


def test_empty_key_cell_is_a_row_error():
    error = lead(["Ref", "Title"], ["", "x"], key_column="ref")
    assert isinstance(error, RowError) and error.kind == "missing_key"


def test_row_key_from_key_column_or_identifying_fields():
    keyed = lead(["Ref", "Title", "Amount"], ["  A-17 ", "x", "1"], key_column="Ref")
    assert keyed.key == "A-17"
    a = lead(["Title", "Email", "Amount"], ["Roof", "A@x.com", "1"])
    b = lead(["Title", "Email", "Amount"], [" roof ", "a@x.com", "999"])  # same identity, other amount
    c = lead(["Title", "Email", "Amount"], ["Roof", "b@x.com", "1"])
    assert a.key == b.key != c.key
    assert a.digest != b.digest
    assert source_email_id(7, a.key) == f"sheet_7_{a.key}"


def test_cosmetic_edits_do_not_change_the_digest():
    a = lead(["Title", "Email", "Notes"], ["Roof repair", "a@x.com", "call back"])
    b = lead(["Title", "Email", "Notes"], [" Roof  repair", "A@X.COM ", "call   back "])
    assert a.digest == b.digest


# -- parsing -------------------------------------------------------------------------------


def records(data: bytes) -> CsvRecords:
    return CsvRecords(io.BytesIO(data), size=len(data))


def test_bom_is_stripped_and_row_numbers_count_records_not_lines():
    parsed = records(b'\xef\xbb\xbfTitle,Notes\r\nA,"two\nlines"\r\n\r\n,\r\nB,x\r\n')
    assert parsed.header == ["Title", "Notes"]
    assert [(r.row, r.cells[0]) for r in parsed.records()] == [(2, "A"), (5, "B")]
    assert parsed.progress == 1.0


def test_chunks_are_bounded():
    data = b"Title\n" + b"".join(f"row {i}\n".encode() for i in range(25))
    assert [len(chunk) for chunk in records(data).chunks(10)] == [10, 10, 5]


def test_not_utf8_and_empty_sheets_are_format_errors():
    with pytest.raises(SheetFormatError, match="not UTF-8"):
        list(records(b"Title\n\xff\xfe broken\n").records())
    with pytest.raises(SheetFormatError, match="empty"):
        records(b"\n\n")


# -- stage ---------------------------------------------------------------------------------


def staged(rows: list[list[str]]) -> Stage:
    plan = plan_columns(["Ref", "Title"], key_column="Ref")
    stage = Stage()
    stage.add(m for i, cells in enumerate(rows, 2) if isinstance(m := map_record(plan, i, cells), SheetLead))
    return stage


def test_duplicates_are_reported_after_the_first_and_dropped():
    with staged([["a", "x"], ["b", "y"], ["a", "z"], ["a", "w"]]) as stage:
        errors = list(stage.drop_duplicates())
        assert [(e.row, e.kind) for e in errors] == [(4, "duplicate_key"), (5, "duplicate_key")]
        assert "first seen in row 2" in errors[0].message
        assert stage.rows == 2


def test_checksum_ignores_row_order_but_not_content():
    with (
        staged([["a", "x"], ["b", "y"]]) as one,
        staged([["b", "y"], ["a", "x"]]) as two,
        staged([["a", "x"], ["b", "Y"]]) as three,
    ):
        assert one.checksum("s") == two.checksum("s") != three.checksum("s")
        assert one.checksum("s") != one.checksum("other mapping")
