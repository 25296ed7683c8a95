"""The scheduler fires jobs, contains their failures, records lock skips, pauses and resumes.

A six-field schedule (seconds first) makes jobs fire every second; tests wait for events
(bounded), never assert on elapsed time.
"""

from __future__ import annotations

import threading

import pytest

from odoosync.cron import parse_cron
from odoosync.exceptions import ConfigError, LockHeld
from odoosync.service.scheduler import (
    DEFAULT_SCHEDULE,
    DesiredSchedule,
    DynamicJob,
    ScheduleChanges,
    Scheduler,
    resolve_schedule,
)

EVERY_SECOND = "* * * * * *"


def _wait(condition, timeout: float = 15.0) -> bool:
    event = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if condition():
            return True
        event.wait(0.05)
    return condition()


def test_default_schedule_is_c6():
    assert DEFAULT_SCHEDULE["increments"] == "* * * * *"
    assert DEFAULT_SCHEDULE["reference"] == "*/15 * * * *"
    assert DEFAULT_SCHEDULE["sla"] == "*/5 * * * *"
    assert parse_cron(DEFAULT_SCHEDULE["reconcile"]).fields[6].expressions  # hourly: a fixed minute
    assert str(parse_cron(DEFAULT_SCHEDULE["reconcile"]).fields[5]) == "*"  # ...of every hour


def test_resolve_schedule_precedence_and_errors():
    jobs = ("leads", "sla")
    resolved = resolve_schedule(
        jobs,
        toml={"leads": "*/2 * * * *"},
        database={"sla": "0 * * * *"},
        defaults={"leads": "* * * * *", "sla": "* * * * *"},
    )
    assert resolved == {"leads": "*/2 * * * *", "sla": "0 * * * *"}
    assert (
        resolve_schedule(
            jobs, toml={"sla": "1 * * * *"}, database={"sla": "2 * * * *"}, defaults={"leads": "1 * * * *"}
        )["sla"]
        == "2 * * * *"
    )
    with pytest.raises(ConfigError) as info:
        resolve_schedule(jobs, toml={"nope": "* * * * *", "leads": "61 * * * *"}, database={"sla": "x"})
    text = " ".join(info.value.problems)
    assert "nope" in text and "leads" in text and "sla" in text


def test_jobs_fire_and_a_failing_job_does_not_stop_the_others():
    calls = {"good": 0, "bad": 0}
    errors: list[str] = []

    def good(trigger):
        assert trigger == "schedule"
        calls["good"] += 1

    def bad(trigger):
        calls["bad"] += 1
        raise RuntimeError("boom")

    scheduler = Scheduler(
        {"good": good, "bad": bad},
        {"good": EVERY_SECOND, "bad": EVERY_SECOND},
        on_error=lambda job, exc: errors.append(job),
    )
    scheduler.start()
    try:
        assert _wait(lambda: calls["bad"] >= 3 and calls["good"] >= 3)
    finally:
        scheduler.shutdown()
    assert errors.count("bad") >= 3 and "good" not in errors


def test_lock_held_is_reported_as_a_skip():
    skips: list[tuple[str, str | None]] = []

    def locked(trigger):
        raise LockHeld("held", holder="host-1 pid 42")

    scheduler = Scheduler({"leads": locked}, {"leads": EVERY_SECOND}, on_skip=lambda j, h: skips.append((j, h)))
    scheduler.start()
    try:
        assert _wait(lambda: len(skips) >= 1)
    finally:
        scheduler.shutdown()
    assert skips[0] == ("leads", "host-1 pid 42")


def test_overlapping_fire_is_skipped_not_queued():
    release = threading.Event()
    started = threading.Event()
    skips: list[str] = []

    def slow(trigger):
        started.set()
        release.wait(20)

    scheduler = Scheduler({"slow": slow}, {"slow": EVERY_SECOND}, on_skip=lambda j, h: skips.append(j))
    scheduler.start()
    try:
        assert started.wait(15)
        assert _wait(lambda: len(skips) >= 1)
        assert scheduler.info("slow").running
    finally:
        release.set()
        scheduler.shutdown()


def test_pause_resume_and_next_run_time():
    calls: list[str] = []
    scheduler = Scheduler({"a": calls.append}, {"a": "0 0 1 1 *"})
    scheduler.start()
    try:
        assert scheduler.info("a").next_run_at is not None
        info = scheduler.pause("a")
        assert info.paused and info.next_run_at is None
        scheduler.run_now("a")  # a paused job does not run
        info = scheduler.resume("a")
        assert not info.paused and info.next_run_at is not None
        scheduler.run_now("a")
        assert _wait(lambda: calls == ["schedule"])
        assert scheduler.describe()[0].as_dict()["cron"] == "0 0 1 1 *"
        with pytest.raises(KeyError):
            scheduler.pause("nope")
    finally:
        scheduler.shutdown()


class _Source:
    """A schedule source the test edits between refreshes (the service's reads the database)."""

    def __init__(self) -> None:
        self.jobs: dict[str, DynamicJob] = {}
        self.paused: set[str] = set()
        self.reads = 0

    def __call__(self) -> DesiredSchedule:
        self.reads += 1
        return DesiredSchedule(jobs=dict(self.jobs), paused=frozenset(self.paused))


def test_without_a_source_refresh_changes_nothing():
    scheduler = Scheduler({"a": lambda trigger: None}, {"a": "0 0 1 1 *"})
    assert not scheduler.refresh() and scheduler.job_names() == ["a"]


def test_refresh_adds_reschedules_pauses_and_removes_dynamic_jobs():
    source = _Source()
    scheduler = Scheduler({"a": lambda trigger: None}, {"a": "0 0 1 1 *"}, source=source)
    scheduler.start()
    try:
        source.jobs["sheet:1"] = DynamicJob(lambda trigger: None, "*/15 * * * *")
        assert scheduler.refresh() == ScheduleChanges(added=("sheet:1",))
        assert scheduler.info("sheet:1").cron == "*/15 * * * *" and scheduler.info("sheet:1").next_run_at

        source.paused.add("sheet:1")
        assert scheduler.refresh() == ScheduleChanges(paused=("sheet:1",))
        source.jobs["sheet:1"] = DynamicJob(lambda trigger: None, "5 * * * *")
        assert scheduler.refresh() == ScheduleChanges(rescheduled=("sheet:1",))
        info = scheduler.info("sheet:1")
        assert info.cron == "5 * * * *" and info.paused and info.next_run_at is None, "a new cron keeps the pause"

        source.paused.clear()
        assert scheduler.refresh() == ScheduleChanges(resumed=("sheet:1",))
        assert scheduler.info("sheet:1").next_run_at.minute == 5

        del source.jobs["sheet:1"]
        assert scheduler.refresh() == ScheduleChanges(removed=("sheet:1",))
        assert scheduler.job_names() == ["a"] and not scheduler.refresh()
    finally:
        scheduler.shutdown()


def test_refresh_pauses_static_jobs_and_adds_paused_jobs_paused():
    calls: list[str] = []
    source = _Source()
    source.paused = {"a", "sheet:2"}
    source.jobs["sheet:2"] = DynamicJob(calls.append, EVERY_SECOND)
    scheduler = Scheduler({"a": calls.append}, {"a": EVERY_SECOND}, source=source)
    assert scheduler.refresh() == ScheduleChanges(added=("sheet:2",), paused=("a",))  # before start, as serve does
    assert all(job.paused and job.next_run_at is None for job in scheduler.describe())
    ticks: list[str] = []
    source.jobs["tick"] = DynamicJob(ticks.append, EVERY_SECOND)
    scheduler.refresh()
    scheduler.start()
    try:
        assert _wait(lambda: len(ticks) >= 3), "the unpaused job fires"
        assert calls == [], "paused jobs do not"
        scheduler.run_now("a")
        source.paused = set()
        assert set(scheduler.refresh().resumed) == {"a", "sheet:2"}
        assert _wait(lambda: "schedule" in calls)
    finally:
        scheduler.shutdown()


def test_a_bad_dynamic_job_is_left_out_and_reported_once(caplog):
    source = _Source()
    source.jobs = {
        "sheet:3": DynamicJob(lambda trigger: None, "61 * * * *"),
        "a": DynamicJob(lambda trigger: None, "* * * * *"),
    }
    scheduler = Scheduler({"a": lambda trigger: None}, {"a": "0 0 1 1 *"}, source=source)
    assert not scheduler.refresh() and not scheduler.refresh()
    assert scheduler.job_names() == ["a"] and scheduler.info("a").cron == "0 0 1 1 *"
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 2 and any("sheet:3" in e for e in errors) and any("built-in" in e for e in errors)


def test_the_source_is_read_every_refresh_interval_and_its_failures_are_contained():
    source = _Source()
    failing = {"on": True}

    def flaky() -> DesiredSchedule:
        if failing["on"]:
            failing["on"] = False
            raise RuntimeError("database away")
        return source()

    source.jobs["sheet:4"] = DynamicJob(lambda trigger: None, "0 0 1 1 *")
    scheduler = Scheduler({"a": lambda trigger: None}, {"a": "0 0 1 1 *"}, source=flaky, refresh_seconds=0.2)
    scheduler.start()
    try:
        assert _wait(lambda: "sheet:4" in scheduler.job_names()), "picked up after a failed refresh"
        assert "_refresh" not in scheduler.job_names()
    finally:
        scheduler.shutdown()
