"""SQLite users install odoosync without the ``postgres`` extra: with psycopg unimportable the
demo still pulls and pushes, and a PostgreSQL URL is refused with a message naming the extra."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# The CLI in a Python where `import psycopg` fails, as without the extra.
_WITHOUT_PSYCOPG = (
    "import sys; sys.modules['psycopg'] = None; sys.argv[0] = 'odoosync'; from odoosync.cli import app; app()"
)


def _odoosync(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ODOO_", "ODOOSYNC_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_PSYCOPG, *args], env=env, capture_output=True, text=True, timeout=240, cwd=cwd
    )


def test_the_sqlite_demo_runs_without_psycopg(tmp_path: Path) -> None:
    result = _odoosync("demo", "--scale", "0.02", "--file", str(tmp_path / "demo.db"), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["leads_in_database"] == report["leads_in_odoo"] > 0


def test_a_postgresql_url_without_psycopg_names_the_extra_to_install(tmp_path: Path) -> None:
    result = _odoosync("db", "upgrade", "--database-url", "postgresql://127.0.0.1:1/none", cwd=tmp_path)
    assert result.returncode != 0
    assert "odoosync[postgres]" in result.stderr
    assert "Traceback" not in result.stderr
