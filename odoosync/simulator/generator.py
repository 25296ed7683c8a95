"""Deterministic CRM data for the simulator, at the seed documents' production scale.

``generate(database, scale=1.0, seed=0)`` fills an empty ``Database``: the base records
every Odoo 17 CRM has (two companies, the admin user and salespeople, message subtypes,
activity types, stages, teams, tags, lost reasons, their external ids), then at
``scale = 1.0``: 2,764 leads (open in every stage, won, and archived lost leads with a
lost reason), ~3,000 partners (companies and their contacts), 38,472 chatter messages
(notes, comments, incoming/outgoing emails, stage-change tracking) with HTML bodies, ~3,000
activities of every type (some done and archived), and exactly 384 leads without any
message. Counts scale linearly. The same ``(scale, seed)`` always gives the same data.

Besides those, about ``hidden_messages`` (default 1%) of the chatter are notifications
addressed to another user (``user_notification``), which Odoo hides from the sync user
*after* SQL's LIMIT: pages of 500 come back a few rows short while thousands follow, as
on real servers. They are not counted in ``Counts.messages`` (what the sync user sees).

Rows are written straight into the tables (not through ``Model.create``) so factor 10
stays fast; bodies come from a per-seed pool of shared strings to keep memory down.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from odoosync.simulator.clock import format_datetime
from odoosync.simulator.records import ADMIN_UID, SUPERUSER_UID, Database
from odoosync.simulator.tables import Table

__all__ = ["generate", "seed_base", "expected_counts", "Counts", "EPOCH"]

EPOCH = datetime(2025, 6, 30, 12, 0, 0)
"""Generated history ends here (deterministic, independent of the wall clock)."""

LEADS = 2764
PARTNERS = 3000
MESSAGES = 38472
ACTIVITIES = 3000
LEADS_WITHOUT_MESSAGES = 384
HIDDEN_MESSAGES = 0.01
"""Share of extra messages the sync user may not read (another user's notifications)."""


@dataclass(frozen=True)
class Counts:
    leads: int
    partners: int
    messages: int
    activities: int
    leads_without_messages: int
    hidden_messages: int = 0  # besides ``messages``: notifications the sync user may not read


def expected_counts(scale: float) -> Counts:
    """How many generated records ``scale`` gives (before any base data)."""
    leads = max(2, round(LEADS * scale))
    without = min(round(LEADS_WITHOUT_MESSAGES * scale), leads - 1)
    messages = max(round(MESSAGES * scale), leads - without)
    return Counts(
        leads=leads,
        partners=max(2, round(PARTNERS * scale)),
        messages=messages,
        activities=max(1, round(ACTIVITIES * scale)),
        leads_without_messages=without,
    )


_FIRST = (
    "Anna",
    "Ben",
    "Chloé",
    "David",
    "Eva",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Mona",
    "Nils",
    "Olga",
    "Paul",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Xena",
    "Yusuf",
    "Zoë",
)
_LAST = (
    "Andersen",
    "Brown",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "López",
    "Müller",
    "Novak",
    "O'Brien",
    "Petit",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Vogel",
    "Weber",
    "Young",
    "Zimmermann",
)
_ORG = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Nakatomi",
    "Oscorp",
    "Gringotts",
    "Monarch",
    "Pied Piper",
    "Dunder",
    "Bluth",
    "Prestige",
)
_ORG_KIND = ("Logistics", "Foods", "Systems", "Consulting", "Energy", "Retail", "Labs", "Media", "Health", "Travel")
_ORG_FORM = ("Ltd", "GmbH", "SA", "Inc.", "BV", "AG", "SARL", "& Co.")
_NEEDS = (
    "office furniture",
    "a CRM rollout",
    "50 laptops",
    "a website redesign",
    "consulting hours",
    "a support contract",
    "training for 12 people",
    "solar panels",
    "a fleet of vans",
    "cloud hosting",
    "a trade-fair stand",
)
_CITIES = ("Brussels", "Lyon", "Berlin", "Porto", "Leeds", "Gdańsk", "Utrecht", "Turin")


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _email(name: str, domain: str) -> str:
    local = "".join(ch for ch in name.lower().replace(" ", ".") if ch.isascii() and (ch.isalnum() or ch == "."))
    return f"{local or 'info'}@{domain}"


def _stamp(moment: datetime) -> str:
    return format_datetime(moment)


class _Writer:
    """Inserts rows directly, with Odoo's log-access fields filled in."""

    def __init__(self, database: Database):
        self.database = database

    def add(self, model: str, values: dict[str, Any], at: datetime, uid: int = ADMIN_UID) -> int:
        stamp = _stamp(at)
        table: Table = self.database.tables[model]
        fields = table.spec.fields  # the played version's: e.g. no keep_done on 16 or 19
        row = {key: value for key, value in values.items() if value is not None and value != [] and key in fields}
        row.update(create_date=stamp, write_date=stamp, create_uid=uid, write_uid=uid)
        return table.insert(row)

    def xmlid(self, module: str, name: str, model: str, res_id: int, at: datetime) -> None:
        self.add(
            "ir.model.data",
            {
                "module": module,
                "name": name,
                "model": model,
                "res_id": res_id,
                "complete_name": f"{module}.{name}",
                "noupdate": True,
            },
            at,
            SUPERUSER_UID,
        )


_SUBTYPES = (
    ("mail", "mt_comment", "Discussions", False, None, 0),
    ("mail", "mt_note", "Note", True, None, 100),
    ("mail", "mt_activities", "Activities", True, None, 90),
    ("crm", "mt_lead_create", "Opportunity Created", False, "crm.lead", 1),
    ("crm", "mt_lead_stage", "Stage Changed", False, "crm.lead", 2),
    ("crm", "mt_lead_won", "Opportunity Won", False, "crm.lead", 3),
    ("crm", "mt_lead_lost", "Opportunity Lost", False, "crm.lead", 4),
    ("crm", "mt_lead_restored", "Opportunity Restored", False, "crm.lead", 5),
)
_ACTIVITY_TYPES = (  # module, xml name, name, category, icon, keep_done
    ("mail", "mail_activity_data_email", "Email", "default", "fa-envelope", False),
    ("mail", "mail_activity_data_call", "Call", "phonecall", "fa-phone", False),
    ("mail", "mail_activity_data_meeting", "Meeting", "meeting", "fa-users", False),
    ("mail", "mail_activity_data_todo", "To-Do", "default", "fa-check", False),
    ("__custom__", "activity_type_follow_up", "Follow-up", "default", "fa-repeat", True),
)
_STAGES = (
    ("stage_lead1", "New", 1, False),
    ("stage_lead2", "Qualified", 2, False),
    ("stage_lead3", "Proposition", 3, False),
    ("stage_lead4", "Won", 70, True),
)
_TAGS = ("Product", "Software", "Services", "Information", "Design", "Training", "Consulting", "Other")
_LOST = (
    ("lost_reason_1", "Too expensive"),
    ("lost_reason_2", "We don't have people/skills"),
    ("lost_reason_3", "Not enough stock"),
    ("lost_reason_4", "No response"),
    ("lost_reason_5", "Chose a competitor"),
)
_TRACKED = (
    ("stage_id", "Stage", "many2one"),
    ("user_id", "Salesperson", "many2one"),
    ("team_id", "Sales Team", "many2one"),
    ("active", "Active", "boolean"),
    ("expected_revenue", "Expected Revenue", "monetary"),
    ("partner_id", "Customer", "many2one"),
    ("phone", "Phone", "char"),
    ("lost_reason_id", "Lost Reason", "many2one"),
)


@dataclass
class Base:
    """Ids of the base records the generated data points at."""

    companies: list[int]
    salespeople: dict[int, list[int]]  # company id → user ids
    teams: dict[int, list[int]]
    stages: list[int]
    won_stage: int
    tags: list[int]
    lost_reasons: list[int]
    subtypes: dict[str, int]
    activity_types: list[int]
    user_partner: dict[int, int]
    tracked_fields: dict[str, int]  # crm.lead field name → ir.model.fields id


def seed_base(database: Database) -> Base:
    """The records every simulated Odoo has, with their external ids (deterministic)."""
    w = _Writer(database)
    at = EPOCH - timedelta(days=800)
    for model in (
        "res.partner",
        "crm.lead",
        "crm.stage",
        "crm.team",
        "res.users",
        "res.company",
        "mail.message",
        "mail.activity",
    ):
        w.add("ir.model", {"name": database.tables[model].spec.description, "model": model}, at, SUPERUSER_UID)
    company_partners = [
        w.add(
            "res.partner",
            {
                "name": "Odoosync Demo Ltd",
                "complete_name": "Odoosync Demo Ltd",
                "is_company": True,
                "commercial_company_name": "Odoosync Demo Ltd",
                "email": "info@demo-ltd.example.com",
                "type": "contact",
                "active": True,
            },
            at,
        ),
        w.add(
            "res.partner",
            {
                "name": "Odoosync Demo GmbH",
                "complete_name": "Odoosync Demo GmbH",
                "is_company": True,
                "commercial_company_name": "Odoosync Demo GmbH",
                "email": "info@demo-gmbh.example.com",
                "type": "contact",
                "active": True,
            },
            at,
        ),
    ]
    companies = [
        w.add(
            "res.company",
            {"name": "Odoosync Demo Ltd", "partner_id": company_partners[0], "sequence": 0, "active": True},
            at,
        ),
        w.add(
            "res.company",
            {"name": "Odoosync Demo GmbH", "partner_id": company_partners[1], "sequence": 10, "active": True},
            at,
        ),
    ]
    for partner_id, company_id in zip(company_partners, companies, strict=True):
        database.tables["res.partner"].rows[partner_id].update(company_id=company_id, commercial_partner_id=partner_id)
    w.xmlid("base", "main_company", "res.company", companies[0], at)
    users: list[tuple[str, str, int]] = [
        ("OdooBot", "__system__", companies[0]),
        ("Mitchell Admin", "admin", companies[0]),
        ("Marc Demo", "demo", companies[0]),
        ("Sofia Sales", "sofia", companies[0]),
        ("Ravi Patel", "ravi", companies[0]),
        ("Jana Keller", "jana", companies[1]),
        ("Lukas Brandt", "lukas", companies[1]),
    ]
    user_partner: dict[int, int] = {}
    salespeople: dict[int, list[int]] = {company: [] for company in companies}
    for name, login, company_id in users:
        partner = w.add(
            "res.partner",
            {
                "name": name,
                "complete_name": name,
                "email": f"{login}@example.com",
                "type": "contact",
                "active": login != "__system__",
            },
            at,
        )
        database.tables["res.partner"].rows[partner]["commercial_partner_id"] = partner
        uid = w.add(
            "res.users",
            {
                "name": name,
                "login": login,
                "email": f"{login}@example.com",
                "partner_id": partner,
                "company_id": company_id,
                "company_ids": list(companies) if login == "admin" else [company_id],
                "lang": "en_US",
                "tz": "Europe/Brussels",
                "active": login != "__system__",
            },
            at,
            SUPERUSER_UID,
        )
        user_partner[uid] = partner
        if uid >= ADMIN_UID:
            salespeople[company_id].append(uid)
    assert ADMIN_UID in user_partner
    w.xmlid("base", "user_admin", "res.users", ADMIN_UID, at)
    w.xmlid("base", "partner_admin", "res.partner", user_partner[ADMIN_UID], at)
    subtypes = {}
    for module, name, label, internal, res_model, sequence in _SUBTYPES:
        subtypes[f"{module}.{name}"] = w.add(
            "mail.message.subtype",
            {
                "name": label,
                "internal": internal,
                "res_model": res_model,
                "sequence": sequence,
                "default": res_model is None,
                "hidden": False,
            },
            at,
            SUPERUSER_UID,
        )
        w.xmlid(module, name, "mail.message.subtype", subtypes[f"{module}.{name}"], at)
    activity_types = []
    for sequence, (module, name, label, category, icon, keep_done) in enumerate(_ACTIVITY_TYPES):
        type_id = w.add(
            "mail.activity.type",
            {
                "name": label,
                "category": category,
                "icon": icon,
                "keep_done": keep_done,
                "sequence": sequence * 3,
                "active": True,
                "delay_count": 0,
            },
            at,
            SUPERUSER_UID,
        )
        activity_types.append(type_id)
        w.xmlid(module, name, "mail.activity.type", type_id, at)
    stages = []
    for name, label, sequence, is_won in _STAGES:
        stage_id = w.add("crm.stage", {"name": label, "sequence": sequence, "is_won": is_won, "fold": False}, at)
        stages.append(stage_id)
        w.xmlid("crm", name, "crm.stage", stage_id, at)
    teams = {
        companies[0]: [
            w.add(
                "crm.team",
                {
                    "name": "Sales",
                    "company_id": companies[0],
                    "user_id": ADMIN_UID,
                    "member_ids": salespeople[companies[0]],
                    "sequence": 10,
                    "active": True,
                },
                at,
            ),
            w.add(
                "crm.team",
                {
                    "name": "Website",
                    "company_id": companies[0],
                    "sequence": 20,
                    "member_ids": salespeople[companies[0]][1:],
                    "active": True,
                },
                at,
            ),
        ],
        companies[1]: [
            w.add(
                "crm.team",
                {
                    "name": "Vertrieb",
                    "company_id": companies[1],
                    "sequence": 10,
                    "member_ids": salespeople[companies[1]],
                    "active": True,
                },
                at,
            )
        ],
    }
    w.xmlid("sales_team", "team_sales_department", "crm.team", teams[companies[0]][0], at)
    tags = [w.add("crm.tag", {"name": name, "color": index + 1}, at) for index, name in enumerate(_TAGS)]
    lost_reasons = []
    for name, label in _LOST:
        reason = w.add("crm.lost.reason", {"name": label, "active": True}, at)
        lost_reasons.append(reason)
        w.xmlid("crm", name, "crm.lost.reason", reason, at)
    fields = {
        name: w.add(
            "ir.model.fields",
            {"name": name, "model": "crm.lead", "field_description": label, "ttype": ttype},
            at,
            SUPERUSER_UID,
        )
        for name, label, ttype in _TRACKED
    }
    return Base(
        companies=companies,
        salespeople=salespeople,
        teams=teams,
        stages=stages[:3],
        won_stage=stages[3],
        tags=tags,
        lost_reasons=lost_reasons,
        subtypes=subtypes,
        activity_types=activity_types,
        user_partner=user_partner,
        tracked_fields=fields,
    )


def _body_pool(rng: random.Random, size: int = 499) -> list[str]:
    """HTML bodies with paragraphs, lists, links and entities (shared between messages)."""
    pool = []
    for index in range(size):
        who = _person(rng)
        need = rng.choice(_NEEDS)
        kind = index % 5
        if kind == 0:
            body = (
                f"<p>Hello {who},</p><p>Thanks for your call about {need}. As agreed:</p>"
                f"<ul><li>Quote by Friday</li><li>Demo on site &amp; Q&amp;A</li>"
                f"<li>Budget ≈ {rng.randint(2, 90)}&nbsp;000&nbsp;€</li></ul>"
                f"<p>Best regards,<br>{_person(rng)}</p>"
            )
        elif kind == 1:
            body = (
                f"<p>Customer asked for {need}; see "
                f'<a href="https://example.com/specs/{index}">the spec</a>.</p>'
                f"<p>Decision maker: <b>{who}</b> &lt;CFO&gt;.</p>"
            )
        elif kind == 2:
            body = (
                f"<div><p>Internal note: price &quot;too high&quot; for {need}.</p>"
                f"<ol><li>Check discount</li><li>Ask {who}</li></ol></div>"
            )
        elif kind == 3:
            body = f"<p>Meeting notes &mdash; {need}</p><p>Next step: follow-up call with {who}.</p>"
        else:
            body = f"<p>Re: {need}</p><blockquote>Could you send the contract? &#8212; {who}</blockquote>"
        pool.append(body)
    return pool


def generate(
    database: Database, scale: float = 1.0, seed: int = 0, *, hidden_messages: float = HIDDEN_MESSAGES
) -> Counts:
    """Fill an empty database with base records and ``scale`` × the seed volume."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if not 0 <= hidden_messages < 1:
        raise ValueError(f"hidden_messages must be a share in [0, 1), got {hidden_messages}")
    if database.tables["res.users"].rows:
        raise ValueError("generate() needs an empty simulator database")
    counts = expected_counts(scale)
    rng = random.Random(seed)
    base = seed_base(database)
    w = _Writer(database)
    span = 730 * 24 * 3600
    start = EPOCH - timedelta(seconds=span)

    def moment() -> datetime:
        return start + timedelta(seconds=rng.randrange(span))

    # partners: companies with contacts
    partners: dict[int, list[tuple[int, str, str, int | None]]] = {c: [] for c in base.companies}
    made = 0
    while made < counts.partners:
        company_id = base.companies[0] if rng.random() < 0.85 else base.companies[1]
        org = f"{rng.choice(_ORG)} {rng.choice(_ORG_KIND)} {rng.choice(_ORG_FORM)}"
        domain = org.split()[0].lower().replace("&", "") + f"{made}.example.com"
        created = moment()
        org_id = w.add(
            "res.partner",
            {
                "name": org,
                "complete_name": org,
                "commercial_company_name": org,
                "is_company": True,
                "email": f"info@{domain}",
                "phone": f"+32 2 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                "company_id": company_id,
                "type": "contact",
                "city": rng.choice(_CITIES),
                "website": f"https://{domain}",
                "active": rng.random() > 0.02,
            },
            created,
        )
        database.tables["res.partner"].rows[org_id]["commercial_partner_id"] = org_id
        made += 1
        partners[company_id].append((org_id, org, f"info@{domain}", None))
        for _ in range(rng.randint(0, 3)):
            if made >= counts.partners:
                break
            name = _person(rng)
            contact_id = w.add(
                "res.partner",
                {
                    "name": name,
                    "complete_name": f"{org}, {name}",
                    "commercial_company_name": org,
                    "parent_id": org_id,
                    "commercial_partner_id": org_id,
                    "is_company": False,
                    "email": _email(name, domain),
                    "phone": f"+32 4{rng.randint(70, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                    "company_id": company_id,
                    "type": "contact",
                    "function": rng.choice(("CEO", "Buyer", "CFO", "IT Manager", None)),
                    "active": True,
                },
                created + timedelta(minutes=rng.randint(1, 600)),
            )
            made += 1
            partners[company_id].append((contact_id, name, _email(name, domain), org_id))

    # leads
    stage_names = {sid: database.tables["crm.stage"].rows[sid]["name"] for sid in [*base.stages, base.won_stage]}
    leads: list[tuple[int, datetime, int, int]] = []  # id, created, company, user
    for _ in range(counts.leads):
        company_id = base.companies[0] if rng.random() < 0.85 else base.companies[1]
        pool = partners[company_id] or partners[base.companies[0]]
        partner_id, partner_name, email, parent_id = rng.choice(pool)
        created = moment()
        roll = rng.random()
        status = "lost" if roll < 0.11 else "won" if roll < 0.23 else "open"
        stage = base.won_stage if status == "won" else rng.choice(base.stages)
        user_id = rng.choice(base.salespeople[company_id])
        need = rng.choice(_NEEDS)
        written = min(created + timedelta(days=rng.randint(0, 120), seconds=rng.randint(0, 86399)), EPOCH)
        values = {
            "name": f"{partner_name}: {need}" if rng.random() < 0.7 else f"{need.capitalize()} for {partner_name}",
            "partner_id": partner_id if rng.random() < 0.9 else None,
            "partner_name": database.tables["res.partner"].rows[parent_id]["name"] if parent_id else partner_name,
            "contact_name": partner_name if parent_id else None,
            "email_from": email,
            "phone": f"+32 470 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
            if rng.random() < 0.8
            else None,
            "stage_id": stage,
            "user_id": user_id,
            "team_id": rng.choice(base.teams[company_id]),
            "company_id": company_id,
            "tag_ids": sorted(rng.sample(base.tags, rng.randint(0, 3))),
            "expected_revenue": float(rng.randrange(500, 250000, 250)),
            "probability": 100.0
            if status == "won"
            else 0.0
            if status == "lost"
            else float(rng.choice((10, 20, 30, 50, 70, 90))),
            "priority": rng.choice(("0", "0", "1", "1", "2", "3")),
            "date_deadline": (created + timedelta(days=rng.randint(7, 180))).date().isoformat()
            if rng.random() < 0.7
            else None,
            "lost_reason_id": rng.choice(base.lost_reasons) if status == "lost" else None,
            "active": status != "lost",
            "type": "opportunity" if rng.random() < 0.8 else "lead",
            "date_open": _stamp(created),
            "date_last_stage_update": _stamp(written),
            "date_closed": _stamp(written) if status != "open" else None,
            "description": f"<p>Interested in {need}.</p>" if rng.random() < 0.5 else None,
        }
        lead_id = w.add("crm.lead", values, written, user_id)
        database.tables["crm.lead"].rows[lead_id]["create_date"] = _stamp(created)
        leads.append((lead_id, created, company_id, user_id))

    # messages: every lead but `leads_without_messages` gets at least one
    order = list(range(len(leads)))
    rng.shuffle(order)
    silent = set(order[: counts.leads_without_messages])
    talking = [leads[i] for i in range(len(leads)) if i not in silent]
    per_lead = [1] * len(talking)
    for _ in range(counts.messages - len(talking)):
        per_lead[rng.randrange(len(talking))] += 1
    bodies = _body_pool(rng)
    messages = database.tables["mail.message"]
    trackings = database.tables["mail.tracking.value"]
    lead_rows = database.tables["crm.lead"].rows
    lost_reasons = {rid: database.tables["crm.lost.reason"].rows[rid]["name"] for rid in base.lost_reasons}
    hiding = random.Random(f"hidden-{seed}")  # its own stream: the visible data stays as without
    others = sorted(p for uid, p in base.user_partner.items() if uid != ADMIN_UID)
    hidden = 0
    for (lead_id, created, _company_id, user_id), count in zip(talking, per_lead, strict=True):
        lead = lead_rows[lead_id]
        record_name = lead["name"]
        author = base.user_partner.get(user_id, base.user_partner[ADMIN_UID])
        kinds = [
            "created",
            *rng.choices(
                ("note", "comment", "email", "email_outgoing", "stage"), weights=(30, 15, 25, 15, 15), k=count - 1
            ),
        ]
        if not lead.get("active", True) and count > 1:
            kinds[-1] = "lost"
        last_stage_change = max((i for i, kind in enumerate(kinds) if kind == "stage"), default=None)
        when = created
        stage_now = base.stages[0]
        last_tracking = None
        for position, kind in enumerate(kinds):
            when = min(when + timedelta(hours=rng.randint(1, 240), seconds=rng.randint(0, 3599)), EPOCH)
            stamp = _stamp(when)
            if others and hiding.random() < hidden_messages:
                messages.insert(
                    {
                        "model": "crm.lead",
                        "res_id": lead_id,
                        "record_name": record_name,
                        "date": stamp,
                        "create_date": stamp,
                        "write_date": stamp,
                        "create_uid": SUPERUSER_UID,
                        "write_uid": SUPERUSER_UID,
                        "message_type": "user_notification",
                        "subtype_id": base.subtypes["mail.mt_note"],
                        "body": f"<p>You have been assigned to {record_name}.</p>",
                        "author_id": hiding.choice(others),
                        "partner_ids": [hiding.choice(others)],
                    }
                )
                hidden += 1
            row: dict[str, Any] = {
                "model": "crm.lead",
                "res_id": lead_id,
                "record_name": record_name,
                "date": stamp,
                "create_date": stamp,
                "write_date": stamp,
                "create_uid": user_id,
                "write_uid": user_id,
            }
            if kind == "stage":
                if position == last_stage_change:
                    new_stage = lead["stage_id"]
                else:
                    new_stage = rng.choice([s for s in base.stages if s != stage_now])
                if new_stage == stage_now:
                    kind = "note"
            if kind == "created":
                row.update(
                    message_type="notification",
                    subtype_id=base.subtypes["crm.mt_lead_create"],
                    body="",
                    author_id=author,
                )
            elif kind == "note":
                row.update(
                    message_type="comment",
                    subtype_id=base.subtypes["mail.mt_note"],
                    is_internal=True,
                    body=rng.choice(bodies),
                    author_id=author,
                )
            elif kind == "comment":
                row.update(
                    message_type="comment",
                    subtype_id=base.subtypes["mail.mt_comment"],
                    body=rng.choice(bodies),
                    author_id=author,
                )
            elif kind == "email":
                row.update(
                    message_type="email",
                    subtype_id=base.subtypes["mail.mt_comment"],
                    body=rng.choice(bodies),
                    email_from=f'"{_person(rng)}" <{lead["email_from"]}>',
                    subject=f"Re: {record_name}",
                )
                if lead.get("partner_id") and rng.random() < 0.8:
                    row["author_id"] = lead["partner_id"]
            elif kind == "email_outgoing":
                row.update(
                    message_type="email_outgoing",
                    subtype_id=base.subtypes["mail.mt_comment"],
                    body=rng.choice(bodies),
                    author_id=author,
                    subject=record_name,
                    email_from=database.tables["res.users"].rows[user_id]["email"],
                )
            elif kind == "stage":
                subtype = "crm.mt_lead_won" if new_stage == base.won_stage else "crm.mt_lead_stage"
                row.update(message_type="notification", subtype_id=base.subtypes[subtype], body="", author_id=author)
                message_id = messages.insert(row)
                trackings.insert(
                    {
                        "field_id": base.tracked_fields["stage_id"],
                        "mail_message_id": message_id,
                        "old_value_integer": stage_now,
                        "new_value_integer": new_stage,
                        "old_value_char": stage_names[stage_now],
                        "new_value_char": stage_names[new_stage],
                        "create_date": stamp,
                        "write_date": stamp,
                        "create_uid": user_id,
                        "write_uid": user_id,
                    }
                )
                stage_now = new_stage
                last_tracking = stamp
                continue
            else:  # lost: archived with a reason, as action_set_lost tracks it
                row.update(
                    message_type="notification", subtype_id=base.subtypes["crm.mt_lead_lost"], body="", author_id=author
                )
                message_id = messages.insert(row)
                reason = lead["lost_reason_id"]
                for tracked in (
                    {"field_id": base.tracked_fields["active"], "old_value_integer": 1, "new_value_integer": 0},
                    {
                        "field_id": base.tracked_fields["lost_reason_id"],
                        "old_value_integer": 0,
                        "new_value_integer": reason,
                        "old_value_char": "",
                        "new_value_char": lost_reasons[reason],
                    },
                ):
                    trackings.insert(
                        tracked
                        | {
                            "mail_message_id": message_id,
                            "create_date": stamp,
                            "write_date": stamp,
                            "create_uid": user_id,
                            "write_uid": user_id,
                        }
                    )
                last_tracking = stamp
                continue
            messages.insert(row)
        if last_tracking and last_tracking > lead["write_date"]:
            lead["write_date"] = last_tracking
            if kinds[-1] == "lost" or lead.get("date_closed"):
                lead["date_closed"] = last_tracking

    # activities
    today = EPOCH.date()
    type_rows = database.tables["mail.activity.type"].rows
    lead_model_id = min(database.tables["ir.model"].index("model")["crm.lead"])
    for _ in range(counts.activities):
        lead_id, created, company_id, user_id = rng.choice(leads)
        type_id = rng.choice(base.activity_types)
        type_row = type_rows[type_id]
        done = type_row.get("keep_done") and rng.random() < 0.4
        deadline = today + timedelta(days=rng.randint(-60, 90))
        written = min(created + timedelta(days=rng.randint(0, 60)), EPOCH)
        w.add(
            "mail.activity",
            {
                "res_model": "crm.lead",
                "res_model_id": lead_model_id,
                "res_id": lead_id,
                "res_name": lead_rows[lead_id]["name"],
                "activity_type_id": type_id,
                "summary": f"{type_row['name']}: {rng.choice(_NEEDS)}" if rng.random() < 0.8 else None,
                "note": f"<p>Prepare {rng.choice(_NEEDS)} &amp; call back.</p>" if rng.random() < 0.5 else None,
                "date_deadline": deadline.isoformat(),
                "date_done": deadline.isoformat() if done else None,
                "user_id": user_id,
                "active": not done,
            },
            written,
            user_id,
        )
    return dataclasses.replace(counts, hidden_messages=hidden)
