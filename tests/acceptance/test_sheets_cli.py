"""``odoosync sheets ...`` as a user runs it: subprocesses against a local CSV server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from odoosync.store import Store
from odoosync.store.schema import leads
from tests.fixtures.sheets import SheetServer

HEADER = ["Title", "Email", "Amount"]
ROWS = [[f"Lead {i}", f"user{i}@example.com", str(i * 10)] for i in range(1, 6)]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "odoosync", "sheets", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=env["HOME_DIR"],
    )


def cli_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ODOO_", "ODOOSYNC_", "DATABASE_URL", "LOCK_ID"))}
    env.update({"DATABASE_URL": database_url, "HOME_DIR": str(tmp_path), "COLUMNS": "200", **extra})
    return env


def test_done_when_add_sync_edit_delete_sync_then_nothing(migrated_sqlite_url, sheet_server: SheetServer, tmp_path):
    env = cli_env(migrated_sqlite_url, tmp_path, ODOOSYNC_SHEETS_ALLOW_PRIVATE="1")
    url = sheet_server.serve_rows("/leads.csv", HEADER, ROWS, etag=False, last_modified=None)

    added = run("add", "--customer", "acme", "--url", url, env=env)
    assert added.returncode == 0, added.stderr
    assert "header: Title, Email, Amount" in added.stdout and "5 rows, 0 with errors" in added.stdout

    first = run("sync", "--customer", "acme", "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)[0]["inserted"] == 5

    edited = [ROWS[0], [ROWS[1][0], ROWS[1][1], "999"], ROWS[2], ROWS[4]]
    sheet_server.serve_rows("/leads.csv", HEADER, edited, etag=False, last_modified=None)
    second = json.loads(run("sync", "--customer", "acme", "--json", env=env).stdout)[0]
    assert (second["inserted"], second["updated"], second["deleted"]) == (0, 1, 1)

    third = json.loads(run("sync", "--customer", "acme", "--json", env=env).stdout)[0]
    assert third["status"] == "unchanged"

    with Store(migrated_sqlite_url) as store, store.connect() as conn:
        rows = conn.execute(sa.select(leads.c.title, leads.c.source, leads.c.deleted_at).order_by(leads.c.id)).all()
    assert [(title, source, deleted is not None) for title, source, deleted in rows] == [
        ("Lead 1", "sheet", False),
        ("Lead 2", "sheet", False),
        ("Lead 3", "sheet", False),
        ("Lead 4", "sheet", True),
        ("Lead 5", "sheet", False),
    ]

    status = json.loads(run("status", "--json", env=env).stdout)
    assert status[0]["customer_name"] == "acme" and status[0]["rows_processed"] == 4
    assert run("pause", "--customer", "acme", env=env).returncode == 0
    paused = run("sync", "--all", env=env)
    assert paused.returncode == 0 and paused.stdout == ""  # --all leaves paused sheets alone


def test_clear_errors_and_nothing_saved(migrated_sqlite_url, sheet_server: SheetServer, tmp_path):
    url = sheet_server.serve_rows("/leads.csv", ["Name", "Email"], [["Ann", "a@b.com"]])
    strict = cli_env(migrated_sqlite_url, tmp_path)
    refused = run("add", "--customer", "acme", "--url", url, env=strict)
    assert (
        refused.returncode == 1 and "loopback" in refused.stderr and "ODOOSYNC_SHEETS_ALLOW_PRIVATE" in refused.stderr
    )

    allowed = cli_env(migrated_sqlite_url, tmp_path, ODOOSYNC_SHEETS_ALLOW_PRIVATE="1")
    no_title = run("add", "--customer", "acme", "--url", url, env=allowed)
    assert no_title.returncode == 1 and "required field 'title'" in no_title.stderr
    bad_cron = run("add", "--customer", "acme", "--url", url, "--map", "title=Name", "--schedule", "often", env=allowed)
    assert bad_cron.returncode == 2 and "'often' needs 5 fields" in bad_cron.stderr
    with Store(migrated_sqlite_url) as store, store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM lead_sync_states")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one() == 0

    mapped = run("add", "--customer", "acme", "--url", url, "--map", "title=Name", "--json", env=allowed)
    assert mapped.returncode == 0 and json.loads(mapped.stdout)["mapping"] == {"title": "Name", "email": "Email"}


def test_an_unmigrated_database_is_named(sqlite_url, sheet_server: SheetServer, tmp_path):
    env = cli_env(sqlite_url, tmp_path, ODOOSYNC_SHEETS_ALLOW_PRIVATE="1")
    result = run("status", env=env)
    assert result.returncode == 1 and "odoosync db upgrade" in result.stderr


def test_a_header_only_sheet_is_refused_until_the_operator_accepts(
    migrated_sqlite_url, sheet_server: SheetServer, tmp_path
):
    env = cli_env(migrated_sqlite_url, tmp_path, ODOOSYNC_SHEETS_ALLOW_PRIVATE="1")
    url = sheet_server.serve_rows("/leads.csv", HEADER, ROWS)
    assert run("add", "--customer", "acme", "--url", url, env=env).returncode == 0
    assert run("sync", "--customer", "acme", env=env).returncode == 0
    sheet_server.serve_rows("/leads.csv", HEADER, [])

    refused = run("sync", "--customer", "acme", env=env)
    assert refused.returncode == 1
    assert "refused: this sync would delete 5 of the customer's 5 sheet leads" in refused.stdout
    assert "--allow-mass-delete" in refused.stdout
    with Store(migrated_sqlite_url) as store, store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM leads WHERE deleted_at IS NULL")).scalar_one() == 5
    status = json.loads(run("status", "--json", env=env).stdout)[0]
    assert status["refused_deletes"] == 5 and status["last_error"].startswith("refused")

    accepted = run("sync", "--customer", "acme", "--allow-mass-delete", "--json", env=env)
    assert accepted.returncode == 0 and json.loads(accepted.stdout)[0]["deleted"] == 5
    assert json.loads(run("status", "--json", env=env).stdout)[0]["refused_deletes"] is None


def test_errors_speak_the_users_words_not_class_names(migrated_sqlite_url, sheet_server: SheetServer, tmp_path):
    env = cli_env(migrated_sqlite_url, tmp_path, ODOOSYNC_SHEETS_ALLOW_PRIVATE="1")
    unknown = run("sync", "--customer", "nobody", env=env)
    assert unknown.returncode == 1 and unknown.stderr.startswith("error: no customer named 'nobody'")
    page = sheet_server.serve("/page.csv", b"<html><body>" + b"y" * 3000 + b"</body></html>", content_type="text/csv")
    html = run("add", "--customer", "acme", "--url", page, env=env)
    assert html.returncode == 1 and html.stderr.startswith("error: the address returned a web page (HTML), not CSV")
    assert "yyyy" not in html.stderr
    for result in (unknown, html):
        assert "Error:" not in result.stderr and "Sheet" not in result.stderr.split(":")[1]
