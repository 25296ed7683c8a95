"""CLI commands: ``odoosync config set|list|delete`` (``ops.odoo_sync_config``).

``set`` validates the row the way the part that reads it will (``odoosync.config_check``)
and writes nothing when it finds a problem.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from odoosync.cli.common import fail_cleanly, print_json
from odoosync.exceptions import ConfigError

__all__ = ["register"]

config_app = typer.Typer(help="Sync settings kept in the database (ops.odoo_sync_config).", no_args_is_help=True)


@config_app.command("set")
def set_(
    key: Annotated[str, typer.Argument(help="odoo_to_sb:<model>, sb_to_odoo:<model> or schedule.")],
    value: Annotated[str, typer.Argument(help="The value as JSON.")],
) -> None:
    """Validate and store one setting.

    Example: odoosync config set odoo_to_sb:crm.lead '{"domain": [["type", "=", "opportunity"]]}'
    """
    from odoosync.config_check import write_config
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings

    with fail_cleanly():
        try:
            parsed = json.loads(value)
        except ValueError:
            raise ConfigError(f"the value of {key!r} is not JSON") from None
        with open_store(load_settings()) as store:
            write_config(store, key, parsed)
    typer.echo(f"{key} set")


@config_app.command("list")
def list_(prefix: Annotated[str, typer.Option("--prefix", help="Only keys starting with this.")] = "") -> None:
    """Print every setting as JSON.

    Example: odoosync config list --prefix odoo_to_sb:
    """
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings
    from odoosync.store.sync_config import config_list

    with fail_cleanly(), open_store(load_settings()) as store:
        print_json(config_list(store, prefix))


@config_app.command("delete")
def delete(key: Annotated[str, typer.Argument(help="The key to remove.")]) -> None:
    """Remove one setting.

    Example: odoosync config delete odoo_to_sb:res.users
    """
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings
    from odoosync.store.sync_config import config_delete

    with fail_cleanly(), open_store(load_settings()) as store:
        if not config_delete(store, key):
            raise typer.BadParameter(f"no setting {key!r}")
    typer.echo(f"{key} deleted")


def register(app: typer.Typer) -> None:
    """Add ``config`` to the top-level app."""
    app.add_typer(config_app, name="config")
