"""The CLI as an operator meets it under systemd, cron or a container: no terminal.

Every command runs in a child process with its output captured (no TTY): exit codes say
failure, errors name what to fix in one line, logs are one event per line (and JSON with
``--log-format json``), reads create no files, and every counter that is not zero shows.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from odoosync.models import RunCounters, RunStatus
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store import runs as run_store
from tests.acceptance.test_cli_sync import cli_env, odoosync

LONG = "x" * 150  # longer than any terminal's 80 columns


def test_a_read_in_an_empty_folder_creates_nothing_and_says_what_to_do(tmp_path: Path) -> None:
    env = cli_env(None, "sqlite:///odoosync.db", tmp_path)
    env.pop("COLUMNS")
    for command in (["status"], ["runs"], ["checkpoints", "list"], ["outbox", "list"], ["db", "current"]):
        result = odoosync(*command, env=env)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "odoosync db upgrade" in result.stdout + result.stderr
        assert not (tmp_path / "odoosync.db").exists(), command
    status = odoosync("status", env=env)
    [line] = status.stderr.splitlines()  # one line, not wrapped at 80 columns
    assert line.startswith("error: database at sqlite:///odoosync.db is not migrated")
    assert "NotMigrated" not in line


def test_unknown_toml_keys_warn_in_json_lines_one_per_event(tmp_path: Path) -> None:
    env = cli_env(None, "sqlite:///odoosync.db", tmp_path)
    Path(env["ODOOSYNC_CONFIG"]).write_text(f"[sync]\npage_sise = 100\n[{LONG}]\na = 1\n")
    for args in (["--log-format", "json", "status"], ["status"]):
        result = odoosync(*args, env={**env, "ODOOSYNC_LOG_FORMAT": "text"})
        lines = result.stderr.splitlines()
        assert len(lines) == 3, lines  # two warnings, one error: nothing wrapped
        if args[0] == "--log-format":
            events = [json.loads(line) for line in lines[:2]]
            assert [e["level"] for e in events] == ["warning", "warning"]
            assert "sync.page_sise" in events[0]["message"] and LONG in events[1]["message"]
        else:
            assert "WARNING odoosync.settings: unknown setting sync.page_sise" in lines[0]


def test_unknown_names_and_ids_exit_non_zero_naming_the_valid_ones(migrated_sqlite_url: str, tmp_path: Path) -> None:
    env = cli_env(None, migrated_sqlite_url, tmp_path)
    reset = odoosync("checkpoints", "reset", "leeds", env=env)
    assert reset.returncode == 2
    assert re.search(r"unknown stream 'leeds': use one of .*\bleads\b", reset.stderr)
    retry = odoosync("outbox", "retry", "999", env=env)
    assert retry.returncode == 2 and "outbox item 999 not found" in retry.stderr


def test_sync_of_an_odoo_id_odoo_does_not_have_fails(
    simulator: Simulator, migrated_sqlite_url: str, tmp_path: Path
) -> None:
    env = cli_env(simulator, migrated_sqlite_url, tmp_path)
    missing = odoosync("sync", "leads", "--odoo-id", "999999", env=env)
    assert missing.returncode == 1
    assert "Odoo has no record with id 999999 for leads" in missing.stderr
    with simulator.env() as odoo:
        [lead_id] = odoo["crm.lead"].search([], limit=1)
    found = odoosync("--log-format", "json", "sync", "leads", "--odoo-id", str(lead_id), env=env)
    assert found.returncode == 0, found.stderr
    events = [json.loads(line) for line in found.stderr.splitlines()]  # every line one JSON event
    progress = [e["message"] for e in events if e["logger"] == "odoosync.progress"]
    assert progress[0].startswith("leads: start") and progress[-1].startswith("leads: done fetched=1")


def test_an_odoo_that_refuses_connections_fails_at_once_naming_odoo_url(
    migrated_sqlite_url: str, tmp_path: Path
) -> None:
    env = cli_env(
        None,
        migrated_sqlite_url,
        tmp_path,
        ODOO_URL="http://127.0.0.1:9",
        ODOO_DB="x",
        ODOO_USERNAME="u",
        ODOO_PASSWORD="not-the-password",
    )
    result = odoosync("sync", "stages", env=env)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "cannot reach Odoo at http://127.0.0.1:9" in line and "check ODOO_URL" in line
    assert "not-the-password" not in result.stderr


def test_runs_show_every_counter_that_is_not_zero(migrated_sqlite_url: str, tmp_path: Path) -> None:
    with Store(migrated_sqlite_url) as store:
        run = run_store.start_run(store, job="pull", stream="leads", mode="incremental", trigger="manual")
        run_store.finish_run(
            store,
            run,
            RunStatus.PARTIAL,
            RunCounters(fetched=40, inserted=3, skipped=2, retries=23, failed=1),
            remaining=True,
        )
        quiet = run_store.start_run(store, job="pull", stream="stages", mode="incremental", trigger="manual")
        run_store.finish_run(store, quiet, RunStatus.OK, RunCounters(fetched=5))
    out = odoosync("runs", env=cli_env(None, migrated_sqlite_url, tmp_path)).stdout
    busy = next(line for line in out.splitlines() if " leads " in line)
    assert "partial (remaining)" in busy
    for shown in ("fetched 40", "inserted 3", "skipped 2", "failed 1", "retries 23"):
        assert shown in busy
    calm = next(line for line in out.splitlines() if " stages " in line)
    assert "fetched 5" in calm and "retries" not in calm


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_push_loop_says_when_it_starts_what_it_pushes_and_when_it_stops(
    simulator: Simulator, migrated_sqlite_url: str, tmp_path: Path, log_format: str
) -> None:
    env = cli_env(simulator, migrated_sqlite_url, tmp_path)
    with Store(migrated_sqlite_url) as store, store.transaction() as conn:
        conn.execute(sa.text("INSERT INTO leads (title) VALUES ('Pushed by the loop')"))
    loop = subprocess.Popen(
        [sys.executable, "-m", "odoosync", "--log-format", log_format, "push", "--loop", "--poll", "0.2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60  # a timeout, not a measurement
        while not _in_odoo(simulator, "Pushed by the loop"):
            assert time.monotonic() < deadline, "the loop pushed nothing"
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        loop.send_signal(signal.SIGTERM)
        _, stderr = loop.communicate(timeout=60)
    assert loop.returncode == 0, stderr
    lines = stderr.splitlines()
    messages = [json.loads(line)["message"] for line in lines] if log_format == "json" else lines
    assert "push loop started" in messages[0]
    assert any("pushed: 1 done (1 created" in m for m in messages)
    assert "push loop stopped" in messages[-1]


def _in_odoo(simulator: Simulator, title: str) -> bool:
    with simulator.env() as odoo:  # one transaction per look: the push commits between them
        return bool(odoo["crm.lead"].search_count([("name", "=", title)]))
