"""``odoosync simulator`` as a subprocess: prints where and how to log in, serves, stops on SIGTERM."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest


@pytest.fixture
def cli_simulator() -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "odoosync", "simulator", "--port", "0", "--scale", "0.01", "--version", "19.0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    printed: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if match := re.match(r"Odoo simulator \(Odoo ([\d.]+)\) at (\S+)", line):
                printed["version"], printed["url"] = match.groups()
            elif match := re.match(r"\s+(database|login|password|api key):\s+(\S+)", line):
                printed[match.group(1)] = match.group(2)
            if line.startswith("Press Ctrl-C"):
                break
        yield process, printed
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def test_cli_serves_until_sigterm(cli_simulator: tuple[subprocess.Popen[str], dict[str, str]]) -> None:
    process, printed = cli_simulator
    assert printed["database"] == "odoosync_demo" and printed["login"] == "admin" and printed["password"] == "admin"
    assert len(printed["api key"]) >= 32
    request = urllib.request.Request(
        f"{printed['url']}/json/2/crm.lead/search_count",
        data=json.dumps({"domain": []}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"bearer {printed['api key']}",
            "X-Odoo-Database": printed["database"],
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read()) > 0
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Simulator stopped." in stdout


def test_cli_refuses_a_bad_fault_spec() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "odoosync", "simulator", "--port", "0", "--scale", "0.01", "--faults", "418:0.5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown kind '418'" in result.stderr
