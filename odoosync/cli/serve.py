"""CLI commands: ``odoosync serve``, ``odoosync sla check``, ``odoosync schema --sql|--pg-cron``.

``serve`` is the one long-running process: the scheduler, the outbox worker (woken by
``LISTEN/NOTIFY`` on PostgreSQL, polling on SQLite) and the HTTP API, all assembled by the
composition root (``odoosync.service.app.App``, imported when ``serve`` runs, so that every
other command starts at once). The scheduler follows the database: jobs an operator paused
stay paused across restarts, and sheets added or changed by other processes are scheduled
within a minute.

Stopping (SIGTERM or Ctrl-C): running pulls finish their current page and close as
``partial``, their locks are released, the API stops, and the process exits.
"""

from __future__ import annotations

from typing import Annotated

import typer

from odoosync.cli.common import err_console, fail_cleanly, print_json, styled

__all__ = ["register", "serve", "sla_check", "schema"]

sla_app = typer.Typer(help="SLA breach checks.", no_args_is_help=True)
JsonOutput = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback unless tokens are set).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    no_schedule: Annotated[
        bool, typer.Option("--no-schedule", help="API and outbox worker only (pg_cron calls the jobs).")
    ] = False,
    poll: Annotated[float, typer.Option("--poll", min=0.2, help="SQLite: seconds between outbox checks.")] = 2.0,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="in-process: run every job here. procrastinate (PostgreSQL): queue the Odoo jobs of every backend for `odoosync worker` processes.",
        ),
    ] = "in-process",
) -> None:
    """Run the scheduler, the outbox worker and the HTTP API in one process.

    Example: ODOOSYNC_API_TOKEN=... odoosync serve --host 0.0.0.0 --port 8000
    Example: odoosync serve --engine procrastinate   (and `odoosync worker` on each machine)
    """
    from odoosync import heap
    from odoosync.service.app import App, until_signal
    from odoosync.settings import load_settings
    from odoosync.web.auth import Tokens, check_bind_address

    heap.settle()
    with fail_cleanly():
        settings = load_settings()
        check_bind_address(host, Tokens(admin=settings.api_token, read=settings.read_token))
        with (
            App(settings, scheduled=not no_schedule, poll_seconds=poll, engine=engine) as service,
            until_signal() as stop,
        ):
            service.start(host, port)
            service.wait(stop)


@sla_app.command("check")
def sla_check(json: JsonOutput = False) -> None:
    """Escalate leads past their deadline and resolve those no longer in breach.

    Example: odoosync sla check --json
    """
    from odoosync.service.jobs import run_sla_check
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings

    with fail_cleanly():
        settings = load_settings()
        with open_store(settings) as store:
            result = run_sla_check(store, trigger="manual", webhook_url=settings.sla_webhook_url)
    if json:
        print_json(result.as_dict())
        return
    typer.echo(f"SLA: {len(result.breached)} new breach(es), {len(result.resolved)} resolved")
    for breach in result.breached:
        typer.echo(
            f"  breach  lead {breach.lead_id}: {breach.title} ({breach.hours_overdue} h overdue, owner {breach.owner or '-'})"
        )
    for resolved in result.resolved:
        typer.echo(f"  resolved lead {resolved.lead_id}: {resolved.title} ({resolved.reason})")
    if result.webhook_error:
        err_console.print(styled("warning:", "yellow", result.webhook_error))


def schema(
    sql: Annotated[
        bool, typer.Option("--sql", help="Print the PostgreSQL DDL of odoosync's tables and triggers.")
    ] = False,
    pg_cron: Annotated[bool, typer.Option("--pg-cron", help="Print pg_cron + pg_net SQL calling this API.")] = False,
    url: Annotated[
        str, typer.Option("--url", help="With --pg-cron: the API's public base URL.")
    ] = "http://127.0.0.1:8000",
    token_source: Annotated[
        str, typer.Option("--token-source", help="With --pg-cron: vault:<secret name> or setting:<name>.")
    ] = "vault:odoosync_api_token",
) -> None:
    """Print SQL: the schema (--sql) or the pg_cron jobs for Supabase (--pg-cron).

    Example: odoosync schema --pg-cron --url https://sync.example.com > cron.sql
    """
    if sql == pg_cron:
        raise typer.BadParameter("choose exactly one of --sql or --pg-cron")
    with fail_cleanly():
        if pg_cron:
            from odoosync.service.pg_cron import pg_cron_sql
            from odoosync.service.scheduler import DEFAULT_SCHEDULE, resolve_schedule
            from odoosync.settings import load_settings

            settings = load_settings()
            schedule = resolve_schedule(tuple(DEFAULT_SCHEDULE), toml=settings.schedule)
            typer.echo(pg_cron_sql(url, schedule, token_source), nl=False)
        else:
            typer.echo(_schema_sql())


def _schema_sql() -> str:
    """The tables (from ``store/schema.py``, row-level security on) and the outbox triggers, as PostgreSQL DDL."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex, CreateSchema, CreateTable

    from odoosync.store import triggers
    from odoosync.store.schema import OPS_SCHEMA, metadata, row_level_security_statements

    dialect = postgresql.dialect()
    statements = [str(CreateSchema(OPS_SCHEMA, if_not_exists=True).compile(dialect=dialect))]
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        statements += [str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes]
    statements += row_level_security_statements()
    statements += triggers.create_statements("postgresql")
    return ";\n\n".join(statements) + ";"


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``sla check`` and ``schema`` to the top-level app."""
    app.command("serve")(serve)
    app.add_typer(sla_app, name="sla")
    app.command("schema")(schema)
