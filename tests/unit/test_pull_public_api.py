"""The pull side's public names are what ``__all__`` says, and each exists."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "odoosync.cursor",
    "odoosync.pull",
    "odoosync.pull.engine",
    "odoosync.pull.plan",
    "odoosync.pull.budget",
    "odoosync.pull.options",
    "odoosync.pull.run",
    "odoosync.pull.pages",
    "odoosync.pull.reconcile",
    "odoosync.odoo.reader",
    "odoosync.store.port",
    "odoosync.streams.base",
    "odoosync.streams.mirror",
    "odoosync.streams.customers",
    "odoosync.streams.leads",
    "odoosync.streams.partners",
    "odoosync.streams.reference",
    "odoosync.streams.generic",
    "odoosync.streams.registry",
    "odoosync.service.operations",
    "odoosync.demo.run",
]


@pytest.mark.parametrize("name", MODULES)
def test_every_public_name_exists_and_the_module_explains_itself(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__ and len(module.__doc__.strip()) > 40
    assert module.__all__, f"{name} lists its public API"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []
