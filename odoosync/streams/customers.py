"""The customers map: which ``customers`` row stands for an Odoo company or a company name.

The old importer looked each lead's customer up with its own query (and created it with
another). Here the customers of the app's company are read once per run into a map keyed
by Odoo partner id and by normalised name; a page's missing customers are created with
one multi-row ``INSERT ... RETURNING``, and a customer first created from a lead's
``partner_name`` is bound to the Odoo company of the same name when that shows up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from odoosync.store.schema import customers

__all__ = ["CustomerWant", "CustomerKey", "CustomersMap", "name_key"]

CustomerKey = tuple[str, Any]
"""``("partner", odoo partner id)`` or ``("name", normalised name)``."""


def name_key(name: str) -> CustomerKey:
    """Names match whatever their case and spacing (``"ACME  Corp"`` = ``"acme corp"``)."""
    return ("name", " ".join(name.split()).casefold())


@dataclass(frozen=True)
class CustomerWant:
    """A customer a row needs: an Odoo company (partner id + name) or just a name."""

    name: str
    odoo_partner_id: int | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def key(self) -> CustomerKey:
        if self.odoo_partner_id is not None:
            return ("partner", self.odoo_partner_id)
        return name_key(self.name)


class CustomersMap:
    """Customers of one app company (``company_id``), loaded once, grown as rows need.
    Bindings to Odoo companies are those of one Odoo backend."""

    def __init__(self, company_id: int | None, backend: str = "default"):
        self.company_id = company_id
        self.backend = backend
        self._ids: dict[CustomerKey, int] = {}
        self._unbound_by_name: dict[CustomerKey, int] = {}

    def load(self, conn: sa.Connection) -> CustomersMap:
        """Read every customer of the company (one query)."""
        query = (
            sa.select(customers.c.id, customers.c.name, customers.c.odoo_partner_id, customers.c.odoo_backend)
            .where(self._company_clause())
            .order_by(customers.c.id)
        )
        for cid, name, partner_id, backend in conn.execute(query):
            if partner_id is not None and backend != self.backend:
                continue  # another Odoo database's company
            if partner_id is not None:
                self._ids.setdefault(("partner", int(partner_id)), int(cid))
            elif name:
                self._unbound_by_name.setdefault(name_key(name), int(cid))
            if name:
                self._ids.setdefault(name_key(name), int(cid))
        return self

    def get(self, key: CustomerKey) -> int | None:
        return self._ids.get(key)

    def ensure(self, conn: sa.Connection, wants: Iterable[CustomerWant]) -> dict[CustomerKey, int]:
        """Customer ids for ``wants``: known ones from the map, name matches bound to their
        Odoo company, the rest created in one batch."""
        result: dict[CustomerKey, int] = {}
        to_bind: dict[int, int] = {}
        to_create: dict[CustomerKey, CustomerWant] = {}
        for want in wants:
            key = want.key
            if key in result or key in to_create:
                continue
            known = self._ids.get(key)
            if known is None and want.odoo_partner_id is not None:
                known = self._unbound_by_name.pop(name_key(want.name), None) if want.name else None
                if known is not None:
                    to_bind[known] = want.odoo_partner_id
                    self._ids[key] = known
            if known is not None:
                result[key] = known
            else:
                to_create[key] = want
        if to_bind:
            conn.execute(
                sa.update(customers)
                .where(customers.c.id == sa.bindparam("cid"))
                .values(odoo_partner_id=sa.bindparam("pid"), odoo_backend=self.backend),
                [{"cid": cid, "pid": pid} for cid, pid in to_bind.items()],
            )
        if to_create:
            rows = [
                {
                    "company_id": self.company_id,
                    "name": want.name,
                    "email": want.email,
                    "phone": want.phone,
                    "odoo_partner_id": want.odoo_partner_id,
                    "odoo_backend": self.backend,
                }
                for want in to_create.values()
            ]
            new_ids = (
                conn.execute(sa.insert(customers).returning(customers.c.id, sort_by_parameter_order=True), rows)
                .scalars()
                .all()
            )
            for (key, want), cid in zip(to_create.items(), new_ids, strict=True):
                result[key] = int(cid)
                self._ids[key] = int(cid)
                if want.name:
                    self._ids.setdefault(name_key(want.name), int(cid))
        return result

    def _company_clause(self) -> Any:
        if self.company_id is None:
            return customers.c.company_id.is_(None)
        return customers.c.company_id == self.company_id
