"""The real-Odoo acceptance suite's wiring: a real Odoo server named by the environment.

Set ``ODOOSYNC_TEST_ODOO_URL``, ``ODOOSYNC_TEST_ODOO_DB``, ``ODOOSYNC_TEST_ODOO_LOGIN`` and
``ODOOSYNC_TEST_ODOO_PASSWORD`` (or ``ODOOSYNC_TEST_ODOO_API_KEY``; Odoo 19 over JSON-2)
to a *throwaway* Odoo 16-19 database with ``crm`` installed: the suite writes to it.
``ODOOSYNC_TEST_ODOO_SCALE`` (default 0.25) sizes the CRM data it tops the database up to,
as a share of the seed volume (2,764 leads, 38,472 messages, 3,000 activities and
partners). Without the URL every test here is skipped; nothing here runs in CI.

The variables are read when this file is imported, before the suite's environment scrub.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.service.operations import allowed_companies
from odoosync.store import Store
from tests.real_odoo.loader import CrmData, top_up

_ENV = {
    name: os.environ.get(f"ODOOSYNC_TEST_ODOO_{name}")
    for name in ("URL", "DB", "LOGIN", "PASSWORD", "API_KEY", "PROTOCOL", "SCALE")
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _ENV["URL"]:
        return
    skip = pytest.mark.skip(reason="no real Odoo: set ODOOSYNC_TEST_ODOO_URL (+ _DB, _LOGIN, _PASSWORD) to run")
    for item in items:
        if "real_odoo" in item.keywords:
            item.add_marker(skip)


def real_config(**overrides: object) -> OdooConfig:
    values: dict[str, object] = {
        "url": _ENV["URL"],
        "db": _ENV["DB"],
        "username": _ENV["LOGIN"] or "admin",
        "password": _ENV["PASSWORD"],
        "api_key": _ENV["API_KEY"],
        "protocol": _ENV["PROTOCOL"] or "auto",
        "timeout": 300.0,
    }
    values.update(overrides)
    return OdooConfig(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def odoo() -> Iterator[OdooClient]:
    """A client for every company the user may access."""
    client = OdooClient(real_config()).open()
    client.config = real_config(company_ids=allowed_companies(client))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def crm(odoo: OdooClient) -> CrmData:
    """The Odoo database topped up to the suite's scale (idempotent across runs)."""
    return top_up(odoo, float(_ENV["SCALE"] or 0.25))


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A fresh, migrated SQLite file for one module of the suite."""
    path: Path = tmp_path_factory.mktemp("real-odoo") / "odoosync.db"
    with Store(f"sqlite:///{path}") as store:
        store.upgrade()
        yield store
