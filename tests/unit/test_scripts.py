"""``scripts/test`` says what it installs with apt, and why, before it does, and how long
the suite takes."""

from __future__ import annotations

import re
from pathlib import Path

SCRIPT = (Path(__file__).resolve().parents[2] / "scripts" / "test").read_text().splitlines()


def test_every_apt_install_is_announced_with_its_reason() -> None:
    installs = [i for i, line in enumerate(SCRIPT) if "apt-get install" in line]
    assert installs
    for i in installs:
        said = [line for line in SCRIPT[max(0, i - 3) : i] if line.strip().startswith("say ")]
        assert said, f"line {i + 1} installs with apt without saying so"
        assert "apt-get" in said[-1] and "root" in said[-1] and " for the " in said[-1]


def test_a_whole_run_announces_its_expected_duration() -> None:
    announce = next(line for line in SCRIPT if "running the whole suite" in line)
    assert re.search(r"\d+-\d+ minutes", announce)
    assert SCRIPT.index(announce) < next(i for i, line in enumerate(SCRIPT) if line.startswith("exec "))
