"""``res.partner`` → ``odoo_partners`` (the mirror), ``customers`` and ``contacts``.

Odoo keeps companies and people in one model. The app wants customers (companies) and
their contacts (people), so after the mirror upsert of a page:

* a company (``is_company``) becomes a ``customers`` row bound by ``odoo_partner_id``;
* a person with a commercial entity other than itself (``commercial_partner_id``: the
  nearest company above it, else the top of its parents; ``parent_id`` on servers that
  do not expose it) becomes a ``contacts`` row of that entity's customer (created in the
  same batch when missing), whether the entity is a company or a person;
* a person with no company becomes a customer only when a lead names it (see
  ``streams.leads``), so internal users' partners do not flood the customers list.

Values flow one way: customers and contacts take name, email and phone from Odoo; other
app columns are never touched, and nothing is deleted (a vanished partner only gets
``odoo_partners.deleted_at``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from odoosync.store.filters import id_in
from odoosync.store.schema import contacts, customers, odoo_partners
from odoosync.streams.base import PageContext, Stream, many2one_id, many2one_name
from odoosync.streams.customers import CustomersMap, CustomerWant
from odoosync.streams.mirror import MirrorTarget
from odoosync.streams.reference import mirror_row

__all__ = [
    "PARTNER_FIELDS",
    "PartnerInfo",
    "map_partners",
    "contact_row",
    "PartnersTarget",
    "partners_stream",
]

PARTNER_FIELDS = ("name", "email", "phone", "is_company", "parent_id", "active", "type")
PARTNER_OPTIONAL_FIELDS = (
    "commercial_partner_id",
    "company_name",
    "mobile",
    "function",
    "street",
    "city",
    "zip",
    "country_id",
    "website",
    "ref",
    "company_id",
    "user_id",
)


@dataclass(frozen=True)
class PartnerInfo:
    """What the lead and contact mappings need to know about one partner."""

    id: int
    name: str | None
    email: str | None = None
    phone: str | None = None
    is_company: bool = False
    company_id: int | None = None  # the commercial entity's partner id, when not itself
    company_name: str | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> PartnerInfo:
        """From a normalised ``res.partner`` record or its stored ``raw`` JSON."""
        pid = int(record["id"])
        is_company = bool(record.get("is_company"))
        company = record.get("commercial_partner_id") or (None if is_company else record.get("parent_id"))
        company_id = many2one_id(company)
        if company_id == pid:
            company_id = None
        return cls(
            id=pid,
            name=record.get("name") or None,
            email=record.get("email") or None,
            phone=record.get("phone") or record.get("mobile") or None,
            is_company=is_company,
            company_id=company_id,
            company_name=many2one_name(company) if company_id is not None else None,
        )

    def customer_want(self) -> CustomerWant | None:
        """The customer this partner belongs to: its company, or itself."""
        if self.company_id is not None:
            return CustomerWant(name=_company_name(self.company_name), odoo_partner_id=self.company_id)
        if self.name is None:
            return None
        return CustomerWant(name=self.name, odoo_partner_id=self.id, email=self.email, phone=self.phone)


def _company_name(display: str | None) -> str:
    return display or "(unnamed company)"


def map_partners(records: Sequence[Mapping[str, Any]], lookups: Any = None) -> list[dict[str, Any]]:
    """Partners → ``odoo_partners`` rows (pure)."""
    return [
        mirror_row(r, email=r.get("email"), phone=r.get("phone"), is_company=bool(r.get("is_company"))) for r in records
    ]


def contact_row(info: PartnerInfo, customer_id: int | None) -> dict[str, Any]:
    """A person → its ``contacts`` row (pure)."""
    return {
        "customer_id": customer_id,
        "name": info.name,
        "email": info.email,
        "phone": info.phone,
        "odoo_partner_id": info.id,
    }


class PartnersTarget(MirrorTarget):
    """The mirror upsert, then customers for companies and contacts for their people."""

    def __init__(self) -> None:
        super().__init__(odoo_partners, map_partners)

    def begin_run(self, ctx: PageContext) -> None:
        with ctx.store.connect() as conn:
            ctx.cache["customers"] = CustomersMap(ctx.company_id, ctx.backend).load(conn)

    def after_write(
        self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]], rows: list[dict[str, Any]]
    ) -> None:
        infos = [PartnerInfo.from_record(r) for r in records]
        companies = [i for i in infos if i.is_company and i.company_id is None and i.name]
        people = [i for i in infos if not i.is_company and i.company_id is not None]
        customers_map: CustomersMap = ctx.cache["customers"]
        wanted = [i.customer_want() for i in [*companies, *people]]
        ids = customers_map.ensure(conn, [w for w in wanted if w is not None])
        contact_rows = [
            {**contact_row(p, ids.get(("partner", p.company_id))), "odoo_backend": ctx.backend} for p in people
        ]
        self._refresh_customers(conn, ctx.backend, companies)
        self._upsert_contacts(conn, ctx.backend, contact_rows)

    @staticmethod
    def _refresh_customers(conn: sa.Connection, backend: str, companies: list[PartnerInfo]) -> None:
        """Name, email and phone of bound customers follow Odoo (changed rows only)."""
        if not companies:
            return
        by_partner = {c.id: c for c in companies}
        stored = conn.execute(
            sa.select(
                customers.c.id, customers.c.odoo_partner_id, customers.c.name, customers.c.email, customers.c.phone
            ).where(id_in(conn, customers.c.odoo_partner_id, list(by_partner)), customers.c.odoo_backend == backend)
        ).all()
        changes = []
        for cid, pid, name, email, phone in stored:
            info = by_partner[int(pid)]
            if (name, email, phone) != (info.name, info.email, info.phone):
                changes.append({"cid": cid, "name": info.name, "email": info.email, "phone": info.phone})
        if changes:
            conn.execute(
                sa.update(customers)
                .where(customers.c.id == sa.bindparam("cid"))
                .values(
                    name=sa.bindparam("name"),
                    email=sa.bindparam("email"),
                    phone=sa.bindparam("phone"),
                    updated_at=sa.func.current_timestamp(),
                ),
                changes,
            )

    @staticmethod
    def _upsert_contacts(conn: sa.Connection, backend: str, rows: list[dict[str, Any]]) -> None:
        """Contacts keyed by ``odoo_partner_id``: one insert for new, one update for changed."""
        if not rows:
            return
        stored = {
            int(pid): (cid, customer_id, name, email, phone)
            for cid, pid, customer_id, name, email, phone in conn.execute(
                sa.select(
                    contacts.c.id,
                    contacts.c.odoo_partner_id,
                    contacts.c.customer_id,
                    contacts.c.name,
                    contacts.c.email,
                    contacts.c.phone,
                ).where(
                    id_in(conn, contacts.c.odoo_partner_id, [r["odoo_partner_id"] for r in rows]),
                    contacts.c.odoo_backend == backend,
                )
            )
        }
        new = [r for r in rows if r["odoo_partner_id"] not in stored]
        changed = [
            {"cid": stored[r["odoo_partner_id"]][0], **{k: r[k] for k in ("customer_id", "name", "email", "phone")}}
            for r in rows
            if r["odoo_partner_id"] in stored
            and stored[r["odoo_partner_id"]][1:] != (r["customer_id"], r["name"], r["email"], r["phone"])
        ]
        if new:
            conn.execute(sa.insert(contacts), new)
        if changed:
            conn.execute(
                sa.update(contacts)
                .where(contacts.c.id == sa.bindparam("cid"))
                .values(
                    customer_id=sa.bindparam("customer_id"),
                    name=sa.bindparam("name"),
                    email=sa.bindparam("email"),
                    phone=sa.bindparam("phone"),
                    updated_at=sa.func.current_timestamp(),
                ),
                changed,
            )


def partners_stream() -> Stream:
    return Stream("partners", "res.partner", PARTNER_FIELDS, PartnersTarget(), optional_fields=PARTNER_OPTIONAL_FIELDS)
