"""The CLI starts without the heavy libraries: commands import them when they run.

Structural, not timed: a fresh interpreter imports the module and reports which of the
libraries that cost a second at start-up it loaded (``bench/cli_startup.py`` measures
the time itself).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "alembic", "psycopg", "httpx", "fastapi", "uvicorn", "pydantic", "apscheduler", "rich")


def loaded_after(statement: str) -> list[str]:
    """The heavy top-level packages in ``sys.modules`` after ``statement``, in a fresh process."""
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return [name for name in json.loads(out.splitlines()[-1]) if name in HEAVY]


@pytest.mark.parametrize(
    "statement",
    [
        "import odoosync.cli",
        "import odoosync",
        "from odoosync.cli import app\ntry:\n    app(['--help'])\nexcept SystemExit:\n    pass",
        "from odoosync.cli import app\ntry:\n    app(['version'])\nexcept SystemExit:\n    pass",
    ],
    ids=["import cli", "import odoosync", "--help", "version"],
)
def test_cli_start_imports_no_heavy_library(statement: str) -> None:
    assert loaded_after(statement) == []


def test_a_command_still_gets_what_it_needs() -> None:
    """The lazy imports are real: asking for the library API's engine loads SQLAlchemy."""
    assert "sqlalchemy" in loaded_after("import odoosync.service.operations")
