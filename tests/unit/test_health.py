"""Health checks: each component reported on its own, a raising check is a finding."""

from __future__ import annotations

from odoosync.service.health import CachedProbe, check_all


def test_every_component_is_reported_and_one_failure_hides_nothing() -> None:
    def broken() -> str | None:
        raise ConnectionError("secret detail")

    report = check_all({"database": lambda: None, "odoo": broken, "listener": lambda: "reconnecting after X"})
    assert report == {
        "database": {"ok": True, "detail": "ok"},
        "odoo": {"ok": False, "detail": "ConnectionError"},
        "listener": {"ok": False, "detail": "reconnecting after X"},
    }


def test_a_cached_probe_runs_once_per_interval_and_recovers() -> None:
    now = [0.0]
    calls = []
    state = {"up": False}

    def probe() -> None:
        calls.append(now[0])
        if not state["up"]:
            raise OSError("down")

    check = CachedProbe(probe, seconds=30, clock=lambda: now[0])
    assert check() == "unreachable: OSError"
    state["up"] = True
    now[0] = 10
    assert check() == "unreachable: OSError" and calls == [0.0]  # cached
    now[0] = 31
    assert check() is None and calls == [0.0, 31]
