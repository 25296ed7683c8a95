"""``res.partner`` as Odoo keeps it, over real HTTP (XML-RPC, as a script would).

The commercial entity (``commercial_partner_id``, computed and stored), the names derived
from it, the ``write_date`` of the partners a change recomputes or re-writes (what an
incremental pull relies on), the address sync to contacts, and domains that follow
relations (dotted paths, ``any``, x2many against ``False``, ``child_of``), checked
against what the records say.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from odoosync.odoo.client import OdooClient
from odoosync.simulator import Simulator
from odoosync.simulator.clock import format_datetime
from odoosync.store import Store
from odoosync.store.schema import contacts, customers
from tests.fixtures.pull import pull

T0 = datetime(2026, 2, 1, 9, 0, 0)
T1 = datetime(2026, 2, 1, 10, 0, 0)

Call = Callable[..., Any]


@contextmanager
def _rpc(sim: Simulator) -> Iterator[Call]:
    """``call(model, method, *args, **kwargs)`` through ``/xmlrpc/2/object``."""
    with xmlrpc.client.ServerProxy(f"{sim.url}/xmlrpc/2/object") as proxy:

        def call(model: str, method: str, *args: Any, **kwargs: Any) -> Any:
            return proxy.execute_kw(sim.db, sim.uid, sim.password, model, method, list(args), kwargs)

        yield call


def _partners(call: Call, ids: list[int], fields: list[str]) -> dict[int, dict[str, Any]]:
    return {r["id"]: r for r in call("res.partner", "read", ids, fields, context={"allowed_company_ids": [1, 2]})}


def test_fields_get_and_generated_partners_have_the_commercial_entity(simulator: Simulator) -> None:
    with _rpc(simulator) as call:
        described = call(
            "res.partner",
            "fields_get",
            ["commercial_partner_id"],
            attributes=["type", "relation", "readonly", "store", "depends"],
        )
        assert described == {
            "commercial_partner_id": {
                "type": "many2one",
                "relation": "res.partner",
                "readonly": True,
                "store": True,
                "depends": ["is_company", "parent_id.commercial_partner_id"],
            }
        }
        rows = call(
            "res.partner",
            "search_read",
            [],
            ["is_company", "parent_id", "commercial_partner_id", "complete_name"],
            context={"active_test": False, "allowed_company_ids": [1, 2]},
        )
    by_id = {r["id"]: r for r in rows}
    contacts_seen = 0
    for row in rows:
        if row["parent_id"]:
            contacts_seen += 1
            parent = by_id[row["parent_id"][0]]
            assert row["commercial_partner_id"] == [parent["id"], parent["complete_name"]]
            assert row["complete_name"] == f"{parent['complete_name']}, {row['complete_name'].split(', ', 1)[1]}"
        else:
            assert row["commercial_partner_id"][0] == row["id"]
    assert contacts_seen > 10


def test_the_commercial_entity_follows_parents_and_companies(make_simulator: Any) -> None:
    sim = make_simulator(scale=None)
    with _rpc(sim) as call:
        acme = call("res.partner", "create", {"name": "Acme", "is_company": True})
        anna = call("res.partner", "create", {"name": "Anna", "parent_id": acme})
        desk = call("res.partner", "create", {"name": "Anna's desk", "parent_id": anna, "type": "invoice"})
        solo = call("res.partner", "create", {"name": "Solo", "company_name": "Solo Trading"})
        family = call("res.partner", "create", {"name": "Kid", "parent_id": solo})
        got = _partners(
            call,
            [acme, anna, desk, solo, family],
            ["commercial_partner_id", "commercial_company_name", "complete_name"],
        )
    assert got[acme]["commercial_partner_id"] == [acme, "Acme"]
    assert got[anna]["commercial_partner_id"] == [acme, "Acme"]
    assert got[desk]["commercial_partner_id"] == [acme, "Acme"]  # the topmost company, not the parent
    assert (got[desk]["complete_name"], got[desk]["commercial_company_name"]) == ("Acme, Anna's desk", "Acme")
    # a person without company is its own commercial entity, and so is its parent for a child
    assert got[solo]["commercial_partner_id"] == [solo, "Solo Trading, Solo"]
    assert got[family]["commercial_partner_id"] == [solo, "Solo Trading, Solo"]
    assert got[family]["complete_name"] == "Solo, Kid"  # a parent clears company_name on create


def test_a_change_of_commercial_entity_stamps_the_partner_and_its_contacts(make_simulator: Any) -> None:
    sim = make_simulator(scale=None)
    sim.clock.freeze(T0)
    with _rpc(sim) as call:
        acme = call("res.partner", "create", {"name": "Acme", "is_company": True})
        globex = call("res.partner", "create", {"name": "Globex", "is_company": True})
        anna = call("res.partner", "create", {"name": "Anna", "parent_id": acme})
        desk = call("res.partner", "create", {"name": "Desk", "parent_id": anna})
        bob = call("res.partner", "create", {"name": "Bob", "parent_id": acme})
        sim.clock.freeze(T1)
        call("res.partner", "write", [anna], {"parent_id": globex})
        got = _partners(call, [acme, globex, anna, desk, bob], ["commercial_partner_id", "complete_name", "write_date"])
        changed = call("res.partner", "search", [("write_date", ">=", format_datetime(T1))])
    assert got[anna]["commercial_partner_id"][0] == got[desk]["commercial_partner_id"][0] == globex
    assert (got[anna]["complete_name"], got[desk]["complete_name"]) == ("Globex, Anna", "Globex, Desk")
    assert sorted(changed) == sorted([anna, desk])  # an incremental pull sees both, not Acme, Globex or Bob
    assert got[bob]["write_date"] == got[acme]["write_date"] == format_datetime(T0)


def test_becoming_a_company_recomputes_the_contacts_below(make_simulator: Any) -> None:
    sim = make_simulator(scale=None)
    sim.clock.freeze(T0)
    with _rpc(sim) as call:
        acme = call("res.partner", "create", {"name": "Acme", "is_company": True})
        branch = call("res.partner", "create", {"name": "Branch", "parent_id": acme})
        clerk = call("res.partner", "create", {"name": "Clerk", "parent_id": branch})
        sim.clock.freeze(T1)
        call("res.partner", "write", [branch], {"is_company": True})
        got = _partners(call, [acme, branch, clerk], ["commercial_partner_id", "commercial_company_name", "write_date"])
        sim.clock.freeze(datetime(2026, 2, 1, 11, 0, 0))
        call("res.partner", "write", [branch], {"name": "Branch West"})  # a rename reaches the names below
        renamed = _partners(call, [clerk], ["complete_name", "commercial_company_name", "write_date"])[clerk]
    assert got[branch]["commercial_partner_id"][0] == got[clerk]["commercial_partner_id"][0] == branch
    assert got[clerk]["commercial_company_name"] == "Branch"
    assert got[clerk]["write_date"] == format_datetime(T1)
    assert got[acme]["write_date"] == format_datetime(T0)
    assert (renamed["complete_name"], renamed["commercial_company_name"]) == ("Branch West, Clerk", "Branch West")
    assert renamed["write_date"] == "2026-02-01 11:00:00"


def test_address_and_company_changes_are_written_to_the_contacts(make_simulator: Any) -> None:
    sim = make_simulator(scale=None)
    sim.clock.freeze(T0)
    with _rpc(sim) as call:
        acme = call("res.partner", "create", {"name": "Acme", "is_company": True})
        anna = call("res.partner", "create", {"name": "Anna", "parent_id": acme, "city": "Lyon"})
        billing = call(
            "res.partner", "create", {"name": "Billing", "parent_id": acme, "type": "invoice", "city": "Porto"}
        )
        first = _partners(call, [acme], ["city", "write_date"])[acme]
        sim.clock.freeze(T1)
        call(
            "res.partner",
            "write",
            [acme],
            {"street": "1 Main St", "company_id": 2},
            context={"allowed_company_ids": [1, 2]},
        )
        got = _partners(call, [anna, billing], ["street", "city", "company_id", "write_date"])
    # a company without address takes its first contact's (_handle_first_contact_creation)
    assert first == {"id": acme, "city": "Lyon", "write_date": format_datetime(T0)}
    assert (got[anna]["street"], got[anna]["city"]) == ("1 Main St", "Lyon")  # contacts get the changed fields
    assert got[billing]["street"] is False and got[billing]["city"] == "Porto"  # other address types do not
    assert got[anna]["company_id"][0] == got[billing]["company_id"][0] == 2  # every child gets the company
    assert got[anna]["write_date"] == got[billing]["write_date"] == format_datetime(T1)


def test_cycles_are_refused_and_deleting_a_parent_frees_its_contacts(make_simulator: Any) -> None:
    sim = make_simulator(scale=None)
    sim.clock.freeze(T0)
    with _rpc(sim) as call:
        acme = call("res.partner", "create", {"name": "Acme", "is_company": True})
        anna = call("res.partner", "create", {"name": "Anna", "parent_id": acme})
        with pytest.raises(xmlrpc.client.Fault) as refused:
            call("res.partner", "write", [acme], {"parent_id": anna})
        assert refused.value.faultCode == 2 and "recursive Partner hierarchies" in refused.value.faultString
        sim.clock.freeze(T1)
        call("res.partner", "unlink", [acme])
        [freed] = call(
            "res.partner", "read", [anna], ["parent_id", "commercial_partner_id", "complete_name", "write_date"]
        )
    assert freed == {
        "id": anna,
        "parent_id": False,
        "commercial_partner_id": [anna, "Anna"],
        "complete_name": "Anna",
        "write_date": format_datetime(T1),
    }


def test_domains_follow_relations_as_the_records_say(simulator: Simulator) -> None:
    context = {"active_test": False, "allowed_company_ids": [1, 2]}
    with _rpc(simulator) as call:
        partners = {
            p["id"]: p
            for p in call(
                "res.partner", "search_read", [], ["is_company", "commercial_partner_id", "name"], context=context
            )
        }
        leads = call("crm.lead", "search_read", [], ["partner_id", "tag_ids", "activity_ids"], context=context)

        def ids(domain: list[Any]) -> set[int]:
            return set(call("crm.lead", "search", domain, context=context))

        with_company = {
            lead["id"] for lead in leads if lead["partner_id"] and partners[lead["partner_id"][0]]["is_company"]
        }
        assert ids([("partner_id.is_company", "=", True)]) == with_company
        assert ids(["!", ("partner_id.is_company", "=", True)]) == {lead["id"] for lead in leads} - with_company
        company = next(
            p
            for p in partners.values()
            if p["is_company"]
            and any(
                lead["partner_id"]
                and partners[lead["partner_id"][0]]["commercial_partner_id"][0] == p["id"]
                and lead["partner_id"][0] != p["id"]
                for lead in leads
            )
        )
        family = {
            lead["id"]
            for lead in leads
            if lead["partner_id"] and partners[lead["partner_id"][0]]["commercial_partner_id"][0] == company["id"]
        }
        assert ids([("partner_id.commercial_partner_id", "=", company["id"])]) == family
        assert ids([("partner_id", "child_of", company["id"])]) == family
        assert ids([("partner_id.commercial_partner_id.name", "=", company["name"])]) >= family
        assert ids([("tag_ids", "=", False)]) == {lead["id"] for lead in leads if not lead["tag_ids"]}
        assert ids([("activity_ids", "!=", False)]) == {lead["id"] for lead in leads if lead["activity_ids"]}
        assert ids([("tag_ids.name", "=", "Software")]) == ids([("tag_ids", "any", [("name", "=", "Software")])])
        with pytest.raises(xmlrpc.client.Fault) as bad:
            call("crm.lead", "search", [("partner_id.nope", "=", 1)])
        assert "Invalid field res.partner.nope" in bad.value.faultString


def test_the_partners_stream_maps_contacts_by_their_commercial_entity(
    simulator: Simulator, sim_client: OdooClient, store: Store
) -> None:
    """A contact's contact belongs to the company at the top (commercial_partner_id),
    and moving it under another company reaches the app on the next increment."""
    with simulator.env() as env:
        acme = env["res.partner"].create({"name": "Acme Deep", "is_company": True, "company_id": 1})
        anna = env["res.partner"].create({"name": "Anna Deep", "parent_id": acme})
        desk = env["res.partner"].create({"name": "Desk Deep", "parent_id": anna, "email": "desk@acme.example.com"})
        globex = env["res.partner"].create({"name": "Globex Deep", "is_company": True, "company_id": 1})
    pull(sim_client, store, "partners")

    def customer_of(partner_id: int) -> int | None:
        with store.connect() as conn:
            return conn.execute(
                sa.select(customers.c.odoo_partner_id)
                .join(contacts, contacts.c.customer_id == customers.c.id)
                .where(contacts.c.odoo_partner_id == partner_id)
            ).scalar_one_or_none()

    assert customer_of(desk) == acme
    simulator.clock.advance(2)
    with simulator.env() as env:
        env["res.partner"].write([anna], {"parent_id": globex})
    pull(sim_client, store, "partners")
    assert customer_of(anna) == customer_of(desk) == globex


@pytest.mark.parametrize(("version", "counts_archived"), [("17.0", True), ("18.0", True), ("19.0", False)])
def test_child_ids_against_false_follows_the_odoo_version(
    make_simulator: Any, version: str, counts_archived: bool
) -> None:
    """``('child_ids', '=', False)`` for a company whose only contact is archived: Odoo 17
    reads the lines with ``active_test=False``, 18 with the field's context (the same),
    19 applies the field's domain (``active = True``)."""
    sim = make_simulator(scale=None, version=version)
    with _rpc(sim) as call:
        acme = call("res.partner", "create", {"name": "Acme", "is_company": True})
        call("res.partner", "create", {"name": "Gone", "parent_id": acme, "active": False})
        childless = call(
            "res.partner", "search", [("is_company", "=", True), ("child_ids", "=", False), ("id", "=", acme)]
        )
    assert childless == ([] if counts_archived else [acme])
