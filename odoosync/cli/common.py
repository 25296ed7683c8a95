"""What every CLI command shares: error → clean exit, ``--json`` output, terminal detection.

The consoles never read Rich markup: what they print comes from Odoo, sheets, URLs and
error messages (``[odoo]``, a domain ``[('id', '=', 1)]``), which markup would eat or
fail on. Colour goes through :class:`rich.text.Text` (see :func:`styled`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from odoosync.exceptions import ConfigError, OdooSyncError
from odoosync.redact import redact_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

__all__ = ["new_table", "console", "err_console", "wide_console", "fail_cleanly", "print_json", "is_terminal", "styled"]


class LazyConsole:
    """A Rich console made on first use, so that ``--help`` and ``version`` never import Rich.
    Attributes are the console's; ``real`` is the console itself (for Rich's progress bars)."""

    def __init__(self, **options: Any):
        self._options = options
        self._console: Console | None = None

    @property
    def real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


# soft_wrap: a long line stays one line (a terminal wraps it for the eye; a log keeps one record)
console = LazyConsole(markup=False, highlight=False, soft_wrap=True)
err_console = LazyConsole(stderr=True, markup=False, highlight=False, soft_wrap=True)


def wide_console(width: int) -> Console:
    """A console ``width`` columns wide, for tables written to a log or a pipe."""
    from rich.console import Console

    return Console(width=width, markup=False, highlight=False)


def new_table(*columns: str, title: str | None = None) -> Table:
    """A Rich table (imported on first use: ``--help`` never pays for it)."""
    from rich.table import Table

    return Table(*columns, title=title)


def styled(label: str, style: str, rest: str) -> Text:
    """``label`` in ``style``, then `` rest`` as plain text."""
    from rich.text import Text

    return Text.assemble((label, style), " ", rest)


def is_terminal() -> bool:
    """True when stdout is an interactive terminal (progress bars); plain lines otherwise."""
    return sys.stdout.isatty()


def print_json(data: Any) -> None:
    """Machine-readable output for ``--json``: one JSON document on stdout."""
    typer.echo(json.dumps(data, default=str, indent=2, sort_keys=True))


@contextmanager
def fail_cleanly() -> Iterator[None]:
    """Turn our own errors into ``error: ...`` on stderr and exit code 1 (2 for config).

    The message alone: it says what is wrong and what to do; the exception's class name
    is ours, not the user's."""
    try:
        yield
    except ConfigError as exc:
        for problem in exc.problems:
            err_console.print(styled("error:", "red", redact_text(str(problem))))
        raise typer.Exit(2) from None
    except OdooSyncError as exc:
        err_console.print(styled("error:", "red", redact_text(str(exc) or type(exc).__name__)))
        raise typer.Exit(1) from None
