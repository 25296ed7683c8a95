"""CLI command ``odoosync simulator``: serve a generated Odoo on loopback until stopped."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from odoosync.cli.common import fail_cleanly
from odoosync.exceptions import ConfigError

__all__ = ["register"]


def simulator(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8069, help="TCP port (0 picks a free one)."),
    scale: float = typer.Option(1.0, help="Data volume: 1.0 is 2,764 leads, 38,472 messages."),
    seed: int = typer.Option(0, help="Random seed: the same seed gives the same data."),
    latency_ms: float = typer.Option(0, "--latency-ms", help="Delay added to every request."),
    faults: str = typer.Option(
        "", help="Faults, e.g. '429:0.1,500:0.05,reset:0.05,timeout:0.02' or 'search_read#3:500'."
    ),
    version: str = typer.Option("17.0", help="Odoo version to report; 19.0 enables JSON-2."),
    webhook_url: str = typer.Option(
        "",
        "--webhook-url",
        help="Send Odoo's automation webhooks for lead, message and activity writes to this URL (e.g. http://127.0.0.1:8000/api/webhooks/odoo?token=SECRET).",
    ),
) -> None:
    """Serve a simulated Odoo with generated CRM data.  Example: odoosync simulator --scale 0.1 --port 8069"""
    from odoosync.simulator import Simulator

    with fail_cleanly():
        try:
            sim = Simulator(
                scale, seed, host=host, port=port, version=version, latency_ms=latency_ms, faults=faults or None
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if webhook_url:
        from odoosync.simulator.webhooks import attach

        attach(sim, webhook_url)
    typer.echo(f"Odoo simulator (Odoo {version}) at {sim.url}")
    typer.echo(f"  database: {sim.db}")
    typer.echo(f"  login:    {sim.login}")
    typer.echo(f"  password: {sim.password}")
    typer.echo(f"  api key:  {sim.api_key}")
    if sim.counts:
        c = sim.counts
        typer.echo(
            f"  data:     {c.leads} leads, {c.partners} partners, {c.messages} messages, {c.activities} activities"
        )
    typer.echo("Press Ctrl-C to stop.")

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=sim.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    typer.echo("Simulator stopped.")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
    app.command(name="simulator")(simulator)
