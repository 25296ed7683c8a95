"""CLI ``odoosync backends add|list|remove|test``: the Odoo databases synced into the app
database besides ``default`` (the Odoo of the settings), and the ``--backend`` option
every command that talks to Odoo or to a backend's state takes.
"""

from __future__ import annotations

from typing import Annotated

import typer

from odoosync.cli.common import console, fail_cleanly, new_table, print_json
from odoosync.exceptions import ConfigError

__all__ = ["register", "BackendOption"]

BackendOption = Annotated[
    str,
    typer.Option(
        "--backend", help="The Odoo backend (see `odoosync backends list`); 'default' is the Odoo of the settings."
    ),
]

backends_app = typer.Typer(
    help="The Odoo databases synced into the app database (ops.odoo_backends).", no_args_is_help=True
)


@backends_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Its name: lowercase letters, digits, '-' and '_'.")],
    url: Annotated[str, typer.Option("--url", help="Odoo's address, e.g. https://acme.odoo.com")],
    db: Annotated[str, typer.Option("--db", help="The Odoo database.")],
    login: Annotated[str, typer.Option("--login", help="The sync user's login.")],
    secret_env: Annotated[
        str | None, typer.Option("--secret-env", help="The environment variable holding its API key or password.")
    ] = None,
    secret_file: Annotated[
        str | None, typer.Option("--secret-file", help="Or a file holding it (e.g. a mounted secret).")
    ] = None,
    protocol: Annotated[str, typer.Option("--protocol", help="auto, jsonrpc, xmlrpc or json2.")] = "auto",
    company_ids: Annotated[
        str, typer.Option("--company-ids", help="Odoo companies to read, comma-separated (default: all the user may).")
    ] = "",
    app_company_id: Annotated[
        int | None, typer.Option("--app-company-id", help="The app's company_id its customers and leads get.")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")] = False,
) -> None:
    """Add an Odoo backend. The secret is given by reference (never stored).

    Example: odoosync backends add acme --url https://acme.odoo.com --db acme --login sync@acme.com --secret-env ACME_ODOO_KEY
    """
    from odoosync import backends
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings

    with fail_cleanly():
        try:
            ids = tuple(int(i) for i in company_ids.split(",") if i.strip())
        except ValueError:
            raise ConfigError(f"--company-ids must be comma-separated integers (got {company_ids!r})") from None
        backend = backends.Backend(
            name=name,
            url=url,
            db=db,
            login=login,
            protocol=protocol,
            company_ids=ids,
            app_company_id=app_company_id,
            secret_env=secret_env,
            secret_file=secret_file,
        )
        with open_store(load_settings()) as store:
            backends.add_backend(store, backend)
    if json:
        print_json(backend.as_dict())
    else:
        typer.echo(f"backend {name} added; check it with: odoosync backends test {name}")


@backends_app.command("list")
def list_(json: Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")] = False) -> None:
    """List the backends (secrets shown by reference only).

    Example: odoosync backends list
    """
    from odoosync import backends
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings

    with fail_cleanly():
        settings = load_settings()
        with open_store(settings) as store:
            found = backends.list_backends(store)
    rows = [b.as_dict() for b in found]
    if settings.odoo is not None:
        odoo = settings.odoo
        rows.insert(
            0,
            {
                "name": backends.DEFAULT_BACKEND,
                "url": odoo.url,
                "db": odoo.db,
                "login": odoo.username,
                "protocol": odoo.protocol,
                "company_ids": list(odoo.company_ids),
                "app_company_id": None,
                "secret": "settings",
            },
        )
    if json:
        print_json({"backends": rows})
        return
    table = new_table(title="backends")
    for column in ("name", "url", "db", "login", "protocol", "companies", "app company", "secret"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["name"],
            row["url"],
            row["db"],
            row["login"],
            row["protocol"],
            ",".join(map(str, row["company_ids"])) or "all",
            str(row["app_company_id"] or "-"),
            row["secret"],
        )
    console.print(table)


@backends_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The backend to forget.")]) -> None:
    """Forget a backend's connection; its synced rows and checkpoints stay.

    Example: odoosync backends remove acme
    """
    from odoosync import backends
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings

    with fail_cleanly():
        if name == backends.DEFAULT_BACKEND:
            raise ConfigError("'default' is the Odoo of the settings: unset ODOO_URL ... to remove it")
        with open_store(load_settings()) as store:
            backends.remove_backend(store, name)
    typer.echo(f"backend {name} removed (its rows stay)")


@backends_app.command("test")
def test(
    name: Annotated[str, typer.Argument(help="The backend to try.")] = "default",
    json: Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")] = False,
) -> None:
    """Log in to a backend's Odoo and show its version and the companies it reads.

    Example: odoosync backends test acme
    """
    from odoosync import backends
    from odoosync.service.operations import allowed_companies, open_client, open_store
    from odoosync.settings import load_settings

    with fail_cleanly():
        settings = load_settings()
        with open_store(settings) as store:
            config = backends.odoo_config(settings, store, name)
        with open_client(settings, config) as client:
            company_ids = list(client.config.company_ids or allowed_companies(client))
            answer = {
                "backend": name,
                "ok": True,
                "version": client.version().get("server_version"),
                "uid": client.uid,
                "company_ids": company_ids,
            }
    if json:
        print_json(answer)
    else:
        typer.echo(
            f"{name}: ok, Odoo {answer['version']}, user #{answer['uid']}, "
            f"companies {','.join(str(c) for c in company_ids)}"
        )


def register(app: typer.Typer) -> None:
    """Add the ``backends`` group to the top-level app."""
    app.add_typer(backends_app, name="backends")
