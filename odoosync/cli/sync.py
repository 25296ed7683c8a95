"""CLI commands of the pull side: ``sync``, ``verify``, ``status``, ``runs``, ``checkpoints``, ``demo``.

Each command is a thin shell over ``odoosync.service.operations`` (or ``odoosync.demo.run``): parse the
arguments, call one function, print the result as a table (or ``--json``). Long work
shows Rich progress bars on a terminal and plain log lines otherwise.
"""

from __future__ import annotations

import logging
import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from odoosync.cli.backends import BackendOption
from odoosync.cli.common import console, err_console, fail_cleanly, is_terminal, new_table, print_json, wide_console
from odoosync.cursor_text import describe_cursor
from odoosync.exceptions import ConfigError
from odoosync.models import RunCounters, SyncMode

if TYPE_CHECKING:  # the commands import the engines when they run, so `--help` starts at once
    from rich.table import Table

    from odoosync.pull import Progress
    from odoosync.service.operations import SyncReport

__all__ = ["register", "parse_budget"]

progress_log = logging.getLogger("odoosync.progress")
JsonOutput = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_budget(text: str | None) -> float | None:
    """``50s``, ``2m``, ``1.5h``, ``500ms`` or plain seconds → seconds."""
    if text is None:
        return None
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"--budget must be a positive duration such as 50s, 2m or 1h (got {text!r})")
    return float(match.group(1)) * _UNITS[match.group(2)]


# ---------------------------------------------------------------------------- progress


@contextmanager
def _progress_display(enabled: bool) -> Iterator[Callable[[Progress], None] | None]:
    """Rich bars on a terminal; log lines otherwise (one event per line, ``--log-format``
    applies); nothing for ``--json``. Where the engine knows a stream's total (a full read's
    id range, a missing read's list), the bar and the lines show it, a percentage and an ETA."""
    if not enabled:
        yield None
        return
    if is_terminal():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as RichProgress,
        )

        with RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description:<16}", markup=False),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[summary]}", markup=False),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console.real,
            transient=False,
        ) as bars:
            tasks: dict[str, Any] = {}

            def show(event: Progress) -> None:
                task = tasks.get(event.stream)
                if task is None:
                    task = tasks[event.stream] = bars.add_task(event.stream, total=None, summary="")
                c = event.counters
                summary = f"{c.fetched} fetched, {c.inserted} new, {c.updated} changed, {c.deleted} deleted"
                if event.phase == "done":
                    total = event.total or event.done or 1
                    bars.update(task, total=total, completed=total, summary=summary)
                elif event.total:
                    bars.update(task, total=event.total, completed=event.done, summary=summary)
                else:
                    bars.update(task, summary=summary)

            yield show
        return
    last: dict[str, float] = {}
    started: dict[str, float] = {}

    def log_line(event: Progress) -> None:
        now = time.monotonic()
        started.setdefault(event.stream, now)
        if event.phase == "page" and now - last.get(event.stream, 0.0) < 2.0:
            return
        last[event.stream] = now
        c = event.counters
        where = ""
        if event.total and event.phase != "done":
            where = f" {event.done}/{event.total} ({100 * event.done // event.total}%)"
            elapsed = now - started[event.stream]
            if event.done and elapsed > 0:
                where += f", about {(event.total - event.done) * elapsed / event.done:.0f} s left"
        progress_log.info(
            "%s: %s%s fetched=%d inserted=%d updated=%d deleted=%d skipped=%d requests=%d",
            event.stream,
            event.phase,
            where,
            c.fetched,
            c.inserted,
            c.updated,
            c.deleted,
            c.skipped,
            c.rpc_calls,
        )

    yield log_line


def _print_table(table: Table) -> None:
    """On a terminal at its width; in a log or pipe wide enough that columns never wrap."""
    if is_terminal():
        console.print(table)
    else:
        wide_console(max(console.width, 140)).print(table)


def _report_table(report: SyncReport) -> Table:
    table = new_table(title="sync")
    for column in ("stream", "status", "fetched", "inserted", "updated", "deleted", "also", "requests", "seconds"):
        table.add_column(column, justify="left" if column in ("stream", "status", "also") else "right")
    for r in report.results:
        c = r.counters
        table.add_row(
            r.stream,
            str(r.status) + (" (remaining)" if r.remaining else ""),
            str(c.fetched),
            str(c.inserted),
            str(c.updated),
            str(c.deleted),
            counters_text(c, _SHOWN_IN_COLUMNS),
            str(c.rpc_calls),
            f"{r.duration_ms / 1000:.2f}",
        )
    return table


_SHOWN_IN_COLUMNS = ("fetched", "inserted", "updated", "deleted", "rpc_calls")
_COUNTER_WORDS = {"rpc_calls": "requests"}


def counters_text(counters: RunCounters, leave_out: tuple[str, ...] = ()) -> str:
    """Every counter that is not zero (``skipped 3, retries 23``): a run with retries
    never looks like one without."""
    return ", ".join(
        f"{_COUNTER_WORDS.get(name, name)} {value}"
        for name, value in counters.as_dict().items()
        if value and name not in leave_out
    )


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM or Ctrl-C: the page in flight rolls back, the run is logged ``partial``,
    locks are released, and the command exits 130 saying how to continue."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    except KeyboardInterrupt:
        err_console.print(
            "interrupted: the run was closed as partial; run the same command again to continue",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# ---------------------------------------------------------------------------- commands


def sync(
    stream: Annotated[
        str,
        typer.Argument(
            help="A stream (leads, partners, stages, users, teams, tags, lost_reasons, activity_types, ...), a configured model name, or 'all'."
        ),
    ] = "all",
    mode: Annotated[
        SyncMode,
        typer.Option("--mode", help="incremental (default; the first run reads everything), full, or missing."),
    ] = SyncMode.INCREMENTAL,
    odoo_id: Annotated[
        int | None, typer.Option("--odoo-id", help="Pull only this Odoo record (for chatter: this lead's).")
    ] = None,
    budget: Annotated[
        str | None,
        typer.Option("--budget", help="Stop cleanly before this much time (e.g. 50s) and report remaining: true."),
    ] = None,
    allow_mass_delete: Annotated[
        bool,
        typer.Option(
            "--allow-mass-delete",
            help="Let the delete reconcile mark more than [sync] max_delete_share (default 10%) of a stream deleted; without it such a run deletes nothing and fails.",
        ),
    ] = False,
    backend: BackendOption = "default",
    json: JsonOutput = False,
) -> None:
    """Pull Odoo into the database: one stream or all of them, resumably.

    Example: odoosync sync all --budget 50s
    """
    from odoosync import heap
    from odoosync.service.operations import sync as run_sync_from_settings
    from odoosync.settings import load_settings

    heap.settle()
    with fail_cleanly(), _stop_on_sigterm():
        seconds = parse_budget(budget)
        settings = load_settings()
        with _progress_display(not json) as on_progress:
            report = run_sync_from_settings(
                settings,
                stream,
                mode=mode,
                odoo_id=odoo_id,
                budget=seconds,
                on_progress=on_progress,
                allow_mass_delete=allow_mass_delete,
                backend=backend,
            )
    found_nothing = odoo_id is not None and not any(r.counters.fetched or r.counters.deleted for r in report.results)
    if json:
        print_json(report.as_dict())
    else:
        _print_table(_report_table(report))
        if report.remaining:
            console.print("remaining: true: the budget ran out before the end; run the same command again to continue")
    if found_nothing:
        streams = ", ".join(r.stream for r in report.results)
        err_console.print(f"error: Odoo has no record with id {odoo_id} for {streams} (and the database had none)")
        raise typer.Exit(1)
    if not report.ok:
        raise typer.Exit(1)


def verify(
    stream: Annotated[str, typer.Argument(help="A stream, a configured model name, or 'all'.")] = "all",
    repair: Annotated[
        bool,
        typer.Option("--repair", help="Sync exactly the missing, stale and extra records found, then check again."),
    ] = False,
    allow_mass_delete: Annotated[
        bool,
        typer.Option(
            "--allow-mass-delete",
            help="With --repair: let it mark more than [sync] max_delete_share of a stream deleted.",
        ),
    ] = False,
    backend: BackendOption = "default",
    json: JsonOutput = False,
) -> None:
    """Prove nothing is lost: compare Odoo's complete id sets (archived included) and
    write stamps with the database, per stream. Exit 1 on drift.

    Example: odoosync verify all --repair
    """
    from odoosync.service.operations import verify as run_verify_from_settings
    from odoosync.settings import load_settings

    with fail_cleanly(), _stop_on_sigterm():
        settings = load_settings()
        report = run_verify_from_settings(
            settings, stream, repair=repair, allow_mass_delete=allow_mass_delete, backend=backend
        )
    if json:
        print_json(report.as_dict())
    else:
        table = new_table(title="verify")
        for column in ("stream", "in odoo", "in database", "missing", "extra", "stale", "requests"):
            table.add_column(column, justify="left" if column == "stream" else "right")
        for d in report.found:
            stale = str(len(d.stale)) if d.stamps_checked else "-"
            table.add_row(
                d.stream,
                str(d.in_odoo),
                str(d.in_database),
                str(len(d.missing)),
                str(len(d.extra)),
                stale,
                str(d.requests),
            )
        _print_table(table)
        for d in report.found:
            for kind, ids in (("missing", d.missing), ("extra", d.extra), ("stale", d.stale)):
                if ids:
                    sample = ", ".join(map(str, ids[:10])) + (" ..." if len(ids) > 10 else "")
                    typer.echo(f"{d.stream}: {len(ids)} {kind} (Odoo ids {sample})")
        if report.repairs:
            typer.echo(
                f"repaired: {sum(r.counters.inserted + r.counters.updated for r in report.repairs)} written, "
                f"{sum(r.counters.deleted for r in report.repairs)} marked deleted; drift left: {report.drift}"
            )
        elif report.drift:
            typer.echo("drift found: run `odoosync verify --repair` to sync exactly those records")
    if report.drift:
        raise typer.Exit(1)


def status(backend: BackendOption = "default", json: JsonOutput = False) -> None:
    """Show every stream: rows held, last run, last success, stored cursor; paused jobs.

    Example: odoosync status
    """
    from odoosync.service.freshness import badge, read_status
    from odoosync.service.operations import open_store, stream_status
    from odoosync.service.schedule_state import paused_jobs
    from odoosync.settings import load_settings

    with fail_cleanly():
        settings = load_settings()
        with open_store(settings) as store:
            rows = stream_status(store, backend)
            # the same freshness as GET /api/status (odoosync.service.freshness)
            fresh = {s.stream: s for s in read_status(store, streams=[row["stream"] for row in rows], backend=backend)}
            paused = paused_jobs(store)
    if json:
        print_json(
            {
                "streams": [{**row, "freshness": fresh[row["stream"]].freshness} for row in rows],
                "paused_jobs": paused,
            }
        )
        return
    table = new_table(title="streams")
    for column in (
        "stream",
        "model",
        "rows",
        "freshness",
        "last run",
        "status",
        "last success",
        "cursor",
        "quarantined",
    ):
        table.add_column(column)
    for row in rows:
        last = row["last_run"] or {}
        table.add_row(
            row["stream"],
            row["model"],
            str(row["rows"]),
            badge(fresh[row["stream"]]),
            str(last.get("started_at") or "never"),
            str(last.get("status") or "-"),
            str(row["last_success_at"] or "never"),
            describe_cursor(row["cursor"]),
            str(row["quarantined"] or ""),
        )
    _print_table(table)
    if any(row["quarantined"] for row in rows):
        typer.echo("quarantined: Odoo records the database refused; retried every run (GET /api/rejects lists them)")
    for job, since in paused.items():
        typer.echo(f"job {job} is paused since {since or '?'}: POST /api/schedule/{job}/resume to resume it")


def runs(
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs, newest first.")] = 20,
    stream: Annotated[str | None, typer.Option("--stream", help="Only this stream's runs.")] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="Only this backend's runs.")] = None,
    json: JsonOutput = False,
) -> None:
    """List recent runs with their counters and errors (ops.odoo_sync_runs).

    Example: odoosync runs --stream leads --limit 5
    """
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings
    from odoosync.store import runs as run_store

    with fail_cleanly():
        settings = load_settings()
        with open_store(settings) as store:
            found = run_store.list_runs(store, limit, stream=stream, backend=backend)
    if json:
        print_json({"runs": [r.as_dict() for r in found]})
        return
    table = new_table(title="runs")
    for column in ("id", "job", "stream", "mode", "status", "started", "counters", "ms", "error"):
        table.add_column(column)
    for r in found:
        table.add_row(
            str(r.id),
            r.job,
            r.stream,
            r.mode,
            str(r.status) + (" (remaining)" if r.remaining else ""),
            r.started_at.isoformat(timespec="seconds"),
            counters_text(r.counters) or "-",
            str(r.duration_ms),
            r.error or "",
        )
    _print_table(table)


checkpoints_app = typer.Typer(
    help="Show or reset where each stream resumes (ops.odoo_sync_checkpoints).", no_args_is_help=True
)


@checkpoints_app.command("list")
def checkpoints_list(
    backend: Annotated[str | None, typer.Option("--backend", help="Only this backend's checkpoints.")] = None,
    json: JsonOutput = False,
) -> None:
    """List stored checkpoints.

    Example: odoosync checkpoints list
    """
    from odoosync.service.operations import open_store
    from odoosync.settings import load_settings
    from odoosync.store import checkpoints as checkpoint_store

    with fail_cleanly():
        settings = load_settings()
        with open_store(settings) as store:
            found = checkpoint_store.list_checkpoints(store, f"pull:{backend}:" if backend else "")
    if json:
        print_json({"checkpoints": [c.as_dict() for c in found]})
        return
    table = new_table(title="checkpoints")
    for column in ("key", "cursor", "updated"):
        table.add_column(column)
    for c in found:
        table.add_row(c.key, describe_cursor(c.cursor), c.updated_at.isoformat(timespec="seconds"))
    _print_table(table)


@checkpoints_app.command("reset")
def checkpoints_reset(
    key: Annotated[str, typer.Argument(help="A stream name (e.g. leads) or a full checkpoint key.")],
    backend: BackendOption = "default",
    json: JsonOutput = False,
) -> None:
    """Forget a stream's checkpoint: its next run reads everything again.

    Example: odoosync checkpoints reset leads
    """
    from odoosync.pull import checkpoint_key
    from odoosync.service.operations import open_store, pull_streams
    from odoosync.settings import load_settings
    from odoosync.store import checkpoints as checkpoint_store

    with fail_cleanly():
        settings = load_settings()
        with open_store(settings) as store:
            if ":" in key:
                full_key = key
            else:
                known = [stream.name for stream in pull_streams(store)]
                if key not in known:
                    raise ConfigError(
                        f"unknown stream {key!r}: use one of {', '.join(known)} (or a full key from `odoosync checkpoints list`)"
                    )
                full_key = checkpoint_key(backend, key)
            existed = checkpoint_store.reset(store, full_key)
    if json:
        print_json({"key": full_key, "reset": existed})
    else:
        typer.echo(f"{full_key}: {'reset' if existed else 'no checkpoint stored'}")


def demo(
    file: Annotated[str, typer.Option("--file", help="SQLite file to (re)create.")] = "odoosync-demo.db",
    scale: Annotated[
        float, typer.Option("--scale", min=0.001, help="Dataset size; 1.0 = 2,764 leads, 38k messages.")
    ] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Dataset seed (same seed, same data).")] = 0,
    latency_ms: Annotated[float, typer.Option("--latency-ms", min=0, help="Simulated Odoo latency per request.")] = 0.0,
    serve: Annotated[
        bool, typer.Option("--serve", help="Then serve the dashboard, the simulator's webhooks wired, until Ctrl-C.")
    ] = False,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="With --serve: the dashboard's port.")] = 8000,
    backends: Annotated[
        int,
        typer.Option(
            "--backends", min=1, max=8, help="How many simulated Odoo databases land in the one app database."
        ),
    ] = 1,
    json: JsonOutput = False,
) -> None:
    """Start the bundled Odoo simulator, sync it into a fresh SQLite file, print a summary.

    Example: odoosync demo --scale 0.1 --serve
    """
    from odoosync import heap
    from odoosync.demo.run import DEFAULT_STEPS, run_demo

    heap.settle()
    if backends > 1:
        if serve:
            raise typer.BadParameter("--serve runs with one backend: leave out --backends")
        _demo_backends(file, backends, scale=scale, seed=seed, latency_ms=latency_ms, json=json)
        return
    steps = None
    if serve:
        from odoosync.demo.serve import serving_step

        steps = [
            *DEFAULT_STEPS,
            serving_step(lambda info: console.print(info.describe(), markup=False, highlight=False), port=port),
        ]
    with fail_cleanly():
        with _progress_display(not json and not serve) as on_progress:
            report = run_demo(file, scale=scale, seed=seed, latency_ms=latency_ms, on_progress=on_progress, steps=steps)
    if json:
        print_json(report.as_dict())
        return
    table = new_table(title=f"demo: simulator {report.odoo_url} → {report.database}")
    for column in ("step", "stream", "status", "fetched", "inserted", "updated", "deleted", "requests", "seconds"):
        table.add_column(column, justify="left" if column in ("step", "stream", "status") else "right")
    for r in report.rows:
        table.add_row(
            r.step,
            r.stream,
            r.status,
            str(r.fetched),
            str(r.inserted),
            str(r.updated),
            str(r.deleted),
            str(r.requests),
            f"{r.seconds:.2f}",
        )
    _print_table(table)
    console.print(
        f"{report.leads_in_database} of {report.leads_in_odoo} Odoo leads (archived included) are in "
        f"{report.database}; total {report.seconds:.1f} s"
    )
    if report.history:
        h = report.history
        console.print(
            f"{h['messages_in_database']} of {h['messages_in_odoo']} chatter messages and "
            f"{h['activities_in_database']} of {h['activities_in_odoo']} scheduled activities of Odoo leads are there too"
        )


def _demo_backends(file: str, count: int, *, scale: float, seed: int, latency_ms: float, json: bool) -> None:
    """``demo --backends N``: one summary row per simulated Odoo database."""
    from odoosync.demo.backends import run_backends_demo

    with fail_cleanly():
        with _progress_display(not json) as on_progress:
            report = run_backends_demo(
                file, count, scale=scale, seed=seed, latency_ms=latency_ms, on_progress=on_progress
            )
    if json:
        print_json(report.as_dict())
        return
    table = new_table(title=f"demo: {count} Odoo databases → {report.database}")
    for column in (
        "backend",
        "odoo",
        "app company",
        "status",
        "leads odoo/db",
        "messages odoo/db",
        "activities odoo/db",
        "requests",
        "seconds",
    ):
        table.add_column(column)
    for b in report.backends:
        table.add_row(
            b.backend,
            f"{b.odoo_url} db={b.odoo_db}",
            str(b.app_company_id),
            b.status,
            f"{b.leads_in_odoo}/{b.leads_in_database}",
            f"{b.messages_in_odoo}/{b.messages_in_database}",
            f"{b.activities_in_odoo}/{b.activities_in_database}",
            str(b.requests),
            f"{b.seconds:.2f}",
        )
    _print_table(table)
    console.print(
        f"{count} backends, one database: rows carry their backend (leads.odoo_backend); "
        f"try: odoosync status --backend {report.backends[0].backend}",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``sync``, ``verify``, ``status``, ``runs``, ``checkpoints`` and ``demo`` to the top-level app."""
    app.command("sync")(sync)
    app.command("verify")(verify)
    app.command("status")(status)
    app.command("runs")(runs)
    app.add_typer(checkpoints_app, name="checkpoints")
    app.command("demo")(demo)
