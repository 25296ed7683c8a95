"""CLI commands: ``odoosync push [--once|--loop]`` and ``odoosync outbox list|retry|discard``.

Thin shells: settings → store and Odoo client (``odoosync.service.operations``) → the worker or the
outbox module → printed outcome (``--json`` for machines).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Annotated

import typer

from odoosync.cli.backends import BackendOption
from odoosync.cli.common import fail_cleanly, print_json
from odoosync.exceptions import ConfigError

if TYPE_CHECKING:
    from odoosync.push.engine import PushResult

__all__ = ["register"]

log = logging.getLogger("odoosync.push")

outbox_app = typer.Typer(
    help="Inspect, retry or discard the queue of app changes bound for Odoo.", no_args_is_help=True
)
JsonOutput = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]


def push(
    once: Annotated[bool, typer.Option("--once", help="Push everything ready now, then exit (the default).")] = False,
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep pushing as changes are queued, until SIGTERM/Ctrl-C.")
    ] = False,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between idle checks with --loop.")] = 2.0,
    backend: BackendOption = "default",
    json: JsonOutput = False,
) -> None:
    """Push the app's queued changes (ops.odoo_outbox) to Odoo.

    Example: odoosync push --once
    """
    if once and loop:
        raise typer.BadParameter("choose --once or --loop, not both")
    from odoosync.backends import odoo_config
    from odoosync.push.engine import PushEngine
    from odoosync.push.worker import run_forever, run_once
    from odoosync.service.operations import open_client, open_store
    from odoosync.settings import load_settings

    with fail_cleanly():
        settings = load_settings()
        with open_store(settings) as store, open_client(settings, odoo_config(settings, store, backend)) as client:
            engine = PushEngine(store, client, backend=backend, lease=dt.timedelta(seconds=settings.push_lease_seconds))
            if loop:
                from odoosync.service.app import until_signal

                log.info(
                    "push loop started: pushing queued changes to %s as they come (idle check every %.1f s)",
                    client.config.url,
                    poll,
                )
                with until_signal() as stop:
                    run_forever(
                        engine, stop=stop, poll_seconds=poll, on_result=lambda result: log.info("%s", _describe(result))
                    )
                log.info("push loop stopped")
                return
            result = run_once(engine)
    if json:
        print_json(result.as_dict())
    else:
        typer.echo(_describe(result))
        for error in result.errors[:10]:
            typer.echo(f"  failed: {error}", err=True)
    if result.failed:
        raise typer.Exit(1)


def _describe(result: PushResult) -> str:
    return (
        f"pushed: {result.done} done ({result.created} created, {result.written} written, {result.deleted} deleted, "
        f"{result.skipped} unchanged), {result.retried} to retry, {result.failed} failed, "
        f"{result.conflicts} conflicts, {result.rpc_calls} Odoo requests"
    )


@outbox_app.command("list")
def list_command(
    status: Annotated[
        str | None, typer.Option("--status", help="queued, processing, done, failed or discarded.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many items (newest first).")] = 50,
    json: JsonOutput = False,
) -> None:
    """List outbox items, newest first, with counts per status.

    Example: odoosync outbox list --status failed
    """
    from odoosync.push import outbox
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings

    with fail_cleanly():
        with open_store(load_settings()) as store:
            items = outbox.list_items(store, status=status, limit=limit)
            counts = outbox.status_counts(store)
    if json:
        print_json({"counts": counts, "items": [i.as_dict() for i in items]})
        return
    typer.echo("  ".join(f"{k}: {v}" for k, v in counts.items()))
    for item in items:
        target = f"{item.local_table}:{item.local_id}" if item.local_table else "-"
        error = f"  {item.last_error}" if item.last_error else ""
        typer.echo(
            f"#{item.id} {item.status:<10} {item.model} {item.operation} {target} "
            f"odoo={item.odoo_id or '-'} attempts={item.attempts}{error}"
        )


@outbox_app.command("retry")
def retry_command(
    ids: Annotated[list[int] | None, typer.Argument(help="Item ids (default: every failed item).")] = None,
    json: JsonOutput = False,
) -> None:
    """Re-queue failed items with their attempts reset.

    Example: odoosync outbox retry 12 15
    """
    from odoosync.push import outbox
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings

    with fail_cleanly():
        with open_store(load_settings()) as store:
            if ids:
                _require_failed(outbox.statuses_of(store, ids), ids, "retried")
            count = outbox.retry_failed(store, now=dt.datetime.now(dt.UTC), ids=ids or None)
    if json:
        print_json({"requeued": count})
    else:
        typer.echo(f"re-queued {count} failed item(s)")


@outbox_app.command("discard")
def discard_command(
    ids: Annotated[list[int], typer.Argument(help="Failed item ids to give up on.")],
    json: JsonOutput = False,
) -> None:
    """Give up on failed items that can only fail again: they become discarded, are never
    pushed, and their lead is stamped odoo_push_discarded_at for the app to see.

    Example: odoosync outbox discard 12
    """
    from odoosync.push import outbox
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings

    with fail_cleanly():
        with open_store(load_settings()) as store:
            _require_failed(outbox.statuses_of(store, ids), ids, "discarded")
            discarded = outbox.discard(store, ids, now=dt.datetime.now(dt.UTC))
    if json:
        print_json({"discarded": [item.id for item in discarded]})
    else:
        for item in discarded:
            target = f" ({item.local_table} {item.local_id} marked)" if item.local_table == "leads" else ""
            typer.echo(f"#{item.id} discarded: {item.model} {item.operation}{target}")


def _require_failed(statuses: dict[int, str], ids: list[int], verb: str) -> None:
    """Refuse, naming each, ids that are not outbox items or not failed (nothing changes)."""
    problems = [f"outbox item {i} not found" for i in ids if i not in statuses]
    problems += [
        f"outbox item {i} is {statuses[i]}, not failed: only failed items can be {verb}"
        for i in ids
        if i in statuses and statuses[i] != "failed"
    ]
    if problems:
        raise ConfigError("; ".join(problems), problems)


def register(app: typer.Typer) -> None:
    """Add ``push`` and the ``outbox`` group to the top-level app."""
    app.command("push")(push)
    app.add_typer(outbox_app, name="outbox")
