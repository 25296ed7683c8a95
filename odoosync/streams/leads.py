"""``crm.lead`` → ``leads``: the mapping the app's pipeline shows.

============================  =============================================================
``leads``                      from Odoo
============================  =============================================================
``title``                      ``name``
``stage``                      the stage's name (``stage_id``)
``status``                     ``won`` in a won stage (``is_won``); ``lost`` when archived or
                               with a lost reason; else ``open``
``value``                      ``expected_revenue``
``probability``, ``priority``  as is (priority ``"0"``..``"3"``)
``owner_name``, ``team_name``  ``user_id`` / ``team_id`` names
``tags``                       tag names, sorted
``lost_reason``                ``lost_reason_id`` name
``deadline``                   ``date_deadline``
``customer_id``                the partner's company (or the partner itself), else a
                               customer named ``partner_name``
``contact_name``, ``email``,   the lead's ``contact_name`` / ``email_from`` / ``phone``, else
``phone``                      the partner's when the partner is a person
``source``, ``source_email_id``  ``odoo``, ``odoo_crm_<id>`` (set on insert only: a lead the
                               app pushed keeps its own)
``odoo_id``, ``odoo_write_date``  ``id``, ``write_date``
``metadata``                   every other field read (many2ones as ``[id, name]``), merged
                               into the stored object (keys the pull does not read, such
                               as a sheet lead's ``sheet``, stay)
============================  =============================================================

Rows the app owns: a ``sheet`` or ``app`` lead that was pushed to Odoo keeps its
``source``, ``source_email_id``, a non-null ``customer_id`` and its own ``metadata`` keys
when Odoo's edits come back, so the next sheet sync finds its digests and rewrites nothing.

The app's deletions win over Odoo's archive (``on_delete: archive`` pushes a deletion as
``active = False``, and the pull reads archived leads). :meth:`LeadsTarget.select_changed`
(and, for forced runs, :meth:`LeadsTarget.write_page`) leaves alone:

* a row the app soft-deleted (``deleted_at`` set) while its Odoo record is archived, or
  unchanged since the last sync (same ``write_date``), or the row still has changes
  waiting in the outbox;
* an Odoo id with no row (the app removed it with ``DELETE``) whose latest ``unlink``
  item in the outbox is still to be pushed (queued, processing or failed), or is
  ``done`` (the tombstone: outbox items are kept after they are pushed) while the record
  is archived. Only an Odoo id with no ``unlink`` item at all is a gap that ``missing``
  and full runs fill.

A lead restored (unarchived) in Odoo after the deletion was pushed is active again with a
new ``write_date``: the pull brings it back (``deleted_at`` cleared, or the row inserted
again). Rows the reconcile step marked deleted are never read again (their Odoo record is
gone), so the rule does not touch them.

The mapper (:func:`map_leads`) is pure; :class:`LeadsTarget` resolves its lookups per
page: won stages and tag names from the reference tables (Odoo only for ids not yet
there), partners from ``odoo_partners`` (Odoo only for unknown ones), and customer ids
from the run's :class:`~odoosync.streams.customers.CustomersMap`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from odoosync.models import RunCounters
from odoosync.push import outbox
from odoosync.store.filters import id_in
from odoosync.store.schema import leads, odoo_partners, odoo_stages, odoo_tags
from odoosync.streams.base import PageContext, Stream, json_safe, many2one_id, many2one_name
from odoosync.streams.customers import CustomerKey, CustomersMap, CustomerWant
from odoosync.streams.mirror import MirrorTarget
from odoosync.streams.partners import PARTNER_FIELDS, PartnerInfo

__all__ = [
    "LEAD_FIELDS",
    "LEAD_OPTIONAL_FIELDS",
    "LeadLookups",
    "lead_status",
    "lead_customer_want",
    "map_lead",
    "map_leads",
    "LeadsTarget",
    "leads_stream",
]

LEAD_FIELDS = (
    "name",
    "active",
    "type",
    "stage_id",
    "probability",
    "priority",
    "expected_revenue",
    "user_id",
    "team_id",
    "tag_ids",
    "lost_reason_id",
    "date_deadline",
    "partner_id",
    "partner_name",
    "contact_name",
    "email_from",
    "phone",
    "company_id",
    "create_date",
)
LEAD_OPTIONAL_FIELDS = (
    "description",
    "referred",
    "function",
    "mobile",
    "website",
    "street",
    "city",
    "zip",
    "country_id",
    "date_closed",
    "date_open",
    "date_last_stage_update",
    "source_id",
    "medium_id",
    "campaign_id",
    "prorated_revenue",
    "recurring_revenue",
)
# Fields that become columns and would only repeat themselves in ``metadata``.
_COLUMN_FIELDS = frozenset(
    {
        "id",
        "name",
        "write_date",
        "probability",
        "priority",
        "expected_revenue",
        "date_deadline",
        "contact_name",
        "email_from",
        "phone",
        "partner_name",
        "active",
    }
)


@dataclass(frozen=True)
class LeadLookups:
    """Everything :func:`map_leads` needs besides the records."""

    won_stages: frozenset[int] = frozenset()
    tag_names: Mapping[int, str] = field(default_factory=dict)
    partners: Mapping[int, PartnerInfo] = field(default_factory=dict)
    customers: Mapping[CustomerKey, int] = field(default_factory=dict)
    company_id: int | None = None
    backend: str = "default"


def lead_source_id(backend: str, odoo_id: int) -> str:
    """``leads.source_email_id`` of an Odoo lead: ``odoo_crm_<id>`` for the ``default``
    backend (as always), ``odoo_crm_<backend>_<id>`` for the others (unique across them)."""
    return f"odoo_crm_{odoo_id}" if backend == "default" else f"odoo_crm_{backend}_{odoo_id}"


def lead_status(record: Mapping[str, Any], won_stages: frozenset[int]) -> str:
    """``won`` / ``lost`` / ``open`` (see the module docstring)."""
    if many2one_id(record.get("stage_id")) in won_stages and record.get("active", True) is not False:
        return "won"
    if record.get("active") is False or record.get("lost_reason_id"):
        return "lost"
    return "open"


def lead_customer_want(record: Mapping[str, Any], partners: Mapping[int, PartnerInfo]) -> CustomerWant | None:
    """The customer a lead belongs to: its partner's company, else ``partner_name``."""
    partner_id = many2one_id(record.get("partner_id"))
    info = partners.get(partner_id) if partner_id is not None else None
    if info is not None:
        want = info.customer_want()
        if want is not None:
            return want
    name = (record.get("partner_name") or "").strip()
    return CustomerWant(name=name) if name else None


def map_lead(record: Mapping[str, Any], lookups: LeadLookups) -> dict[str, Any]:
    """One normalised ``crm.lead`` record → one ``leads`` row (pure)."""
    odoo_id = int(record["id"])
    partner = lookups.partners.get(many2one_id(record.get("partner_id")) or -1)
    person = partner if partner is not None and not partner.is_company else None
    want = lead_customer_want(record, lookups.partners)
    tag_ids = record.get("tag_ids") or []
    return {
        "company_id": lookups.company_id,
        "customer_id": None if want is None else lookups.customers.get(want.key),
        "title": record.get("name") or f"Lead {odoo_id}",
        "contact_name": record.get("contact_name") or (person.name if person else None),
        "email": record.get("email_from") or (person.email if person else None),
        "phone": record.get("phone") or (person.phone if person else None),
        "stage": many2one_name(record.get("stage_id")),
        "status": lead_status(record, lookups.won_stages),
        "value": record.get("expected_revenue"),
        "probability": record.get("probability"),
        "priority": record.get("priority"),
        "owner_name": many2one_name(record.get("user_id")),
        "team_name": many2one_name(record.get("team_id")),
        "tags": sorted(lookups.tag_names.get(int(t), f"#{t}") for t in tag_ids),
        "lost_reason": many2one_name(record.get("lost_reason_id")),
        "deadline": record.get("date_deadline"),
        "source": "odoo",
        "source_email_id": lead_source_id(lookups.backend, odoo_id),
        "odoo_id": odoo_id,
        "odoo_write_date": record.get("write_date"),
        "metadata": {k: json_safe(v) for k, v in sorted(record.items()) if k not in _COLUMN_FIELDS},
        "deleted_at": None,
    }


def map_leads(records: Sequence[Mapping[str, Any]], lookups: LeadLookups) -> list[dict[str, Any]]:
    return [map_lead(r, lookups) for r in records]


_APP_OWNED_SOURCES = frozenset({"sheet", "app"})
_WAITING = ("queued", "processing", "failed")


@dataclass(frozen=True)
class _Stored:
    """What the database holds for one Odoo lead, as far as deletions go."""

    write_date: Any
    deleted_at: Any


def _app_deletion_wins(
    record: Mapping[str, Any], stored: _Stored | None, waiting: bool, unlink_status: str | None
) -> bool:
    """True when the pull must leave the app's deletion of this lead alone (module
    docstring). ``waiting``: the row has outbox items not pushed yet; ``unlink_status``:
    the status of the latest ``unlink`` item for the Odoo id, None without one."""
    archived = record.get("active") is False
    if stored is not None:
        if stored.deleted_at is None:
            return False
        return archived or waiting or stored.write_date == record.get("write_date")
    if unlink_status in _WAITING:
        return True  # deleted with DELETE, not pushed yet: the push will archive it
    return archived and unlink_status == "done"


class LeadsTarget(MirrorTarget):
    """``leads``: keyed by ``odoo_id``; app-owned columns are set on insert only."""

    write_date_column = "odoo_write_date"

    def __init__(self) -> None:
        super().__init__(
            leads,
            map_leads,
            key=("odoo_id",),
            insert_only=("source", "source_email_id", "company_id", "sla_escalated_at"),
        )

    def select_changed(
        self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """The page's records, minus the leads the app deleted (module docstring), so a
        page holding only those opens no write transaction."""
        if ctx.force or not records:
            return list(records)
        stored = self._stored_stamps(ctx, conn, [int(r["id"]) for r in records])
        kept = self._app_deletions(ctx, conn, records, stored)
        return [r for r in records if int(r["id"]) not in kept]

    def write_page(self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]) -> RunCounters:
        """Forced runs (full mode, ``--odoo-id``) skip ``select_changed``, so the app's
        deletions are checked here for them."""
        if not ctx.force:
            return super().write_page(ctx, conn, records)
        ids = [int(r["id"]) for r in records]
        kept = self._app_deletions(ctx, conn, records, self._stored_stamps(ctx, conn, ids) if ids else {})
        counts = super().write_page(ctx, conn, [r for r in records if int(r["id"]) not in kept])
        return counts + RunCounters(skipped=len(kept))

    def _app_deletions(
        self,
        ctx: PageContext,
        conn: sa.Connection,
        records: Sequence[Mapping[str, Any]],
        stamps: dict[int, tuple[Any, Any]],
    ) -> set[int]:
        """Odoo ids of ``records`` whose deletion in the app wins (one outbox read at most)."""
        if not records:
            return set()
        stored = {odoo_id: _Stored(stamp, deleted) for odoo_id, (stamp, deleted) in stamps.items()}
        suspects = [
            int(r["id"]) for r in records if (s := stored.get(int(r["id"]))) is None or s.deleted_at is not None
        ]
        if not suspects:
            return set()
        waiting, unlinks = self._outbox_deletions(ctx, conn, suspects)
        return {
            int(r["id"])
            for r in records
            if _app_deletion_wins(r, stored.get(int(r["id"])), int(r["id"]) in waiting, unlinks.get(int(r["id"])))
        }

    @staticmethod
    def _outbox_deletions(
        ctx: PageContext, conn: sa.Connection, odoo_ids: list[int]
    ) -> tuple[set[int], dict[int, str]]:
        """Odoo ids with lead items still waiting, and the status of each id's latest
        ``unlink`` item (one query)."""
        waiting: set[int] = set()
        unlinks: dict[int, str] = {}
        for odoo_id, operation, status in outbox.lead_items(conn, ctx.backend, odoo_ids):
            if status in _WAITING:
                waiting.add(int(odoo_id))
            if operation == "unlink":
                unlinks[int(odoo_id)] = status
        return waiting, unlinks

    def app_deleted(self, conn: sa.Connection, ctx: PageContext, odoo_ids: Sequence[int]) -> set[int]:
        """Leads the app deleted with ``DELETE`` (an ``unlink`` item in the outbox): they
        stay absent, whatever Odoo still holds (archived)."""
        found: set[int] = set()
        for start in range(0, len(odoo_ids), 5000):
            found.update(self._outbox_deletions(ctx, conn, list(odoo_ids[start : start + 5000]))[1])
        return found

    def merge_stored(self, ctx: PageContext, conn: sa.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Keep what the pull does not own: ``metadata`` keys it does not read, and the
        customer of a sheet or app lead."""
        ids = [row["odoo_id"] for row in rows]
        stored = {
            int(odoo_id): (metadata, customer_id, source)
            for odoo_id, metadata, customer_id, source in conn.execute(
                sa.select(leads.c.odoo_id, leads.c.metadata, leads.c.customer_id, leads.c.source).where(
                    id_in(conn, leads.c.odoo_id, ids), leads.c.odoo_backend == ctx.backend
                )
            )
        }
        for row in rows:
            if (old := stored.get(row["odoo_id"])) is None:
                continue
            metadata, customer_id, source = old
            row["metadata"] = {**(metadata or {}), **row["metadata"]}
            if source in _APP_OWNED_SOURCES and customer_id is not None:
                row["customer_id"] = customer_id
        return rows

    def begin_run(self, ctx: PageContext) -> None:
        with ctx.store.connect() as conn:
            ctx.cache["customers"] = CustomersMap(ctx.company_id, ctx.backend).load(conn)
            ctx.cache["won_stages"] = {
                int(i): bool(w)
                for i, w in conn.execute(
                    sa.select(odoo_stages.c.odoo_id, odoo_stages.c.is_won).where(odoo_stages.c.backend == ctx.backend)
                )
            }
            ctx.cache["tag_names"] = {
                int(i): n
                for i, n in conn.execute(
                    sa.select(odoo_tags.c.odoo_id, odoo_tags.c.name).where(odoo_tags.c.backend == ctx.backend)
                )
            }

    def resolve(self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]) -> LeadLookups:
        won = self._stages(ctx, records)
        tags = self._tags(ctx, records)
        partners = self._partners(ctx, conn, records)
        wants = [w for w in (lead_customer_want(r, partners) for r in records) if w is not None]
        customers_map: CustomersMap = ctx.cache["customers"]
        customer_ids = customers_map.ensure(conn, wants)
        return LeadLookups(
            won_stages=frozenset(i for i, is_won in won.items() if is_won),
            tag_names=tags,
            partners=partners,
            customers=customer_ids,
            company_id=ctx.company_id,
            backend=ctx.backend,
        )

    # Lookups: the local mirror first, Odoo only for ids the mirror lacks.

    @staticmethod
    def _stages(ctx: PageContext, records: Sequence[Mapping[str, Any]]) -> dict[int, bool]:
        known: dict[int, bool] = ctx.cache["won_stages"]
        missing = {i for r in records if (i := many2one_id(r.get("stage_id"))) is not None} - set(known)
        if missing:
            for s in ctx.client.read("crm.stage", sorted(missing), ["is_won"]):
                known[int(s["id"])] = bool(s.get("is_won"))
        return known

    @staticmethod
    def _tags(ctx: PageContext, records: Sequence[Mapping[str, Any]]) -> dict[int, str]:
        known: dict[int, str] = ctx.cache["tag_names"]
        missing = {int(t) for r in records for t in (r.get("tag_ids") or [])} - set(known)
        if missing:
            for t in ctx.client.read("crm.tag", sorted(missing), ["name"]):
                known[int(t["id"])] = t.get("name") or f"#{t['id']}"
        return known

    @staticmethod
    def _partners(
        ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]
    ) -> dict[int, PartnerInfo]:
        ids = sorted({pid for r in records if (pid := many2one_id(r.get("partner_id"))) is not None})
        if not ids:
            return {}
        found = {
            int(raw["id"]): PartnerInfo.from_record(raw)
            for (raw,) in conn.execute(
                sa.select(odoo_partners.c.raw).where(
                    id_in(conn, odoo_partners.c.odoo_id, ids), odoo_partners.c.backend == ctx.backend
                )
            )
            if raw and "id" in raw
        }
        missing = [i for i in ids if i not in found]
        if missing:
            for record in ctx.client.read("res.partner", missing, list(PARTNER_FIELDS)):
                found[int(record["id"])] = PartnerInfo.from_record(record)
        return found


def leads_stream() -> Stream:
    return Stream("leads", "crm.lead", LEAD_FIELDS, LeadsTarget(), optional_fields=LEAD_OPTIONAL_FIELDS)
