"""Metrics: what Prometheus scrapes at ``/metrics`` and the API shows at ``/api/metrics``.

Everything is read at scrape time from where it already lives, so several processes
(``serve``, a cron-driven ``sync``, another worker) are all counted and nothing is kept
twice: the runs log (runs by stream and status, rows by stream and operation, Odoo
calls and retries, seconds since each stream's last success, runs still going), the
outbox (depth by status, age of the oldest queued item), the checkpoints (age of each),
``lead_events`` (SLA breaches), and this process's Odoo client counters (requests,
retries, the latency histogram).

:func:`read_metrics` builds one snapshot; :class:`StoreCollector` turns it into
Prometheus families (official ``prometheus-client``), and the JSON endpoint returns the
snapshot itself, so both always agree. Alert rules on these names: ``docs/alerts.yml``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from odoosync.models import PARTIAL_MODES, VERIFY_JOB
from odoosync.odoo.stats import StatsSnapshot
from odoosync.pull import rejects
from odoosync.pull.verify import latest_drift
from odoosync.push import outbox
from odoosync.push.outbox import STATUSES as OUTBOX_STATUSES
from odoosync.store import Store
from odoosync.store.schema import lead_events, leads, odoo_sync_checkpoints, odoo_sync_runs

__all__ = [
    "read_metrics",
    "StoreCollector",
    "WebhookQueueCollector",
    "webhook_queue_metrics",
    "make_registry",
    "render_prometheus",
    "CONTENT_TYPE",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_ROW_OPERATIONS = ("fetched", "inserted", "updated", "deleted", "skipped", "failed")


def read_metrics(
    store: Store,
    *,
    client_stats: Callable[[], StatsSnapshot] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """One consistent snapshot of every metric, as plain JSON-able data."""
    now = now or dt.datetime.now(dt.UTC)
    runs = odoo_sync_runs
    with store.connect() as conn:
        by_status = conn.execute(
            sa.select(runs.c.stream, runs.c.status, sa.func.count()).group_by(runs.c.stream, runs.c.status)
        ).all()
        sums = conn.execute(
            sa.select(
                runs.c.stream,
                *(sa.func.coalesce(sa.func.sum(getattr(runs.c, name)), 0).label(name) for name in _ROW_OPERATIONS),
                sa.func.coalesce(sa.func.sum(runs.c.rpc_calls), 0).label("rpc_calls"),
                sa.func.coalesce(sa.func.sum(runs.c.retries), 0).label("retries"),
            ).group_by(runs.c.stream)
        ).all()
        last_ok = conn.execute(
            sa.select(runs.c.stream, sa.func.max(runs.c.finished_at))
            .where(runs.c.status == "ok", runs.c.mode.not_in(PARTIAL_MODES), runs.c.job != VERIFY_JOB)  # as freshness
            .group_by(runs.c.stream)
        ).all()
        running = conn.execute(
            sa.select(runs.c.stream, sa.func.min(runs.c.started_at))
            .where(runs.c.status == "running")
            .group_by(runs.c.stream)
        ).all()
        outbox_counts, oldest_queued = outbox.backlog(conn)
        checkpoints = conn.execute(sa.select(odoo_sync_checkpoints.c.key, odoo_sync_checkpoints.c.updated_at)).all()
        breaches = conn.execute(
            sa.select(lead_events.c.event_type, sa.func.count())
            .where(lead_events.c.event_type.in_(("sla_breach", "sla_resolved")))
            .group_by(lead_events.c.event_type)
        ).all()
        open_breaches = conn.execute(
            sa.select(sa.func.count()).select_from(leads).where(leads.c.sla_escalated_at.is_not(None))
        ).scalar_one()

    def age(value: Any) -> float | None:
        value = _aware(value)
        return None if value is None else max(0.0, (now - value).total_seconds())

    snapshot: dict[str, Any] = {
        "runs": [{"stream": s, "status": st, "count": n} for s, st, n in sorted(by_status)],
        "rows": [
            {"stream": row.stream, "operation": op, "count": int(getattr(row, op))}
            for row in sorted(sums, key=lambda r: r.stream)
            for op in _ROW_OPERATIONS
        ],
        "odoo_calls_logged": {row.stream: int(row.rpc_calls) for row in sums},
        "odoo_retries_logged": {row.stream: int(row.retries) for row in sums},
        "seconds_since_last_success": {s: age(t) for s, t in sorted(last_ok)},
        "oldest_running_seconds": {s: age(t) for s, t in sorted(running)},
        "outbox": dict(sorted(outbox_counts.items())),
        "outbox_oldest_queued_seconds": age(oldest_queued) or 0.0,
        "checkpoint_age_seconds": {k: age(t) for k, t in sorted(checkpoints)},
        "sla_events": {kind: n for kind, n in breaches},
        "sla_open_breaches": int(open_breaches),
        "quarantined": rejects.counts(store),
        "verify_drift": {
            d["stream"]: {kind: int(d.get(kind) or 0) for kind in ("missing", "extra", "stale")}
            for d in latest_drift(store)
            if d.get("drift") is not None
        },
        "odoo_client": None,
    }
    for status in OUTBOX_STATUSES:
        snapshot["outbox"].setdefault(status, 0)
    if client_stats is not None:
        stats = client_stats()
        snapshot["odoo_client"] = {
            "requests": stats.requests,
            "retries": stats.retries,
            "errors": dict(stats.errors),
            "latency_sum": stats.latency_sum,
            "latency_buckets": {str(k): v for k, v in sorted(stats.latency_histogram.items())},
        }
    return snapshot


class StoreCollector(Collector):
    """A Prometheus collector that reads :func:`read_metrics` at every scrape."""

    def __init__(self, store: Store, client_stats: Callable[[], StatsSnapshot] | None = None) -> None:
        self._store = store
        self._client_stats = client_stats

    def describe(self) -> list[Metric]:
        return []  # families are only known at scrape time; skip the registration probe

    def collect(self) -> Iterator[Metric]:
        snap = read_metrics(self._store, client_stats=self._client_stats)
        runs = CounterMetricFamily("odoosync_runs", "Sync runs by stream and final status", labels=["stream", "status"])
        for item in snap["runs"]:
            runs.add_metric([item["stream"], item["status"]], item["count"])
        yield runs
        rows = CounterMetricFamily(
            "odoosync_rows", "Rows handled by stream and operation", labels=["stream", "operation"]
        )
        for item in snap["rows"]:
            rows.add_metric([item["stream"], item["operation"]], item["count"])
        yield rows
        calls = CounterMetricFamily(
            "odoosync_run_odoo_calls", "Odoo requests recorded by runs, by stream", labels=["stream"]
        )
        for stream, count in snap["odoo_calls_logged"].items():
            calls.add_metric([stream], count)
        yield calls
        retries = CounterMetricFamily(
            "odoosync_run_odoo_retries", "Odoo retries recorded by runs, by stream", labels=["stream"]
        )
        for stream, count in snap["odoo_retries_logged"].items():
            retries.add_metric([stream], count)
        yield retries
        since = GaugeMetricFamily(
            "odoosync_seconds_since_last_success", "Seconds since the stream's last successful run", labels=["stream"]
        )
        for stream, seconds in snap["seconds_since_last_success"].items():
            since.add_metric([stream], seconds)
        yield since
        running = GaugeMetricFamily(
            "odoosync_running_seconds", "Age of the oldest still-running run, by stream", labels=["stream"]
        )
        for stream, seconds in snap["oldest_running_seconds"].items():
            running.add_metric([stream], seconds)
        yield running
        depth = GaugeMetricFamily("odoosync_outbox_items", "Outbox items by status", labels=["status"])
        for status, count in snap["outbox"].items():
            depth.add_metric([status], count)
        yield depth
        yield GaugeMetricFamily(
            "odoosync_outbox_oldest_queued_seconds",
            "Age of the oldest queued or processing outbox item",
            value=snap["outbox_oldest_queued_seconds"],
        )
        checkpoints = GaugeMetricFamily(
            "odoosync_checkpoint_age_seconds", "Seconds since each checkpoint last moved", labels=["key"]
        )
        for key, seconds in snap["checkpoint_age_seconds"].items():
            checkpoints.add_metric([key], seconds)
        yield checkpoints
        yield CounterMetricFamily(
            "odoosync_sla_breaches",
            "SLA breaches escalated (lead_events sla_breach)",
            value=snap["sla_events"].get("sla_breach", 0),
        )
        yield GaugeMetricFamily(
            "odoosync_sla_open_breaches",
            "Leads currently escalated for a breached SLA",
            value=snap["sla_open_breaches"],
        )
        quarantined = GaugeMetricFamily(
            "odoosync_quarantined_records",
            "Odoo records the database refused, quarantined and retried each run",
            labels=["stream"],
        )
        for stream, count in snap["quarantined"].items():
            quarantined.add_metric([stream], count)
        yield quarantined
        drift = GaugeMetricFamily(
            "odoosync_verify_drift",
            "Records the last verify found missing, extra or stale, by stream",
            labels=["stream", "kind"],
        )
        for stream, kinds in snap["verify_drift"].items():
            for kind, count in kinds.items():
                drift.add_metric([stream, kind], count)
        yield drift
        client = snap["odoo_client"]
        if client is not None:
            yield CounterMetricFamily(
                "odoosync_odoo_requests", "Odoo HTTP requests by this process", value=client["requests"]
            )
            yield CounterMetricFamily(
                "odoosync_odoo_retries", "Odoo request retries by this process", value=client["retries"]
            )
            errors = CounterMetricFamily("odoosync_odoo_errors", "Odoo errors by class", labels=["error"])
            for name, count in sorted(client["errors"].items()):
                errors.add_metric([name], count)
            yield errors
            cumulative, buckets = 0, []
            for bound, count in sorted(((float(k), v) for k, v in client["latency_buckets"].items())):
                cumulative += count
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
            if not buckets or buckets[-1][0] != "+Inf":
                buckets.append(("+Inf", cumulative))
            yield HistogramMetricFamily(
                "odoosync_odoo_request_duration_seconds",
                "Odoo request latency",
                buckets=buckets,
                sum_value=client["latency_sum"],
            )


def webhook_queue_metrics(queue: Any | None) -> dict[str, int] | None:
    """This process's webhook queue (``webhook_queue.PullQueue``): depth and counters."""
    if queue is None:
        return None
    return {"depth": queue.pending(), **queue.stats.as_dict()}


class WebhookQueueCollector(Collector):
    """The webhook queue's depth and drops (``queue_of`` returns it once built, else None)."""

    def __init__(self, queue_of: Callable[[], Any | None]) -> None:
        self._queue_of = queue_of

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        snap = webhook_queue_metrics(self._queue_of()) or {"depth": 0, "dropped": 0, "received": 0, "probes": 0}
        yield GaugeMetricFamily("odoosync_webhook_queue_depth", "Webhook pulls waiting or running", value=snap["depth"])
        yield CounterMetricFamily(
            "odoosync_webhook_dropped", "Webhooks dropped: the queue was full", value=snap["dropped"]
        )
        yield CounterMetricFamily("odoosync_webhook_received", "Webhooks received", value=snap["received"])
        yield CounterMetricFamily(
            "odoosync_webhook_probes", "Batched Odoo reads checking webhook targets", value=snap["probes"]
        )


def make_registry(
    store: Store,
    client_stats: Callable[[], StatsSnapshot] | None = None,
    webhook_queue: Callable[[], Any | None] | None = None,
) -> CollectorRegistry:
    """A registry of its own (not the global one): one app, one set of metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store, client_stats))
    if webhook_queue is not None:
        registry.register(WebhookQueueCollector(webhook_queue))
    return registry


def render_prometheus(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition format."""
    return generate_latest(registry)


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # MIN()/MAX() on SQLite return the stored text
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
