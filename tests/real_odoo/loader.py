"""Fills a throwaway real Odoo database with CRM data over RPC, the way a user's does.

Idempotent: records it made carry a marker (leads and partners are named ``ORT ...``),
and each run only adds what is missing to reach the requested scale. Batches are large
(hundreds of records per ``create``), so one transaction stamps them all with one
``write_date``, as an import does on a real server.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from odoosync.odoo.client import OdooClient

__all__ = ["CrmData", "top_up", "MARK"]

MARK = "ORT"
_LEADS, _PARTNERS, _MESSAGES, _ACTIVITIES = 2764, 3000, 38472, 3000
_BATCH = 500


@dataclass(frozen=True)
class CrmData:
    """What the suite's tests need to know about the loaded database."""

    lead_ids: tuple[int, ...]
    partner_ids: tuple[int, ...]
    stages: dict[int, str]
    won_stages: tuple[int, ...]
    note_subtype: int
    lead_model_id: int
    activity_types: dict[int, str]
    major: int


def _xmlid(client: OdooClient, module: str, name: str) -> int:
    rows = client.search_read("ir.model.data", [("module", "=", module), ("name", "=", name)], ["res_id"], limit=1)
    return int(rows[0]["res_id"])


def _ours(client: OdooClient, model: str, kind: str) -> list[int]:
    """The loader's own records (not those the tests push: their names differ)."""
    return client.search(model, [("name", "=like", f"{MARK} {kind} %")], order="id", active_test=False)


def top_up(client: OdooClient, scale: float) -> CrmData:
    rng = random.Random(7)
    major = int(str(client.version().get("server_serie", "17.0")).split(".")[0])
    stage_rows = client.search_read("crm.stage", [], ["name", "is_won"], order="sequence, id")
    stages = {int(s["id"]): str(s["name"]) for s in stage_rows}
    won = tuple(int(s["id"]) for s in stage_rows if s.get("is_won"))
    open_stages = [i for i in stages if i not in won]
    lost_reasons = client.search("crm.lost.reason", [])
    note = _xmlid(client, "mail", "mt_note")
    (lead_model,) = client.search("ir.model", [("model", "=", "crm.lead")])
    types = {int(t["id"]): str(t["name"]) for t in client.search_read("mail.activity.type", [], ["name"])}
    uid = client.uid

    partners = _ours(client, "res.partner", "partner")
    want = max(10, round(_PARTNERS * scale))
    while len(partners) < want:
        batch = [
            {
                "name": f"{MARK} partner {len(partners) + i}",
                "is_company": (len(partners) + i) % 4 == 0,
                "email": f"p{len(partners) + i}@ort.example",
            }
            for i in range(min(_BATCH, want - len(partners)))
        ]
        partners += client.create("res.partner", batch)

    leads = _ours(client, "crm.lead", "lead")
    want = max(10, round(_LEADS * scale))
    while len(leads) < want:
        batch = []
        for i in range(min(_BATCH, want - len(leads))):
            n = len(leads) + i
            batch.append(
                {
                    "name": f"{MARK} lead {n}",
                    "partner_id": rng.choice(partners),
                    "type": "opportunity",
                    "expected_revenue": rng.randrange(0, 50_000),
                    "stage_id": rng.choice(won + tuple(open_stages) * 8),
                    "user_id": uid,
                    "email_from": f"l{n}@ort.example",
                    "priority": rng.choice("0123"),
                }
            )
        made = client.create("crm.lead", batch)
        leads += made
        lost = [i for i in made if rng.random() < 0.1]
        if lost and lost_reasons:
            client.write("crm.lead", lost, {"active": False, "lost_reason_id": lost_reasons[0]})

    on_ours = [("model", "=", "crm.lead"), ("res_id", "in", leads), ("body", "like", f"{MARK} note")]
    have = client.search_count("mail.message", on_ours)
    want = round(_MESSAGES * scale)
    while have < want:
        batch = [
            {
                "model": "crm.lead",
                "res_id": rng.choice(leads),
                "message_type": "comment",
                "subtype_id": note,
                "body": f"<p>{MARK} note {have + i}: <b>called</b> the customer &amp; sent a quote</p>",
            }
            for i in range(min(_BATCH, want - have))
        ]
        client.create("mail.message", batch)
        have += len(batch)

    activities = client.search_count("mail.activity", [("res_model", "=", "crm.lead"), ("res_id", "in", leads)])
    want = round(_ACTIVITIES * scale)
    while activities < want:
        batch = [
            {
                "res_model_id": lead_model,
                "res_id": rng.choice(leads),
                "activity_type_id": rng.choice(list(types)),
                "summary": f"{MARK} follow up {activities + i}",
                "date_deadline": f"2030-01-{1 + (activities + i) % 28:02d}",
                "user_id": uid,
            }
            for i in range(min(_BATCH, want - activities))
        ]
        client.create("mail.activity", batch)
        activities += len(batch)

    return CrmData(tuple(leads), tuple(partners), stages, won, note, lead_model, types, major)


def first(client: OdooClient, model: str, domain: list[Any]) -> int:
    """The lowest id matching ``domain`` (archived included)."""
    (found,) = client.search(model, domain, limit=1, order="id", active_test=False)
    return int(found)
