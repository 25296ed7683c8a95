"""The webhook queue's pure parts: payload → target, the secret check, coalescing and retries."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from odoosync.service.webhook_queue import Outcome, PullQueue, Target, target_of
from odoosync.web.webhooks import check_secret


def test_a_message_or_activity_naming_its_lead_targets_the_lead() -> None:
    assert target_of({"_model": "crm.lead", "_id": 7}) == Target("crm.lead", 7)
    assert target_of({"_model": "res.partner", "_id": 3}) == Target("res.partner", 3)
    assert target_of({"_model": "mail.message", "_id": 90, "model": "crm.lead", "res_id": 7}) == Target("crm.lead", 7)
    assert target_of({"_model": "mail.activity", "_id": 5, "res_model": "crm.lead", "res_id": 7}) == Target(
        "crm.lead", 7
    )
    # without the lead (or for another model's chatter) the probe finds out later
    assert target_of({"_model": "mail.message", "_id": 90}) == Target("mail.message", 90)
    assert target_of({"_model": "mail.message", "_id": 90, "model": "res.partner", "res_id": 7}) == Target(
        "mail.message", 90
    )
    assert target_of({"_model": "mail.activity", "_id": 5, "res_model": "crm.lead", "res_id": True}) == Target(
        "mail.activity", 5
    )


def test_the_secret_check() -> None:
    assert check_secret("s3cret", "s3cret")
    assert not check_secret("s3cret", "s3cret ")
    assert not check_secret("s3cret", None)
    assert not check_secret(None, "anything")
    assert not check_secret("", "")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=30))
def test_a_burst_is_pulled_once_per_record(ids: list[int]) -> None:
    pulled: list[Target] = []
    queue = PullQueue(lambda target, _: pulled.append(target) or Outcome.DONE, settle=0.05, stopping=threading.Event())
    try:
        for odoo_id in ids:
            queue.submit(Target("crm.lead", odoo_id))
        assert queue.wait_idle(10)
    finally:
        queue.stop()
    assert sorted(pulled) == sorted({Target("crm.lead", i) for i in ids})
    assert queue.stats.received == len(ids)
    assert queue.stats.coalesced == len(ids) - len(set(ids))


def test_not_yet_and_busy_are_retried_then_given_up() -> None:
    answers = iter([Outcome.NOT_YET, Outcome.BUSY, Outcome.DONE])
    queue = PullQueue(lambda target, _: next(answers), settle=0.01, retry_delays=(0.01, 0.01, 0.01))
    try:
        queue.submit(Target("crm.lead", 1))
        assert queue.wait_idle(10)
        assert (queue.stats.pulls, queue.stats.retries, queue.stats.given_up) == (3, 2, 0)
        queue.pull = lambda target, _: Outcome.NOT_YET
        queue.submit(Target("crm.lead", 2))
        assert queue.wait_idle(10)
        assert queue.stats.given_up == 1  # the schedule brings it later
    finally:
        queue.stop()


def test_an_error_in_a_pull_is_contained_and_retried() -> None:
    calls = []

    def pull(target: Target, _: object) -> str:
        calls.append(target)
        if len(calls) == 1:
            raise RuntimeError("Odoo went away")
        return Outcome.DONE

    queue = PullQueue(pull, settle=0.01, retry_delays=(0.01,))
    try:
        queue.submit(Target("res.partner", 9))
        assert queue.wait_idle(10)
    finally:
        queue.stop()
    assert calls == [Target("res.partner", 9)] * 2
    assert queue.stats.failed == 1
