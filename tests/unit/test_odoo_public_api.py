"""Every module of ``odoosync.odoo`` explains itself and lists exactly its public API."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import odoosync.odoo

MODULES = [f"odoosync.odoo.{info.name}" for info in pkgutil.iter_modules(odoosync.odoo.__path__)]


@pytest.mark.parametrize("name", MODULES)
def test_module_has_a_docstring_and_an_exact_all(name):
    module = importlib.import_module(name)
    assert (module.__doc__ or "").strip(), f"{name} has no docstring"
    exported = set(getattr(module, "__all__", ()))
    assert exported, f"{name} has no __all__"
    assert all(hasattr(module, item) for item in exported)
    defined_here = {
        item
        for item, value in vars(module).items()
        if not item.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == name
    }
    assert defined_here <= exported, f"{name}: public but not in __all__: {defined_here - exported}"


def test_the_package_exports_the_client():
    assert {"OdooClient", "OdooConfig", "Transport", "make_transport"} <= set(odoosync.odoo.__all__)
