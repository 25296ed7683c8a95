"""The library API exactly as the README shows it: its Python snippet runs against the
simulator over HTTP into a SQLite file, and the package root exports what it documents."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import odoosync
from odoosync.simulator import Simulator

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_python() -> str:
    """The README's first Python block (the library API's introduction)."""
    match = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert match, "the README shows no Python snippet"
    return match.group(1)


def test_the_readme_snippet_runs_as_written(
    simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "ODOO_URL": simulator.url,
        "ODOO_DB": simulator.db,
        "ODOO_USERNAME": simulator.login,
        "ODOO_PASSWORD": simulator.password,
        "ODOO_PROTOCOL": "jsonrpc",
    }.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(readme_python(), "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("True [('stages', "), lines[0]
    leads = next(line for line in lines if line.startswith("leads "))
    assert int(leads.split()[1]) > 0
    assert "changes up to" in leads
    assert lines[-2] == "0 0"  # nothing queued, nothing failed
    assert lines[-1] == "0"  # no drift
    assert (tmp_path / "crm.db").exists()


def test_the_root_exports_what_the_readme_names() -> None:
    text = README.read_text()
    for name in re.findall(r"odoosync\.(\w+)\(?", readme_python() + text):
        if name in ("toml", "db", "com"):  # file names and URLs, not attributes
            continue
        assert hasattr(odoosync, name), name
    assert set(odoosync.__all__) <= set(dir(odoosync))


def test_import_odoosync_loads_no_engine() -> None:
    code = "import sys, odoosync; print(sorted(m for m in ('sqlalchemy', 'httpx', 'odoosync.library') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    assert out.stdout.strip() == "[]"


def test_connect_with_arguments_checks_them_like_the_cli() -> None:
    with pytest.raises(odoosync.ConfigError, match="ODOO_URL must start with http"):
        odoosync.connect(odoo_url="mycompany.odoo.com", odoo_db="x", odoo_username="u", odoo_password="p")
