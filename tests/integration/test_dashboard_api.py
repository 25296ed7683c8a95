"""The dashboard's HTTP side: the page and its files, their headers, and its two reads."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from odoosync.store.schema import leads
from tests.fixtures.service import READ_TOKEN

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_page_and_its_files_are_served_with_a_strict_policy(api) -> None:
    anonymous = api.client(token=None)
    page = anonymous.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        answer = anonymous.get(f"/static/{name}")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
        # nothing from the internet (SVG's namespace is a name, never fetched)
        text = answer.text.replace("http://www.w3.org/2000/svg", "")
        assert "http://" not in text and "https://" not in text
    assert "innerHTML" not in anonymous.get("/static/app.js").text.replace("never innerHTML", "")
    for missing in ("/static/dashboard.py", "/static/..%2Fdashboard.py", "/static/%2e%2e/app.py", "/static/nope.js"):
        assert anonymous.get(missing).status_code == 404, missing


def test_open_breaches_and_recent_leads(api, store) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "title": "breached",
            "status": "open",
            "deadline": dt.date(2026, 1, 1),
            "sla_escalated_at": now,
            "odoo_id": 1,
            "updated_at": now - dt.timedelta(hours=2),
        },
        {
            "title": "won since",
            "status": "won",
            "deadline": dt.date(2026, 1, 1),
            "sla_escalated_at": now,
            "odoo_id": 2,
            "updated_at": now - dt.timedelta(hours=1),
        },
        {
            "title": "deleted",
            "status": "open",
            "deadline": dt.date(2026, 1, 1),
            "sla_escalated_at": now,
            "odoo_id": 3,
            "deleted_at": now,
            "updated_at": now,
        },
        {"title": "<script>fresh</script>", "status": "open", "odoo_id": 4, "updated_at": now},
    ]
    with store.transaction() as conn:
        for row in rows:
            conn.execute(sa.insert(leads).values(source="odoo", created_at=now, **row))
    assert api.client(token=None).get("/api/dashboard/sla").status_code == 401
    reader = api.client(token=READ_TOKEN)
    sla = reader.get("/api/dashboard/sla").json()
    assert sla["count"] == 1 and [b["title"] for b in sla["breaches"]] == ["breached"]
    recent = reader.get("/api/dashboard/leads", params={"limit": 2}).json()["leads"]
    assert [lead["title"] for lead in recent] == ["<script>fresh</script>", "won since"]
    assert reader.get("/api/dashboard/leads", params={"limit": 0}).status_code == 422
