"""The service side's modules list their public API in ``__all__``, each name exists, and
each module says what it is for."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "odoosync.service.jobs",
    "odoosync.service.scheduler",
    "odoosync.service.schedule_state",
    "odoosync.service.pg_cron",
    "odoosync.service.sla",
    "odoosync.service.freshness",
    "odoosync.service.metrics",
    "odoosync.service.events",
    "odoosync.web.app",
    "odoosync.web.api",
    "odoosync.web.auth",
    "odoosync.cli.serve",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_existing_names_and_the_module_is_documented(name):
    module = importlib.import_module(name)
    assert module.__doc__ and len(module.__doc__.strip()) > 40, f"{name} explains its concept"
    assert module.__all__, f"{name} lists its public API"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []
