"""Freshness colours: C6's thresholds, configurable, monotonic in age."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoosync.service.freshness import Thresholds, badge, describe_age, freshness, overall_colour, stream_statuses

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
RANK = {"green": 0, "amber": 1, "red": 2}


@pytest.mark.parametrize(
    ("minutes_ago", "colour"),
    [(0, "green"), (29.9, "green"), (30, "amber"), (45, "amber"), (60, "amber"), (60.1, "red"), (600, "red")],
)
def test_c6_thresholds(minutes_ago, colour):
    assert freshness(NOW - dt.timedelta(minutes=minutes_ago), NOW) == colour


def test_never_synced_is_red():
    assert freshness(None, NOW) == "red"


@given(st.floats(0, 10_000), st.floats(0, 10_000))
def test_older_is_never_fresher(a, b):
    younger, older = sorted((a, b))
    assert (
        RANK[freshness(NOW - dt.timedelta(minutes=younger), NOW)]
        <= RANK[freshness(NOW - dt.timedelta(minutes=older), NOW)]
    )


def test_thresholds_from_config_and_validation():
    custom = Thresholds.from_config({"amber_after_seconds": 60, "red_after_seconds": 120})
    assert freshness(NOW - dt.timedelta(seconds=90), NOW, custom) == "amber"
    assert Thresholds.from_config(None) == Thresholds()
    with pytest.raises(ValueError):
        Thresholds.from_config({"amber_after_seconds": 300, "red_after_seconds": 60})


def test_stream_statuses_and_overall():
    statuses = stream_statuses(
        {"leads": {"id": 3, "status": "failed", "started_at": NOW}},
        {"leads": NOW - dt.timedelta(minutes=5), "stages": NOW - dt.timedelta(minutes=40)},
        streams=["chatter"],
        next_runs={"leads": NOW + dt.timedelta(seconds=30)},
        now=NOW,
    )
    by_name = {s.stream: s for s in statuses}
    assert [s.stream for s in statuses] == ["chatter", "leads", "stages"]
    assert by_name["chatter"].freshness == "red" and by_name["chatter"].last_run is None
    assert by_name["leads"].freshness == "green" and by_name["leads"].last_run["status"] == "failed"
    assert by_name["leads"].as_dict()["next_run_at"] == "2026-05-01T12:00:30+00:00"
    assert by_name["stages"].age_seconds == 2400
    assert overall_colour(statuses) == "red"
    assert overall_colour([]) == "green"


def test_badge_and_age_text():
    (status,) = stream_statuses({}, {"leads": NOW - dt.timedelta(minutes=3)}, now=NOW)
    text = badge(status)
    assert text.plain == "● green 3 min ago"
    assert [(text.plain[s.start : s.end], s.style) for s in text.spans] == [("● green", "green")]
    assert describe_age(None) == "never" and describe_age(5) == "just now" and describe_age(7200) == "2 h ago"
    assert describe_age(86400 * 3) == "3 days ago"
