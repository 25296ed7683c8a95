"""CLI commands: ``odoosync sheets add|sync|pause|resume|remove|status``.

Thin shells over ``odoosync.sheets``: read the settings (``DATABASE_URL``,
``ODOOSYNC_SHEETS_ALLOW_PRIVATE``), open the migrated store, call one library function,
print the outcome (a table, or ``--json``). ``--customer`` takes a customer id or name;
``add`` creates a customer that does not exist yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from odoosync.cli.common import console, fail_cleanly, is_terminal, new_table, print_json
from odoosync.exceptions import ConfigError
from odoosync.models import Trigger

if TYPE_CHECKING:  # imported by the commands when they run, so `--help` starts at once
    from odoosync.sheets.engine import SheetSync, SheetSyncResult
    from odoosync.sheets.state import SheetState

__all__ = ["register"]

sheets_app = typer.Typer(help="Leads from Google Sheets: one sheet per customer.", no_args_is_help=True)

Customer = Annotated[str, typer.Option("--customer", help="Customer id or name.")]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]


@contextmanager
def _sheet_sync() -> Iterator[SheetSync]:
    from odoosync.library import open_sheet_sync
    from odoosync.settings import load_settings

    with open_sheet_sync(load_settings()) as engine:
        yield engine


def _parse_map(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    problems = []
    for pair in pairs:
        field, sep, header = pair.partition("=")
        if not sep or not field.strip() or not header.strip():
            problems.append(f"--map {pair!r}: expected field=Header, e.g. --map title='Company Name'")
        else:
            mapping[field.strip()] = header.strip()
    if problems:
        raise ConfigError(problems[0], problems)
    return mapping


@sheets_app.command()
def add(
    customer: Customer,
    url: Annotated[str, typer.Option("--url", help="Google Sheets link, CSV URL or local file.")],
    map_: Annotated[
        list[str] | None, typer.Option("--map", help="field=Header, repeatable (e.g. --map title='Company Name').")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help="Column whose value identifies a row.")] = None,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="Cron expression for the service, e.g. '*/15 * * * *'.")
    ] = None,
    push_to_odoo: Annotated[
        bool, typer.Option("--push-to-odoo", help="Create each new sheet lead in Odoo too.")
    ] = False,
    json: JsonOutput = False,
) -> None:
    """Configure a customer's sheet: fetch it once, show its header and the mapping used.

    Example: odoosync sheets add --customer acme --url 'https://docs.google.com/spreadsheets/d/ID/edit#gid=0'
    """
    with fail_cleanly(), _sheet_sync() as engine:
        state, preview = engine.add(
            customer,
            url,
            column_map=_parse_map(map_ or []),
            key_column=key,
            schedule=schedule,
            push_to_odoo=push_to_odoo,
        )
    if json:
        print_json(
            {
                "customer_id": state.customer_id,
                "customer": state.customer_name,
                "url": preview.url,
                "header": preview.header,
                "mapping": preview.mapping,
                "key_column": preview.key_column,
                "extra_columns": preview.extra_columns,
                "rows": preview.rows,
                "row_errors": preview.error_count,
                "errors": [e.as_dict() for e in preview.errors],
                "push_to_odoo": state.push_to_odoo,
                "schedule": state.schedule,
            }
        )
        return
    typer.echo(f"customer {state.customer_id} ({state.customer_name}): {preview.url}")
    typer.echo(f"header: {', '.join(preview.header)}")
    table = new_table("lead field", "column", title="mapping")
    for field, column in preview.mapping.items():
        table.add_row(field, column)
    console.print(table)
    typer.echo(f"row key: {preview.key_column or 'hash of title, contact, e-mail, phone'}")
    if preview.extra_columns:
        typer.echo(f"kept in metadata: {', '.join(preview.extra_columns)}")
    typer.echo(f"{preview.rows:,} rows, {preview.error_count:,} with errors")
    for error in preview.errors:
        typer.echo(f"  {error.message}")
    typer.echo(
        "push to Odoo: "
        + ("yes" if state.push_to_odoo else "no")
        + f"; schedule: {state.schedule or 'service default'}"
    )


@sheets_app.command()
def sync(
    customer: Annotated[str | None, typer.Option("--customer", help="Customer id or name.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every sheet that is not paused.")] = False,
    allow_mass_delete: Annotated[
        bool,
        typer.Option(
            "--allow-mass-delete",
            help="Accept a sync that deletes more than the allowed share of a customer's leads (or all of them).",
        ),
    ] = False,
    json: JsonOutput = False,
) -> None:
    """Sync one customer's sheet (or all) into leads now.

    A sync that would delete more than 20% of a customer's sheet leads (sheets.max_delete_share),
    or all of them, is refused and changes nothing; --allow-mass-delete accepts it.

    Example: odoosync sheets sync --customer acme
    """
    if bool(customer) == all_:
        with fail_cleanly():
            raise ConfigError("give either --customer ID or --all")
    from odoosync.sheets.state import resolve_customer

    with fail_cleanly(), _sheet_sync() as engine:
        with _progress(enabled=not json) as on_progress:
            if all_:
                results = engine.sync_all(
                    trigger=Trigger.MANUAL.value, on_progress=on_progress, allow_mass_delete=allow_mass_delete
                )
            else:
                assert customer is not None  # one of the two, checked above
                customer_id = resolve_customer(engine.store, customer)
                results = [
                    engine.sync(
                        customer_id,
                        trigger=Trigger.MANUAL.value,
                        on_progress=on_progress,
                        allow_mass_delete=allow_mass_delete,
                    )
                ]
    if json:
        print_json([result.as_dict() for result in results])
    else:
        for result in results:
            typer.echo(_describe(result))
            for error in result.errors[:20]:
                typer.echo(f"  {error.message}")
            if result.error_count > 20:
                typer.echo(f"  ... {result.error_count - 20} more row errors")
    if any(result.status not in ("ok", "unchanged") for result in results):
        raise typer.Exit(1)


@sheets_app.command()
def pause(customer: Customer, json: JsonOutput = False) -> None:
    """Pause a sheet: a running sync stops at its next chunk and rolls back; no new syncs.

    Example: odoosync sheets pause --customer acme
    """
    _set_paused(customer, True, json)


@sheets_app.command()
def resume(customer: Customer, json: JsonOutput = False) -> None:
    """Resume a paused sheet.

    Example: odoosync sheets resume --customer acme
    """
    _set_paused(customer, False, json)


@sheets_app.command()
def remove(customer: Customer, json: JsonOutput = False) -> None:
    """Stop syncing a customer's sheet (its leads stay).

    Example: odoosync sheets remove --customer acme
    """
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings
    from odoosync.sheets.state import remove_state, resolve_customer

    with fail_cleanly():
        with open_store(load_settings()) as store:
            customer_id = resolve_customer(store, customer)
            remove_state(store, customer_id)
    if json:
        print_json({"customer_id": customer_id, "removed": True})
    else:
        typer.echo(f"customer {customer_id}: sheet removed (its leads are kept)")


@sheets_app.command()
def status(json: JsonOutput = False) -> None:
    """Every sheet: paused/running, last sync, rows, changes, errors, progress.

    Example: odoosync sheets status --json
    """
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings
    from odoosync.sheets.state import list_states

    with fail_cleanly():
        with open_store(load_settings()) as store:
            states = list_states(store)
    if json:
        print_json([state.as_dict() for state in states])
        return
    if not states:
        typer.echo("no sheets configured: odoosync sheets add --customer ID --url URL")
        return
    table = new_table("customer", "state", "last sync", "rows", "+ins ~upd -del", "errors", "retries", "progress")
    for state in states:
        table.add_row(
            f"{state.customer_id} {state.customer_name or ''}".strip(),
            _state_word(state),
            state.last_sync_at.strftime("%Y-%m-%d %H:%M") if state.last_sync_at else "never",
            f"{state.rows_processed:,}",
            f"+{state.rows_inserted} ~{state.rows_updated} -{state.rows_deleted}",
            str(state.error_count),
            str(state.retry_count),
            f"{state.progress_percent}%",
        )
    console.print(table)
    for state in states:
        if state.last_error:
            typer.echo(f"customer {state.customer_id}: {state.last_error}")


def _set_paused(customer: str, paused: bool, json: bool) -> None:
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings
    from odoosync.sheets.state import resolve_customer, set_paused

    with fail_cleanly():
        with open_store(load_settings()) as store:
            state = set_paused(store, resolve_customer(store, customer), paused)
    if json:
        print_json(state.as_dict())
    else:
        typer.echo(f"customer {state.customer_id}: {'paused' if paused else 'resumed'}")


def _state_word(state: SheetState) -> str:
    if state.is_paused:
        return "paused"
    return "running" if state.is_running else "idle"


def _describe(result: SheetSyncResult) -> str:
    head = f"customer {result.customer_id}: {result.status}"
    if result.status == "ok":
        return (
            f"{head}: {result.rows:,} rows, {result.inserted:,} inserted, {result.updated:,} updated "
            f"({result.restored:,} restored), {result.deleted:,} deleted, {result.error_count:,} row errors, "
            f"{result.retries} retries, {result.duration_ms} ms"
        )
    if result.status == "unchanged":
        return f"{head} ({result.message}), {result.error_count:,} row errors, {result.duration_ms} ms"
    if result.status == "refused":  # the message starts with "refused:"
        return f"customer {result.customer_id}: {result.message}"
    return f"{head}: {result.message}"


@contextmanager
def _progress(*, enabled: bool) -> Iterator:
    """A progress bar on a terminal, plain lines otherwise (nothing under --json)."""
    if not enabled:
        yield None
        return
    if not is_terminal():
        last = [-1]

        def plain(percent: int, message: str) -> None:
            if percent // 10 != last[0] // 10 or percent == 100:
                last[0] = percent
                typer.echo(f"{percent:3d}% {message}")

        yield plain
        return
    from rich.progress import BarColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        console=console.real,
    ) as bar:
        task = bar.add_task("sheet", total=100)
        yield lambda percent, message: bar.update(task, completed=percent, description=message[:60])


def register(app: typer.Typer) -> None:
    """Add ``odoosync sheets ...`` to the top-level app."""
    app.add_typer(sheets_app, name="sheets")
