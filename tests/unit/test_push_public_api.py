"""The push modules' public API is what ``__all__`` says: every name exists, every public
top-level function and class is listed, and every module explains itself."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "odoosync.push.outbox",
    "odoosync.push.engine",
    "odoosync.push.batch",
    "odoosync.push.plan",
    "odoosync.push.conflict_check",
    "odoosync.push.calls",
    "odoosync.push.settle",
    "odoosync.push.result",
    "odoosync.push.lease",
    "odoosync.demo.edits",
    "odoosync.push.binder",
    "odoosync.push.coalesce",
    "odoosync.push.conflicts",
    "odoosync.push.policy",
    "odoosync.push.mappers",
    "odoosync.push.worker",
    "odoosync.store.triggers",
    "odoosync.cli.push",  # its API is register(app); its commands are public through the CLI
]


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_the_public_api(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__ and len(module.__doc__.strip()) > 80
    exported = set(module.__all__)
    assert all(hasattr(module, item) for item in exported)
    defined_here = {
        item
        for item, value in vars(module).items()
        if not item.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and getattr(value, "__module__", None) == name
    }
    if name.startswith("odoosync.cli."):
        assert module.__all__ == ["register"]
        return
    assert defined_here <= exported, f"public but not in __all__: {sorted(defined_here - exported)}"
