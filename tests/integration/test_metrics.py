"""Prometheus metrics after real work: Odoo request counters and latency histogram, outbox
depth and age, checkpoint ages, SLA breaches; the text parses as Prometheus exposition."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from odoosync.store.schema import leads, odoo_outbox
from tests.fixtures.service import ADMIN_TOKEN, READ_TOKEN


def _families(server) -> dict:
    text = server.client(READ_TOKEN).get("/metrics").text
    return {family.name: family for family in text_string_to_metric_families(text)}


def _value(family, suffix: str = "", **labels) -> float:
    for sample in family.samples:
        if sample.name == family.name + suffix and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    raise AssertionError(f"no sample {family.name}{suffix} {labels}")


def test_metrics_after_a_run(service):
    store = service.context.store
    job = service.client(ADMIN_TOKEN).post("/api/jobs/reference")
    assert job.status_code == 202
    service.context.jobs.join(60)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    with store.transaction() as conn:
        conn.execute(sa.insert(leads).values(title="late", deadline=dt.date(2020, 1, 1), status="open", odoo_id=999999))
        conn.execute(
            sa.insert(odoo_outbox).values(
                model="crm.lead", operation="write", status="queued", created_at=old, next_run_at=old, last_error=None
            )
        )
        conn.execute(
            sa.insert(odoo_outbox).values(
                model="crm.lead", operation="write", status="failed", next_run_at=old, last_error="x"
            )
        )
    service.client(ADMIN_TOKEN).post("/api/sla/check")

    families = _families(service)

    requests = _value(families["odoosync_odoo_requests"], "_total")
    assert requests > 0
    latency = families["odoosync_odoo_request_duration_seconds"]
    buckets = [s for s in latency.samples if s.name.endswith("_bucket")]
    counts = [s.value for s in buckets]
    assert counts == sorted(counts) and buckets[-1].labels["le"] == "+Inf"
    assert _value(latency, "_count") == counts[-1] == requests
    assert _value(families["odoosync_runs"], "_total", stream="stages", status="ok") == 1
    assert _value(families["odoosync_rows"], "_total", stream="stages", operation="fetched") > 0
    assert _value(families["odoosync_outbox_items"], status="queued") == 1
    assert _value(families["odoosync_outbox_items"], status="failed") == 1
    assert _value(families["odoosync_outbox_oldest_queued_seconds"]) >= 600
    assert _value(families["odoosync_sla_breaches"], "_total") == 1
    assert _value(families["odoosync_sla_open_breaches"]) == 1
    assert _value(families["odoosync_seconds_since_last_success"], stream="stages") >= 0
    assert _value(families["odoosync_checkpoint_age_seconds"], key="pull:default:stages") >= 0


def test_alert_rules_use_only_metrics_we_export(migrated_sqlite_url):
    import re
    from pathlib import Path

    import yaml
    from prometheus_client import generate_latest

    from odoosync.odoo.stats import ClientStats
    from odoosync.service.metrics import make_registry
    from odoosync.store import Store

    rules = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "alerts.yml").read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    assert len(exprs) >= 4
    with Store(migrated_sqlite_url) as store:
        text = generate_latest(make_registry(store, ClientStats().snapshot)).decode()
    exported = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    exported |= {f"{name}_total" for name in exported} | {f"{name}_bucket" for name in exported}
    used = {name for expr in exprs for name in re.findall(r"\bodoosync_[a-z_]+", expr)}
    assert used and used <= exported, used - exported
