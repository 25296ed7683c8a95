"""What every CLI command shares: error → clean exit, ``--json`` output, terminal detection."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from odoosync.exceptions import ConfigError, OdooSyncError

__all__ = ["console", "err_console", "fail_cleanly", "print_json", "is_terminal"]

console = Console()
err_console = Console(stderr=True)


def is_terminal() -> bool:
    """True when stdout is an interactive terminal (progress bars); plain lines otherwise."""
    return sys.stdout.isatty()


def print_json(data: Any) -> None:
    """Machine-readable output for ``--json``: one JSON document on stdout."""
    typer.echo(json.dumps(data, default=str, indent=2, sort_keys=True))


@contextmanager
def fail_cleanly() -> Iterator[None]:
    """Turn our own errors into ``error: ...`` on stderr and exit code 1 (2 for config)."""
    try:
        yield
    except ConfigError as exc:
        for problem in exc.problems:
            err_console.print(f"[red]error:[/red] {problem}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    except OdooSyncError as exc:
        err_console.print(f"[red]error:[/red] {type(exc).__name__}: {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from None
