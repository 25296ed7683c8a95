"""The ``odoosync`` command: a thin Typer shell over the library.

Each command group lives in its own module and registers itself here; commands open what
they need through ``odoosync.service.operations``, call one library function, and turn
``OdooSyncError`` into a clean exit with a message (see ``cli/common.py``).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from odoosync.cli import backends, config, db, push, serve, sheets, simulator, sync, worker
from odoosync.logs import LogFormat
from odoosync.logs import configure as configure_logging

__all__ = ["app"]

_TERMINAL = sys.stdout.isatty() and sys.stderr.isatty()
if not _TERMINAL:
    # Plain Click help and one-line usage errors in a log or a pipe. Typer escapes option
    # help for Rich whenever Rich is installed ("\\[env var: ...]" in plain help) and loads
    # it to do so; its own flag turns that off.
    typer.core.HAS_RICH = False

app = typer.Typer(
    name="odoosync",
    help="Keep an app database in step with Odoo CRM, both ways, and take in leads from Google Sheets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Rich boxes on a terminal; plain one-line usage errors in a log or a pipe (Rich wraps at 80 columns)
    rich_markup_mode="rich" if _TERMINAL else None,
)


@app.callback()
def main(
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format", envvar="ODOOSYNC_LOG_FORMAT", help="Log lines on stderr: text, or json for log shippers."
        ),
    ] = LogFormat.TEXT,
) -> None:
    """Keep an app database in step with Odoo CRM, both ways, and take in leads from Google Sheets."""
    configure_logging(log_format)


for _group in (simulator, db, sync, push, sheets, serve, worker, config, backends):
    _group.register(app)


@app.command()
def version() -> None:
    """Print odoosync's version.  Example: odoosync version"""
    from odoosync import __version__

    typer.echo(__version__)
