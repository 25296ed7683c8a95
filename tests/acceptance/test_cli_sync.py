"""``odoosync sync|status|runs|checkpoints`` as a user runs them: a subprocess against the
simulator over HTTP, into SQLite and PostgreSQL. Includes the kill -9 property."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from odoosync.cli import app
from odoosync.odoo.client import OdooClient
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import leads, odoo_sync_checkpoints, odoo_sync_locks, odoo_sync_runs
from odoosync.store.sync_config import config_set
from tests.fixtures.pull import canonical_state, odoo_leads, pull


def cli_env(
    sim: Simulator | None, database_url: str, tmp_path: Path, *, page_size: int = 200, **extra: str
) -> dict[str, str]:
    config = tmp_path / "odoosync.toml"
    config.write_text(f"[sync]\npage_size = {page_size}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ODOO_", "ODOOSYNC_", "DATABASE_URL", "LOCK_ID"))}
    env.update({"DATABASE_URL": database_url, "ODOOSYNC_CONFIG": str(config), "COLUMNS": "200"})
    if sim is not None:
        env.update(
            {
                "ODOO_URL": sim.url,
                "ODOO_DB": sim.db,
                "ODOO_USERNAME": sim.login,
                "ODOO_PASSWORD": sim.password,
                "ODOO_PROTOCOL": "jsonrpc",
                "ODOO_TIMEOUT": "10",
            }
        )
    env.update(extra)
    return env


def odoosync(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "odoosync", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=env["ODOOSYNC_CONFIG"].rsplit("/", 1)[0],
    )


def odoosync_here(*args: str, env: dict[str, str], **_: Any) -> subprocess.CompletedProcess[str]:
    """The same CLI in this process (Typer's runner): the command checks that do not need
    a process of their own, without paying the interpreter's start-up each time."""
    runner = CliRunner()
    result = runner.invoke(app, list(args), env={k: v for k, v in env.items() if k.startswith(_OURS)})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


_OURS = ("ODOO_", "ODOOSYNC_", "DATABASE_URL", "LOCK_ID", "COLUMNS")


@pytest.fixture
def sqlite_store(migrated_sqlite_url: str) -> Iterator[Store]:
    """The same migrated SQLite file the CLI is pointed at, opened here to look inside."""
    with Store(migrated_sqlite_url) as store:
        yield store


def lead_count(store: Store) -> int:
    with store.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar_one()


def test_sync_all_then_again_makes_no_inserts_or_updates(
    simulator: Simulator, store: Store, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(simulator, database_url, tmp_path)
    first = odoosync("sync", "all", "--json", env=env)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["ok"] and not report["remaining"]
    assert [s["stream"] for s in report["streams"]][-4:] == ["partners", "leads", "chatter", "activities"]
    assert lead_count(store) == len(odoo_leads(simulator))
    second = json.loads(odoosync("sync", "all", "--json", env=env).stdout)
    assert second["totals"]["inserted"] == second["totals"]["updated"] == 0
    calls = {s["stream"]: s["rpc_calls"] for s in second["streams"]}
    assert all(n <= 5 for n in calls.values()), f"a no-change run costs a handful of requests: {calls}"


def test_status_runs_and_checkpoints(simulator: Simulator, migrated_sqlite_url: str, tmp_path: Path) -> None:
    env = cli_env(simulator, migrated_sqlite_url, tmp_path)
    assert odoosync_here("sync", "leads", env=env).returncode == 0
    status = json.loads(odoosync_here("status", "--json", env=env).stdout)
    by_name = {s["stream"]: s for s in status["streams"]}
    assert by_name["leads"]["rows"] == len(odoo_leads(simulator))
    assert by_name["leads"]["last_run"]["status"] == "ok" and by_name["stages"]["last_run"] is None
    listed = json.loads(odoosync_here("runs", "--json", "--stream", "leads", env=env).stdout)["runs"]
    assert listed[0]["stream"] == "leads" and listed[0]["inserted"] == len(odoo_leads(simulator))
    checkpoints = json.loads(odoosync_here("checkpoints", "list", "--json", env=env).stdout)["checkpoints"]
    assert [c["key"] for c in checkpoints] == ["pull:default:leads"]
    assert odoosync_here("checkpoints", "reset", "leads", env=env).stdout.strip() == "pull:default:leads: reset"
    with Store(migrated_sqlite_url) as store, store.connect() as conn:
        assert conn.execute(sa.select(odoo_sync_checkpoints)).all() == []


def test_human_output_is_a_table_and_plain_progress_lines(
    simulator: Simulator, migrated_sqlite_url: str, tmp_path: Path
) -> None:
    result = odoosync_here("sync", "leads", env=cli_env(simulator, migrated_sqlite_url, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "inserted" in result.stdout and "leads" in result.stdout
    assert "leads: done fetched=" in result.stderr  # not a terminal: log lines, no bars


def test_budget_gives_remaining_true_and_the_next_run_finishes(
    make_simulator: Callable[..., Simulator], sqlite_store: Store, migrated_sqlite_url: str, tmp_path: Path
) -> None:
    store = sqlite_store
    sim = make_simulator(scale=0.03, latency_ms=40)
    env = cli_env(sim, migrated_sqlite_url, tmp_path, page_size=5)
    report = json.loads(odoosync_here("sync", "leads", "--budget", "0.1s", "--json", env=env).stdout)
    assert report["remaining"] is True
    assert lead_count(store) < len(odoo_leads(sim))
    report = json.loads(odoosync_here("sync", "leads", "--json", env=env).stdout)
    assert report["remaining"] is False
    assert lead_count(store) == len(odoo_leads(sim))


def test_a_concurrent_run_is_refused_naming_the_holder(
    simulator: Simulator, store: Store, database_url: str, tmp_path: Path
) -> None:
    with store.lock("pull:default:leads", {"run_id": 77}):
        result = odoosync_here("sync", "leads", env=cli_env(simulator, database_url, tmp_path))
    assert result.returncode == 1
    assert "is locked by" in result.stderr and "run_id=77" in result.stderr and "pid=" in result.stderr
    assert lead_count(store) == 0


@pytest.mark.parametrize(
    ("case", "expected", "code"),
    [
        ("bad credentials", "Odoo rejected login 'admin'", 1),
        ("unreachable", "could not connect (refused or unreachable)", 1),
        ("unknown stream", "unknown stream 'lead'", 2),
        ("unknown model", "Odoo does not serve 'x_no.such.model'", 2),
        ("unknown field", "has no field(s) no_such_field", 2),
        ("malformed domain", "['stage_id', '=='] is not a (field, operator, value) triple", 2),
        ("bad budget", "--budget must be", 2),
        ("no odoo", "ODOO_PASSWORD or ODOO_API_KEY (or an [odoo] table in odoosync.toml)", 2),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(
    simulator: Simulator,
    sqlite_store: Store,
    migrated_sqlite_url: str,
    tmp_path: Path,
    case: str,
    expected: str,
    code: int,
) -> None:
    """The CLI's side (exit code, message); ``tests/integration/test_pull_errors.py``
    checks the same cases on both databases through the library."""
    store = sqlite_store
    env = cli_env(simulator, migrated_sqlite_url, tmp_path)
    target = "leads"
    args: list[str] = []
    if case == "bad credentials":
        env["ODOO_PASSWORD"] = "wrong-secret-value"
    elif case == "unreachable":
        env["ODOO_URL"] = "http://127.0.0.1:9"
        env["ODOO_TIMEOUT"] = "2"
    elif case == "unknown stream":
        target = "lead"
    elif case == "unknown model":
        config_set(store, "odoo_to_sb:x_no.such.model", {"fields": ["name"]})
        target = "x_no.such.model"
    elif case == "unknown field":
        config_set(store, "odoo_to_sb:crm.lead", {"fields": ["no_such_field"]})
    elif case == "malformed domain":
        config_set(store, "odoo_to_sb:crm.lead", {"domain": [["stage_id", "=="]]})
    elif case == "bad budget":
        args = ["--budget", "soon"]
    elif case == "no odoo":
        env = {k: v for k, v in env.items() if not k.startswith("ODOO_")}
    result = odoosync_here("sync", target, *args, env=env, timeout=60)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert expected in " ".join(result.stderr.split())  # as printed, brackets included; wrapped lines joined
    assert "wrong-secret-value" not in result.stderr + result.stdout
    assert lead_count(store) == 0
    with store.connect() as conn:
        assert conn.execute(sa.select(odoo_sync_checkpoints)).all() == []


def test_an_unmigrated_database_is_refused_before_anything_happens(
    simulator: Simulator, sqlite_url: str, tmp_path: Path
) -> None:
    result = odoosync("sync", "all", env=cli_env(simulator, sqlite_url, tmp_path))
    assert result.returncode == 1
    assert "odoosync db upgrade" in result.stderr
    assert simulator.request_log.count("search_read") == 0


def test_killed_with_sigkill_at_random_moments_the_rerun_ends_like_one_clean_run(
    make_simulator: Callable[..., Simulator],
    client_for: Callable[..., OdooClient],
    store: Store,
    database_url: str,
    tmp_path: Path,
    _sqlite_template: Path,
) -> None:
    sim = make_simulator(scale=0.03, seed=5, latency_ms=15)
    shutil.copyfile(_sqlite_template, tmp_path / "clean.db")  # migrated once per session
    with Store(f"sqlite:///{tmp_path / 'clean.db'}") as clean:
        started = time.monotonic()
        pull(client_for(sim), clean, page_size=10)
        clean_seconds = time.monotonic() - started
        expected = canonical_state(clean)
    env = cli_env(sim, database_url, tmp_path, page_size=10)
    rng = random.Random(20261123)
    kills = 0
    for _ in range(2):
        process = subprocess.Popen(
            [sys.executable, "-m", "odoosync", "sync", "all", "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=tmp_path,
        )
        wait_until_running(store, process)
        # A moment inside the run however fast the machine: a share of a clean run's time.
        time.sleep(rng.uniform(0.0, 0.8) * clean_seconds)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
        release_dead_holders(store)
    final = odoosync("sync", "all", "--json", env=env)
    assert final.returncode == 0, final.stderr
    assert kills >= 1, "the sync should have been running when killed"
    assert canonical_state(store) == expected


def wait_until_running(store: Store, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Until the child has opened its first run (past the slow imports) or ended."""
    deadline = time.monotonic() + timeout
    with store.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(odoo_sync_runs)).scalar_one()
    while time.monotonic() < deadline and process.poll() is None:
        with store.connect() as conn:
            if conn.execute(sa.select(sa.func.count()).select_from(odoo_sync_runs)).scalar_one() > before:
                return
        time.sleep(0.05)


def release_dead_holders(store: Store) -> None:
    """A killed process cannot release its lock. PostgreSQL drops its advisory lock with the
    connection; on SQLite the lock row expires after its TTL (60 s): expire it now."""
    if store.dialect == "sqlite":
        with store.transaction() as conn:
            conn.execute(sa.delete(odoo_sync_locks))
