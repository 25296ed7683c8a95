"""The ``odoosync`` command: a thin Typer shell over the library.

Each command group lives in its own module and registers itself here; commands open what
they need through ``odoosync.service.operations``, call one library function, and turn
``OdooSyncError`` into a clean exit with a message (see ``cli/common.py``).
"""

from __future__ import annotations

import typer

from odoosync.cli import backends, config, db, push, serve, sheets, simulator, sync

__all__ = ["app"]

app = typer.Typer(
    name="odoosync",
    help="Keep an app database in step with Odoo CRM, both ways, and take in leads from Google Sheets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _group in (simulator, db, sync, push, sheets, serve, config, backends):
    _group.register(app)


@app.command()
def version() -> None:
    """Print odoosync's version.  Example: odoosync version"""
    from odoosync import __version__

    typer.echo(__version__)
