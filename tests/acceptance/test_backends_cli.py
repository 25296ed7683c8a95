"""``odoosync demo --backends 3`` and ``odoosync backends ...`` / ``--backend`` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from odoosync.cli import app
from odoosync.demo.backends import DEMO_BACKEND_NAMES
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import leads
from tests.fixtures.backends import leads_by_backend, messages_on_another_backends_lead


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ODOO_", "ODOOSYNC_", "DATABASE_URL"))}
    return {**env, **extra}


def _odoosync(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "odoosync", *args], env=env, capture_output=True, text=True, timeout=240, cwd=cwd
    )


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The command run in this process (many commands, one interpreter start)."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **env})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def test_demo_lands_three_odoo_databases_in_one_app_database_without_mixing_them(tmp_path: Path) -> None:
    file = tmp_path / "demo.db"
    result = _odoosync(
        "demo", "--backends", "3", "--scale", "0.02", "--file", str(file), "--json", env=_env(), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    names = list(DEMO_BACKEND_NAMES[:3])
    assert [b["backend"] for b in report["backends"]] == names
    assert len({b["odoo_url"] for b in report["backends"]}) == 3
    for b in report["backends"]:
        assert b["status"] == "ok"
        assert b["leads_in_odoo"] == b["leads_in_database"] > 0
        assert b["messages_in_odoo"] == b["messages_in_database"] > 0
        assert b["activities_in_odoo"] == b["activities_in_database"] > 0
    expected = {}
    for index, name in enumerate(names):  # the demo's data again: backend i is seed i
        with Simulator(0.02, index) as sim, sim.env({"active_test": False}) as odoo:
            expected[name] = {r["id"]: r["name"] for r in odoo["crm.lead"].search_read([], ["name"])}
    with Store(f"sqlite:///{file}") as store, store.connect() as conn:
        stored = leads_by_backend(conn)
        crossed = messages_on_another_backends_lead(conn)
    assert stored == {
        (name, odoo_id): (title, company)
        for company, name in enumerate(names, start=1)
        for odoo_id, title in expected[name].items()
    }
    assert set(expected[names[0]]) & set(expected[names[1]]), "the databases share ids, as real ones do"
    assert crossed == 0


def test_backends_commands_and_the_backend_option(tmp_path: Path, simulator: Simulator) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "ACME_ODOO_KEY": simulator.password}
    assert _cli("db", "upgrade", env=env).returncode == 0
    refused = _cli("backends", "add", "Acme!", "--url", "ftp://x", "--db", "d", "--login", "l", env=env)
    assert refused.returncode == 2
    assert "backend name 'Acme!'" in refused.stderr and "by reference" in refused.stderr
    added = _cli(
        "backends",
        "add",
        "acme",
        "--url",
        simulator.url,
        "--db",
        simulator.db,
        "--login",
        simulator.login,
        "--secret-env",
        "ACME_ODOO_KEY",
        "--app-company-id",
        "5",
        env=env,
    )
    assert added.returncode == 0, added.stderr
    listed = json.loads(_cli("backends", "list", "--json", env=env).stdout)
    assert listed == {
        "backends": [
            {
                "name": "acme",
                "url": simulator.url,
                "db": simulator.db,
                "login": simulator.login,
                "protocol": "auto",
                "company_ids": [],
                "app_company_id": 5,
                "secret": "env:ACME_ODOO_KEY",
            }
        ]
    }
    tested = _cli("backends", "test", "acme", "--json", env=env)
    assert tested.returncode == 0, tested.stderr
    assert json.loads(tested.stdout)["uid"] == simulator.uid
    assert simulator.password not in tested.stdout + tested.stderr
    synced = _cli("sync", "leads", "--backend", "acme", "--json", env=env)
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["totals"]["inserted"] > 0
    runs = json.loads(_cli("runs", "--backend", "acme", "--json", env=env).stdout)["runs"]
    assert runs and {r["backend"] for r in runs} == {"acme"}
    assert json.loads(_cli("runs", "--backend", "default", "--json", env=env).stdout)["runs"] == []
    status = {
        s["stream"]: s for s in json.loads(_cli("status", "--backend", "acme", "--json", env=env).stdout)["streams"]
    }
    assert status["leads"]["rows"] > 0 and status["leads"]["last_run"]["backend"] == "acme"
    assert status["leads"]["cursor"] is not None and status["leads"]["freshness"] == "green"
    default_status = {s["stream"]: s for s in json.loads(_cli("status", "--json", env=env).stdout)["streams"]}
    assert (
        default_status["leads"]["rows"],
        default_status["leads"]["last_run"],
        default_status["leads"]["cursor"],
    ) == (0, None, None)
    with Store(env["DATABASE_URL"]) as store, store.connect() as conn:
        companies = set(conn.execute(sa.select(leads.c.company_id).where(leads.c.odoo_backend == "acme")).scalars())
    assert companies == {5}
    unknown = _cli("sync", "leads", "--backend", "nope", env=env)
    assert unknown.returncode == 2 and "no backend named 'nope' (known: default, acme)" in unknown.stderr
    assert _cli("backends", "remove", "acme", env=env).returncode == 0
    assert json.loads(_cli("backends", "list", "--json", env=env).stdout) == {"backends": []}
