"""The scheduler fires jobs, contains their failures, records lock skips, pauses and resumes.

A six-field schedule (seconds first) makes jobs fire every second; tests wait for events
(bounded), never assert on elapsed time.
"""

from __future__ import annotations

import threading

import pytest

from odoosync.exceptions import ConfigError, LockHeld
from odoosync.scheduler import DEFAULT_SCHEDULE, Scheduler, parse_cron, resolve_schedule

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
        jobs, toml={"leads": "*/2 * * * *"}, database={"sla": "0 * * * *"}, defaults={"leads": "* * * * *", "sla": "* * * * *"}
    )
    assert resolved == {"leads": "*/2 * * * *", "sla": "0 * * * *"}
    assert resolve_schedule(jobs, toml={"sla": "1 * * * *"}, database={"sla": "2 * * * *"}, defaults={"leads": "1 * * * *"})["sla"] == "2 * * * *"
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
