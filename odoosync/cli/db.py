"""CLI commands: ``odoosync db upgrade`` and ``odoosync db current``.

Thin shells over ``Store``: open the database named by ``--database-url`` (else
``DATABASE_URL`` / ``odoosync.toml``), call one method, print the outcome. The URL is
printed with its password hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from odoosync.cli.common import fail_cleanly, print_json

if TYPE_CHECKING:
    from odoosync.store import Store

__all__ = ["register"]

db_app = typer.Typer(help="Create, upgrade and inspect odoosync's database schema.", no_args_is_help=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="Database URL (default: DATABASE_URL, then odoosync.toml, then sqlite:///odoosync.db)."
    ),
]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]


def _store(database_url: str | None) -> Store:
    from odoosync.settings import load_settings
    from odoosync.store import Store

    settings = load_settings()
    return Store(database_url or settings.database_url, app_schema=settings.store_schema)


@db_app.command()
def upgrade(database_url: DatabaseUrl = None, json: JsonOutput = False) -> None:
    """Create or upgrade the schema to the newest revision (safe to run again).

    Example: odoosync db upgrade --database-url postgresql://postgres@127.0.0.1/app
    """
    with fail_cleanly():
        with _store(database_url) as store:
            before = store.current_revision()
            store.upgrade()
            after = store.current_revision()
            url = store.url
    if json:
        print_json({"database": url, "from": before, "to": after, "changed": before != after})
    elif before == after:
        typer.echo(f"{url}: already at revision {after}")
    else:
        typer.echo(f"{url}: upgraded from {before or 'an empty database'} to revision {after}")


@db_app.command()
def current(database_url: DatabaseUrl = None, json: JsonOutput = False) -> None:
    """Show the database's schema revision and whether it is up to date (exit 1 if not).

    Example: odoosync db current
    """
    from odoosync.service.operations import missing_sqlite_file
    from odoosync.settings import load_settings
    from odoosync.store.migrate import head_revision

    with fail_cleanly():
        url = database_url or load_settings().database_url
        if missing_sqlite_file(url) is not None:  # a read: never create the file
            revision = None
        else:
            with _store(database_url) as store:
                revision = store.current_revision()
                url = store.url

    head = head_revision()
    if json:
        print_json({"database": url, "current": revision, "head": head, "up_to_date": revision == head})
    else:
        state = "up to date" if revision == head else "not migrated: run `odoosync db upgrade`"
        typer.echo(f"{url}: revision {revision or 'none'} (newest {head}), {state}")
    if revision != head:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``odoosync db ...`` to the top-level app."""
    app.add_typer(db_app, name="db")
