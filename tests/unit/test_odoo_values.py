"""Normalisation at the edge: Odoo's wire values ↔ Python values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from odoosync.odoo.values import (
    normalize_record,
    normalize_records,
    normalize_value,
    parse_datetime,
    to_odoo,
    to_wire,
)

TYPES = {
    "id": "integer",
    "name": "char",
    "active": "boolean",
    "partner_id": "many2one",
    "tag_ids": "many2many",
    "create_date": "datetime",
    "date_deadline": "date",
    "expected_revenue": "monetary",
    "description": "html",
}


def test_a_crm_lead_as_odoo_sends_it_is_normalised():
    raw = {
        "id": 7,
        "name": "Big deal",
        "active": False,
        "partner_id": [3, "Azure Interior"],
        "tag_ids": [1, 2],
        "create_date": "2024-03-05 14:07:09",
        "date_deadline": "2024-04-01",
        "expected_revenue": 0.0,
        "description": False,
    }
    assert normalize_record(raw, TYPES) == {
        "id": 7,
        "name": "Big deal",
        "active": False,
        "partner_id": (3, "Azure Interior"),
        "tag_ids": [1, 2],
        "create_date": datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC),
        "date_deadline": date(2024, 4, 1),
        "expected_revenue": 0.0,
        "description": None,
    }


_DATES = ["2024-03-05 14:07:09", "2024-04-01"]
_WIRE_VALUES = st.one_of(
    st.just(False),
    st.just(True),
    st.integers(),
    st.text(max_size=5),
    st.sampled_from(_DATES),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.integers(), st.text(max_size=3)).map(list),
)


@given(st.dictionaries(st.sampled_from([*TYPES, "unknown"]), _WIRE_VALUES))
def test_a_record_is_normalised_in_place_as_each_of_its_values_would_be(raw):
    assume(all(v in _DATES for k, v in raw.items() if TYPES.get(k) in ("date", "datetime") and isinstance(v, str)))
    expected = {name: normalize_value(value, TYPES.get(name)) for name, value in raw.items()}
    normalised = normalize_record(raw, TYPES)
    assert normalised is raw  # no second dict per record
    assert normalised == expected


_PAGE_VALUES = {
    "partner_id": st.one_of(st.just(False), st.sampled_from([[1, "A"], [2, "B"], [1, "A again"]])),
    "create_date": st.one_of(st.just(False), st.sampled_from(["2024-03-05 14:07:09", "2024-03-05 14:07:10"])),
    "date_deadline": st.one_of(st.just(False), st.sampled_from(["2024-04-01", "2024-04-02"])),
    "name": st.sampled_from(["x", "2024-04-01", False]),
}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries(_PAGE_VALUES), max_size=12))
def test_a_page_shares_its_equal_pairs_and_dates_and_equals_normalising_each_value(page):
    wire = [dict(record) for record in page]
    normalised = normalize_records(wire, TYPES)
    assert normalised is wire and all(a is b for a, b in zip(normalised, wire, strict=True))  # in place
    expected = [{name: normalize_value(value, TYPES[name]) for name, value in record.items()} for record in page]
    assert normalised == expected
    assert [[type(v) for v in r.values()] for r in normalised] == [[type(v) for v in r.values()] for r in expected]
    for name in ("partner_id", "create_date", "date_deadline"):
        values = [r[name] for r in normalised if r[name] is not None]
        for a in values:
            for b in values:
                if a == b:
                    assert a is b, (name, a, b)  # one object per distinct value of the page


def test_false_becomes_none_for_every_non_boolean_type():
    for field_type in ("char", "text", "html", "many2one", "datetime", "date", "selection", "integer", "float"):
        assert normalize_value(False, field_type) is None
    assert normalize_value(False, "boolean") is False


def test_fields_of_unknown_type_are_left_alone():
    assert normalize_record({"x": False, "y": [1, "a"]}, {}) == {"x": False, "y": [1, "a"]}


def test_many2one_with_load_none_stays_an_id():
    assert normalize_value(5, "many2one") == 5


def test_datetimes_are_timezone_aware_utc():
    value = parse_datetime("2024-01-02 03:04:05")
    assert value.tzinfo is UTC
    assert parse_datetime("2024-01-02 03:04:05.123456").microsecond == 123456
    assert parse_datetime("2024-01-02T05:04:05+02:00") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_values_sent_to_odoo():
    aware = datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert to_odoo(
        {"a": None, "b": aware, "c": date(2024, 1, 2), "d": (3, "Azure"), "e": [(6, 0, [1])], "f": False}
    ) == {"a": False, "b": "2024-01-02 03:04:05", "c": "2024-01-02", "d": 3, "e": [(6, 0, [1])], "f": False}


def test_wire_arguments_have_no_dates_or_tuples():
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    domain = ["|", ("write_date", ">", when), ("id", "in", (1, 2))]
    assert to_wire(domain) == ["|", ["write_date", ">", "2024-01-02 03:04:05"], ["id", "in", [1, 2]]]


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_datetime_round_trip(value):
    value = value.replace(microsecond=0)
    sent = to_odoo({"d": value})["d"]
    assert normalize_value(sent, "datetime") == value


@given(st.dates(min_value=date(1900, 1, 1)))
def test_date_round_trip(value):
    assert normalize_value(to_odoo({"d": value})["d"], "date") == value
