"""Fault decisions: scripts hit exactly the n-th matching call, rates are seeded and scoped."""

from __future__ import annotations

from odoosync.simulator.faults import Faults, RequestInfo


def _call(model: str, method: str) -> RequestInfo:
    return RequestInfo("jsonrpc", "object", method, model)


def test_script_by_model_and_method_counts_only_matching_calls() -> None:
    faults = Faults.parse("crm.lead.write#2:reset,search_read#1:503")
    decisions = [
        faults.decide(_call("res.partner", "write")),
        faults.decide(_call("crm.lead", "write")),
        faults.decide(_call("crm.lead", "search_read")),
        faults.decide(_call("crm.lead", "write")),
        faults.decide(_call("crm.lead", "write")),
    ]
    assert [d.kind if d else None for d in decisions] == [None, None, "503", "reset", None]


def test_a_script_for_one_model_spares_other_models_calls_while_its_count_stands() -> None:
    faults = Faults.parse("res.partner.search_read#1:500")
    decisions = [
        faults.decide(_call("res.partner", "search_read")),  # the 1st: hit
        faults.decide(_call("crm.lead", "search_read")),  # partners' count is still 1
        faults.decide(_call("res.partner", "search_read")),
    ]
    assert [d.kind if d else None for d in decisions] == ["500", None, None]


def test_script_by_request_number_and_retry_after() -> None:
    faults = Faults.parse("#2:429", retry_after=7)
    first, second = faults.decide(RequestInfo("http", "common", "version")), faults.decide(_call("crm.lead", "read"))
    assert first is None and second is not None and second.status == 429 and second.retry_after == 7


def test_rates_are_reproducible_and_spare_non_data_calls() -> None:
    def run(seed: int) -> list[str | None]:
        faults = Faults.parse("500:0.3,timeout:0.1", seed=seed)
        return [(d.kind if (d := faults.decide(_call("crm.lead", "search_read"))) else None) for _ in range(200)]

    first = run(3)
    assert first == run(3) and first != run(4)
    assert 30 < first.count("500") < 90 and 5 < first.count("timeout") < 40
    login = Faults.parse("500:1.0")
    assert login.decide(RequestInfo("jsonrpc", "common", "authenticate")) is None
    assert Faults.parse("500:1.0", scope="all").decide(RequestInfo("jsonrpc", "common", "authenticate")) is not None
