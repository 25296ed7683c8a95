"""Reading an answer's ``Date`` header: where a call sits on the server's clock."""

from __future__ import annotations

import datetime as dt

import pytest

from odoosync.odoo.channel import AnswerTime

ANSWERED = dt.datetime(2026, 3, 1, 12, 0, 10, tzinfo=dt.UTC)


def test_the_call_began_no_later_than_date_minus_its_duration_minus_a_second() -> None:
    answer = AnswerTime.of("Sun, 01 Mar 2026 12:00:10 GMT", 0.25)
    assert answer == AnswerTime(ANSWERED, 0.25)
    assert answer.request_began_no_later_than() == ANSWERED - dt.timedelta(seconds=1.25)


def test_an_offset_is_converted_to_utc() -> None:
    answer = AnswerTime.of("Sun, 01 Mar 2026 13:00:10 +0100", 0.0)
    assert answer is not None and answer.date == ANSWERED


@pytest.mark.parametrize("header", [None, "", "yesterday", "Sun, 99 Foo 2026"])
def test_no_readable_date_header_places_nothing(header: str | None) -> None:
    assert AnswerTime.of(header, 0.1) is None
