"""``odoosync demo``: simulator up, fresh SQLite file, every lead in it, a summary table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import leads


def test_demo_syncs_every_lead_archived_included_and_the_second_sync_writes_nothing(tmp_path: Path) -> None:
    file = tmp_path / "odoosync-demo.db"
    file.write_text("not a database: the demo recreates the file")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ODOO_", "ODOOSYNC_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-m", "odoosync", "demo", "--scale", "0.02", "--file", str(file), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    with Simulator(0.02, 0) as sim, sim.env(context={"active_test": False}) as odoo:
        expected = {r["id"] for r in odoo["crm.lead"].search_read([], ["id"])}
        archived = {r["id"] for r in odoo["crm.lead"].search_read([("active", "=", False)], ["id"])}
    assert archived, "the demo data has archived (lost) leads"
    assert report["leads_in_odoo"] == report["leads_in_database"]
    with Store(f"sqlite:///{file}") as store, store.connect() as conn:
        stored = dict(
            conn.execute(sa.select(leads.c.odoo_id, leads.c.status).where(leads.c.odoo_id.is_not(None))).all()
        )
    assert expected <= set(stored)  # every generated lead; the demo's push step may add one
    assert len(stored) == report["leads_in_database"]
    assert {stored[i] for i in archived} == {"lost"}
    summary = report["summary"]
    first = [r for r in summary if r["step"] == "first sync"]
    second = [r for r in summary if r["step"] == "second sync"]
    assert {r["stream"] for r in first} >= {"stages", "partners", "leads"}
    assert sum(r["inserted"] for r in first) > 0
    assert sum(r["inserted"] + r["updated"] for r in second) == 0
    assert all(r["requests"] > 0 and r["seconds"] >= 0 for r in summary)
