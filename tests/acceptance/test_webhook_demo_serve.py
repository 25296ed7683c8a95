"""``odoosync demo --serve`` as a user runs it: a real process, the dashboard, an XML-RPC rename.

The demo syncs a small simulator into a fresh SQLite file, then serves the dashboard with
the simulator's webhooks wired; a lead renamed over XML-RPC must reach ``leads`` (and the
dashboard's API) without any sync being started by hand, and SIGTERM must stop it cleanly.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read_until(process: subprocess.Popen, pattern: str, timeout: float = 120) -> re.Match:
    text = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        text += line
        match = re.search(pattern, text, re.S)
        if match:
            return match
    raise AssertionError(f"demo --serve did not print {pattern!r}; output so far:\n{text}")


def test_demo_serve_shows_a_simulator_rename_without_a_manual_sync(tmp_path: Path) -> None:
    port = _free_port()
    database = tmp_path / "demo.db"
    env = {**os.environ, "COLUMNS": "200"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "odoosync",
            "demo",
            "--scale",
            "0.02",
            "--serve",
            "--port",
            str(port),
            "--file",
            str(database),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        match = _read_until(
            process,
            r"Dashboard: (http://127\.0\.0\.1:\d+/)\s+\(token: ([A-Za-z0-9_-]+),.*Odoo simulator: (http://[0-9.:]+)",
        )
        url, token, odoo = match.groups()
        assert url == f"http://127.0.0.1:{port}/"
        page = httpx.get(url)
        assert page.status_code == 200 and "odoosync" in page.text
        assert httpx.get(f"{url}api/status").status_code == 401  # the token is needed
        with xmlrpc.client.ServerProxy(f"{odoo}/xmlrpc/2/object") as models:
            (lead_id,) = models.execute_kw("odoosync_demo", 2, "admin", "crm.lead", "search", [[]], {"limit": 1})
            models.execute_kw(
                "odoosync_demo", 2, "admin", "crm.lead", "write", [[lead_id], {"name": "Renamed in Odoo"}]
            )

        def title() -> str | None:
            with sqlite3.connect(database) as conn:
                row = conn.execute("SELECT title FROM leads WHERE odoo_id = ?", (lead_id,)).fetchone()
            return row[0] if row else None

        for _ in range(600):
            if title() == "Renamed in Odoo":
                break
            time.sleep(0.05)
        assert title() == "Renamed in Odoo"
        shown = httpx.get(f"{url}api/dashboard/leads", headers={"Authorization": f"Bearer {token}"}).json()["leads"]
        assert any(lead["odoo_id"] == lead_id and lead["title"] == "Renamed in Odoo" for lead in shown)
        with sqlite3.connect(database) as conn:
            triggers = {
                row[0] for row in conn.execute("SELECT DISTINCT \"trigger\" FROM odoo_sync_runs WHERE stream = 'leads'")
            }
        assert "webhook" in triggers
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, output
    assert "Traceback" not in output
