"""Bad input to a sync is a clear error and changes nothing, on SQLite and PostgreSQL:
bad credentials, an unreachable Odoo, an unknown model or field in the configuration, a
malformed domain, an unknown stream, a database that is not migrated."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from odoosync.exceptions import AuthenticationError, ConfigError, NotMigrated, OdooTransportError
from odoosync.service.operations import sync
from odoosync.settings import Settings
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import customers, leads, odoo_partners, odoo_stages, odoo_sync_checkpoints
from odoosync.store.sync_config import config_set
from tests.fixtures.pull import odoo_config_for

DATA_TABLES = (leads, customers, odoo_partners, odoo_stages, odoo_sync_checkpoints)


def data_rows(store: Store) -> dict[str, int]:
    with store.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in DATA_TABLES}


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("bad credentials", AuthenticationError, ""),
        ("unreachable", OdooTransportError, ""),
        ("unknown stream", ConfigError, "unknown stream 'lead'"),
        (
            "unknown model",
            ConfigError,
            "is disabled by a bad config row: sync config 'odoo_to_sb:x_no.such.model': Odoo does not serve",
        ),
        ("unknown field", ConfigError, "no field(s) no_such_field"),
        ("malformed domain", ConfigError, "malformed domain"),
    ],
)
def test_bad_input_changes_nothing(
    simulator: Simulator, store: Store, database_url: str, case: str, error: type[Exception], message: str
) -> None:
    odoo: dict[str, Any] = {"company_ids": (1, 2)}
    target = "all"
    if case == "bad credentials":
        odoo["password"] = "not-the-password"
    elif case == "unreachable":
        odoo["url"] = "http://127.0.0.1:9"
    elif case == "unknown stream":
        target = "lead"
    elif case == "unknown model":
        config_set(store, "odoo_to_sb:x_no.such.model", {"fields": ["name"]})
        target = "x_no.such.model"
    elif case == "unknown field":
        config_set(store, "odoo_to_sb:crm.lead", {"fields": ["no_such_field"]})
        target = "leads"
    elif case == "malformed domain":  # disables the leads stream only: asking for it is refused
        config_set(store, "odoo_to_sb:crm.lead", {"domain": ["|", ["stage_id", "=", 1]]})
        target = "leads"
    settings = Settings(odoo=odoo_config_for(simulator, **odoo), database_url=database_url)
    before = data_rows(store)
    with pytest.raises(error) as raised:
        sync(settings, target)
    assert message in str(raised.value)
    assert "not-the-password" not in str(raised.value)
    assert data_rows(store) == before


def test_an_unmigrated_database_is_refused_before_odoo_is_asked(simulator: Simulator, empty_database_url: str) -> None:
    settings = Settings(odoo=odoo_config_for(simulator), database_url=empty_database_url)
    with pytest.raises(NotMigrated, match="odoosync db upgrade"):
        sync(settings, "all")
    assert simulator.request_log.count("search_read") == 0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "empty_pg_url")
