"""Real Odoo 16-19 answers (``shared/odoo-recordings/``) replayed against the simulator.

Each recording holds what a real server answered to one JSON-RPC request in a case where
Odoo is less regular than a naive model of it: pages and id searches that come back
short while more follows (rows the user may not read are dropped *after* SQL's LIMIT),
one ``write_date`` per transaction served in whole seconds and compared differently by
version, two writes in one second, and what ``action_feedback`` leaves behind. Every
recorded request is sent, as recorded (ids, stamps and credentials aside), to a simulator
playing that version over HTTP, and its answer must show the same behaviour.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from odoosync.simulator import Simulator
from odoosync.simulator.generator import MESSAGES

RECORDINGS = Path(__file__).resolve().parents[2].parent / "shared" / "odoo-recordings"
VERSIONS = ("16", "17", "18", "19")


def _recording_file(version: str) -> Path:
    return RECORDINGS / f"real-odoo-{version}.jsonl"


def _cases(version: str) -> dict[str, dict[str, Any]]:
    with _recording_file(version).open(encoding="utf-8") as lines:
        return {case["case"]: case for case in map(json.loads, lines)}


pytestmark = pytest.mark.skipif(
    not all(_recording_file(v).exists() for v in VERSIONS) and os.environ.get("CI") != "true",
    reason=f"the Odoo recordings are not beside the checkout ({RECORDINGS}); under CI=true this fails",
)


class Replay:
    """Sends recorded JSON-RPC bodies to a simulator, with its database and credentials."""

    def __init__(self, sim: Simulator):
        self.sim = sim
        self.http = httpx.Client(base_url=sim.url, timeout=60)

    def __call__(self, case: dict[str, Any], **changes: Any) -> Any:
        body = copy.deepcopy(case["request"])
        args = body["params"]["args"]
        args[0], args[1], args[2] = self.sim.db, self.sim.uid, self.sim.password
        for index, value in changes.items():
            args[int(index.removeprefix("arg"))] = value
        answer = self.http.post("/jsonrpc", json=body).json()
        assert "error" not in answer, answer
        return answer["result"]


def _result(case: dict[str, Any]) -> Any:
    return case["response"]["result"]


@pytest.fixture(scope="module", params=VERSIONS)
def recorded(request: pytest.FixtureRequest) -> Iterator[tuple[dict[str, dict[str, Any]], Replay]]:
    """One simulator per version, sized so that its chatter is on the same side of the
    recorded 10,000-id search limit as the real server's was."""
    cases = _cases(request.param)
    count = _result(cases["short_page.count"])
    scale = min(0.4, max(0.05, count / MESSAGES))
    with Simulator(scale=scale, seed=0, version=f"{request.param}.0") as sim:
        replay = Replay(sim)
        yield cases, replay
        replay.http.close()


def test_message_pages_come_back_short_while_more_follows(recorded) -> None:
    cases, replay = recorded
    first_case = cases["short_page.first"]
    limit = first_case["request"]["params"]["args"][6]["limit"]
    first = replay(first_case)
    assert len(_result(first_case)) < limit, "the recording shows a short first page"
    assert 0 < len(first) < limit
    after = first[-1]["id"]
    next_case = cases["short_page.next"]
    domain = copy.deepcopy(next_case["request"]["params"]["args"][5])
    domain[0][-1] = ["id", ">", after]
    following = replay(next_case, arg5=domain)
    assert len(_result(next_case)) > 0 and len(following) > 0, "rows follow the short page"
    assert replay(cases["short_page.count"]) > len(first)


def test_an_id_search_is_short_exactly_when_the_real_one_was(recorded) -> None:
    cases, replay = recorded
    case = cases["short_search.ids"]
    limit = case["request"]["params"]["args"][6]["limit"]
    real_ids, real_count = _result(case), _result(cases["short_page.count"])
    ids = replay(case)
    count = replay(cases["short_page.count"])
    real_short = len(real_ids) < min(limit, real_count)
    assert (len(ids) < min(limit, count)) == real_short, (len(ids), count, len(real_ids), real_count)
    if not real_short:
        assert len(ids) == count


def _company_one_leads(sim: Simulator, count: int) -> list[int]:
    """Leads the recorded context (``allowed_company_ids: [1]``) may write."""
    with sim.env() as env:
        return env["crm.lead"].search([("company_id", "=", 1)], limit=count, order="id")


def test_one_bulk_write_stamps_every_record_alike_and_compares_by_version(recorded) -> None:
    cases, replay = recorded
    write, read = cases["stamp.bulk_write"], cases["stamp.read"]
    ids = _company_one_leads(replay.sim, len(write["request"]["params"]["args"][5][0]))
    assert replay(write, arg5=[ids, *write["request"]["params"]["args"][5][1:]]) is True
    stamps = {r["write_date"] for r in replay(read, arg5=[ids, *read["request"]["params"]["args"][5][1:]])}
    assert len(stamps) == len({r["write_date"] for r in _result(cases["stamp.read"])}) == 1
    (stamp,) = stamps
    assert len(stamp) == 19, "served in whole seconds"
    for operator in ("=", ">=", ">", "<="):
        case = cases[f"stamp.search_{operator}"]
        domain = copy.deepcopy(case["request"]["params"]["args"][5])
        assert domain[0][1] == ["write_date", operator, domain[0][1][2]]
        domain[0][0][2], domain[0][1][2] = ids, stamp
        assert replay(case, arg5=domain) == _result(case), f"write_date {operator} its served value"


def test_two_writes_in_one_second_keep_the_served_stamp(recorded) -> None:
    cases, replay = recorded
    first, second = cases["same_second.first"], cases["same_second.second"]
    (lead_id,) = _company_one_leads(replay.sim, 1)
    replay.sim.clock.freeze()
    try:
        values = []
        for case, revenue in ((first, 1001.0), (second, 1002.0)):
            with replay.sim.env() as env:
                env["crm.lead"].write([lead_id], {"expected_revenue": revenue})
            values.append(replay(case, arg5=[[lead_id], *case["request"]["params"]["args"][5][1:]])[0])
    finally:
        replay.sim.clock.release()
    real = [_result(first)[0], _result(second)[0]]
    assert real[0]["write_date"] == real[1]["write_date"] and real[0]["expected_revenue"] != real[1]["expected_revenue"]
    assert values[0]["write_date"] == values[1]["write_date"]
    assert [v["expected_revenue"] for v in values] == [1001.0, 1002.0]


def test_a_done_activity_is_deleted_before_19_and_archived_from_19(recorded) -> None:
    cases, replay = recorded
    feedback, after = cases["activity_done.feedback"], cases["activity_done.after"]
    type_name = feedback["seen"].split("'")[-2]  # "... ([2, 'Call'])"
    with replay.sim.env() as env:
        (type_id,) = env["mail.activity.type"].search([("name", "=", type_name)])
        activity_id = env["mail.activity"].search([("activity_type_id", "=", type_id)], limit=1)[0]  # archived hidden
    assert isinstance(replay(feedback, arg5=[[activity_id]]), int), "the done message's id"
    assert replay(after, arg5=[[["id", "=", activity_id]]]) == _result(after)
