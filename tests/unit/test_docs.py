"""Every CLI command is documented in the README (a new command without docs fails here)."""

from __future__ import annotations

from pathlib import Path

import click
import typer

from odoosync.cli import app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands(command: click.Command, prefix: str = ""):
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{prefix} {name}".strip())
    else:
        yield prefix, command


def test_every_command_is_in_the_readme():
    top = typer.main.get_command(app)
    missing = []
    for name, _ in _commands(top):
        group, _, leaf = name.rpartition(" ")
        documented = f"odoosync {name}" in README or any(
            f"odoosync {group}" in line and leaf in line for line in README.splitlines() if group
        )
        if not documented:
            missing.append(name)
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_command_has_help_with_a_purpose():
    top = typer.main.get_command(app)
    undocumented = [name for name, command in _commands(top) if not (command.help or "").strip()]
    assert not undocumented, f"commands without help text: {undocumented}"
