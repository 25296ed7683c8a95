"""One bad ``ops.odoo_sync_config`` row disables only its own stream, on both databases,
against the simulator over HTTP; written through ``odoosync config set`` it is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from odoosync.config_check import write_config
from odoosync.exceptions import ConfigError
from odoosync.models import SyncMode
from odoosync.pull import PullOptions
from odoosync.service.operations import run_sync
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import leads, odoo_users
from odoosync.store.sync_config import config_list, config_set
from tests.fixtures.pull import open_client


def _options() -> PullOptions:
    return PullOptions(mode=SyncMode.FULL, overlap=dt.timedelta(seconds=300), page_size=200)


def _count(store: Store, table: sa.Table) -> int:
    with store.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_bad_rows_written_behind_our_back_disable_only_their_streams(
    store: Store, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    config_set(store, "odoo_to_sb:bad name", {})  # as plain SQL would: no validation
    config_set(store, "odoo_to_sb:res.users", {"domain": [["no_such_field", "=", 1]]})  # Odoo would refuse it
    with open_client(simulator) as client:
        report = run_sync(client, store, "all", _options())
        names = {r.stream for r in report.results}
        assert "users" not in names and {"stages", "partners", "leads", "chatter"} <= names
        assert all(str(r.status) == "ok" for r in report.results)
        assert _count(store, leads) > 0 and _count(store, odoo_users) == 0
        with pytest.raises(ConfigError, match=r"stream 'users' is disabled.*no_such_field"):
            run_sync(client, store, "users", _options())
    logged = " ".join(r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    assert "odoo_to_sb:bad name" in logged and "odoo_to_sb:res.users" in logged


def test_a_bad_row_is_refused_when_written_and_nothing_is_stored(store: Store) -> None:
    cases = {
        "odoo_to_sb:bad name": {},
        "odoo_to_sb:crm.lead": {"domain": "stage = won"},
        "sb_to_odoo:crm.lead": {"max_attempts": 0},
        "schedule": {"increments": "every minute"},
    }
    for key, value in cases.items():
        with pytest.raises(ConfigError):
            write_config(store, key, value)
    assert config_list(store) == {}
    write_config(store, "odoo_to_sb:crm.lead", {"domain": [["type", "=", "opportunity"]]})
    assert list(config_list(store)) == ["odoo_to_sb:crm.lead"]


def test_the_cli_refuses_a_bad_row_naming_the_problem(database_url: str, store: Store) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ODOO_", "ODOOSYNC_", "DATABASE_URL"))}
    env["DATABASE_URL"] = database_url

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "odoosync", "config", *args], env=env, text=True, capture_output=True, timeout=120
        )

    refused = cli("set", "odoo_to_sb:bad name", "{}")
    assert refused.returncode == 2 and "not a model name" in refused.stderr
    assert cli("set", "odoo_to_sb:crm.lead", '{"page_size": 50}').returncode == 0
    assert json.loads(cli("list").stdout) == {"odoo_to_sb:crm.lead": {"page_size": 50}}
