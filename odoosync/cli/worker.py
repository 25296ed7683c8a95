"""CLI command: ``odoosync worker``, a process of the distributed engine.

Run any number of them, on any machines that reach the app's PostgreSQL, beside one
``odoosync serve --engine procrastinate`` that schedules the jobs. See
``docs/operations.md`` ("Workers").
"""

from __future__ import annotations

from typing import Annotated

import typer

from odoosync.cli.common import fail_cleanly

__all__ = ["register", "worker"]


def worker(
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Jobs this process runs at once (threads).")
    ] = 1,
    heartbeat: Annotated[
        float, typer.Option("--heartbeat", min=0.5, help="Seconds between this worker's heartbeats.")
    ] = 10.0,
    stalled_after: Annotated[
        float,
        typer.Option(
            "--stalled-after",
            min=2.0,
            help="Seconds without a heartbeat after which a worker counts as dead and its job is queued again.",
        ),
    ] = 60.0,
    name: Annotated[str | None, typer.Option("--name", help="Name in the logs (default host:pid).")] = None,
    until_empty: Annotated[
        bool, typer.Option("--until-empty", help="Leave once the queue is empty instead of waiting for jobs.")
    ] = False,
) -> None:
    """Run queued jobs (increments, reconcile, verify, outbox) of every backend (PostgreSQL only).

    Example: odoosync worker --concurrency 2
    """
    from odoosync import heap
    from odoosync.service.operations import open_store
    from odoosync.service.task_queue import require_postgres
    from odoosync.service.worker import run_worker
    from odoosync.settings import load_settings

    heap.settle()
    with fail_cleanly():
        settings = load_settings()
        require_postgres(settings.database_url)
        if stalled_after <= heartbeat * 2:
            raise typer.BadParameter("--stalled-after must be more than twice --heartbeat")
        with open_store(settings) as store:
            run_worker(
                settings,
                store,
                concurrency=concurrency,
                heartbeat_seconds=heartbeat,
                stalled_seconds=stalled_after,
                name=name,
                wait=not until_empty,
            )


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
