"""Pure mappers of the pull streams: Odoo records (as the client normalises them) → rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from odoosync.streams.customers import CustomerWant, name_key
from odoosync.streams.generic import map_generic
from odoosync.streams.leads import LeadLookups, lead_customer_want, lead_status, map_lead
from odoosync.streams.partners import PartnerInfo, contact_row, map_partners
from odoosync.streams.reference import map_activity_types, map_stages, map_users

WD = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def lead(**values):
    base = {
        "id": 17,
        "name": "Big deal",
        "active": True,
        "type": "opportunity",
        "stage_id": (2, "Qualified"),
        "probability": 30.0,
        "priority": "2",
        "expected_revenue": 1500.5,
        "user_id": (5, "Mitchell Admin"),
        "team_id": (1, "Sales"),
        "tag_ids": [3, 1],
        "lost_reason_id": None,
        "date_deadline": dt.date(2026, 4, 1),
        "partner_id": None,
        "partner_name": None,
        "contact_name": None,
        "email_from": None,
        "phone": None,
        "company_id": (1, "My Company"),
        "create_date": WD,
        "write_date": WD,
    }
    base.update(values)
    return base


LOOKUPS = LeadLookups(
    won_stages=frozenset({4}),
    tag_names={1: "VIP", 3: "Consulting"},
    partners={
        10: PartnerInfo(10, "Azure Interior", "info@azure.example", "+1 555", is_company=True),
        11: PartnerInfo(
            11, "Brandon Freeman", "brandon@azure.example", "+1 556", company_id=10, company_name="Azure Interior"
        ),
        12: PartnerInfo(12, "Solo Person", "solo@example.com"),
    },
    customers={("partner", 10): 100, ("partner", 12): 102, name_key("Acme Corp"): 101},
    company_id=9,
)


def test_lead_columns() -> None:
    row = map_lead(lead(), LOOKUPS)
    assert row["title"] == "Big deal"
    assert row["stage"] == "Qualified"
    assert row["status"] == "open"
    assert row["value"] == 1500.5
    assert (row["owner_name"], row["team_name"]) == ("Mitchell Admin", "Sales")
    assert row["tags"] == ["Consulting", "VIP"]
    assert row["deadline"] == dt.date(2026, 4, 1)
    assert row["source"] == "odoo"
    assert row["source_email_id"] == "odoo_crm_17"
    assert (row["odoo_id"], row["odoo_write_date"]) == (17, WD)
    assert row["company_id"] == 9
    assert row["deleted_at"] is None


def test_extra_fields_are_kept_in_metadata_as_json() -> None:
    row = map_lead(lead(referred="a friend"), LOOKUPS)
    meta = row["metadata"]
    assert meta["referred"] == "a friend"
    assert meta["stage_id"] == [2, "Qualified"]
    assert meta["tag_ids"] == [3, 1]
    assert meta["create_date"] == "2026-03-01 12:00:00"
    assert "name" not in meta and "expected_revenue" not in meta


@pytest.mark.parametrize(
    ("values", "status"),
    [
        ({"stage_id": (4, "Won")}, "won"),
        ({"active": False}, "lost"),
        ({"lost_reason_id": (2, "Too expensive")}, "lost"),
        ({"active": False, "stage_id": (4, "Won")}, "lost"),
        ({}, "open"),
    ],
)
def test_status(values: dict, status: str) -> None:
    assert lead_status(lead(**values), frozenset({4})) == status


def test_lost_reason_name() -> None:
    assert map_lead(lead(active=False, lost_reason_id=(2, "Too expensive")), LOOKUPS)["lost_reason"] == "Too expensive"


def test_customer_is_the_partners_company_and_contact_the_person() -> None:
    row = map_lead(lead(partner_id=(11, "Azure Interior, Brandon Freeman")), LOOKUPS)
    assert row["customer_id"] == 100
    assert (row["contact_name"], row["email"], row["phone"]) == ("Brandon Freeman", "brandon@azure.example", "+1 556")


def test_company_partner_is_its_own_customer_and_no_contact() -> None:
    row = map_lead(lead(partner_id=(10, "Azure Interior"), contact_name="Jo"), LOOKUPS)
    assert row["customer_id"] == 100
    assert row["contact_name"] == "Jo"
    assert row["email"] is None


def test_lead_fields_win_over_the_partners() -> None:
    row = map_lead(lead(partner_id=(11, "x"), email_from="other@example.com", contact_name="Other"), LOOKUPS)
    assert (row["contact_name"], row["email"]) == ("Other", "other@example.com")


def test_without_partner_the_customer_comes_from_partner_name_whatever_its_case() -> None:
    assert map_lead(lead(partner_name="  ACME corp "), LOOKUPS)["customer_id"] == 101
    assert lead_customer_want(lead(partner_name="Acme"), {}) == CustomerWant(name="Acme")
    assert lead_customer_want(lead(), {}) is None
    assert map_lead(lead(), LOOKUPS)["customer_id"] is None


def test_a_person_without_company_is_their_own_customer() -> None:
    want = lead_customer_want(lead(partner_id=(12, "Solo Person")), LOOKUPS.partners)
    assert want == CustomerWant(name="Solo Person", odoo_partner_id=12, email="solo@example.com")
    assert map_lead(lead(partner_id=(12, "Solo Person")), LOOKUPS)["customer_id"] == 102


def test_unknown_tag_ids_still_show() -> None:
    assert map_lead(lead(tag_ids=[99]), LOOKUPS)["tags"] == ["#99"]


def test_mapping_is_deterministic() -> None:
    assert map_lead(lead(), LOOKUPS) == map_lead(lead(), LOOKUPS)


def test_partner_info_from_record_or_raw_json() -> None:
    record = {
        "id": 11,
        "name": "Brandon",
        "is_company": False,
        "parent_id": (10, "Azure"),
        "email": None,
        "phone": None,
        "mobile": "+1",
    }
    info = PartnerInfo.from_record(record)
    assert (info.company_id, info.company_name, info.phone) == (10, "Azure", "+1")
    raw = {
        "id": 11,
        "name": "Brandon",
        "is_company": False,
        "parent_id": [10, "Azure"],
        "commercial_partner_id": [7, "Holding"],
    }
    assert PartnerInfo.from_record(raw).company_id == 7  # the commercial entity when the server says it
    company = PartnerInfo.from_record(
        {"id": 10, "name": "Azure", "is_company": True, "commercial_partner_id": [10, "Azure"]}
    )
    assert company.company_id is None
    assert company.customer_want() == CustomerWant(name="Azure", odoo_partner_id=10)


def test_partner_rows() -> None:
    (row,) = map_partners(
        [{"id": 10, "name": "Azure", "email": "a@x", "phone": None, "is_company": True, "write_date": WD}]
    )
    assert row == {
        "odoo_id": 10,
        "name": "Azure",
        "email": "a@x",
        "phone": None,
        "is_company": True,
        "write_date": WD,
        "raw": {
            "id": 10,
            "name": "Azure",
            "email": "a@x",
            "phone": None,
            "is_company": True,
            "write_date": "2026-03-01 12:00:00",
        },
        "deleted_at": None,
    }
    assert contact_row(PartnerInfo(11, "B", "b@x", None, company_id=10), 5) == {
        "customer_id": 5,
        "name": "B",
        "email": "b@x",
        "phone": None,
        "odoo_partner_id": 11,
    }


def test_reference_rows() -> None:
    (stage,) = map_stages([{"id": 4, "name": "Won", "sequence": 70, "is_won": True, "fold": False, "write_date": WD}])
    assert (stage["odoo_id"], stage["name"], stage["is_won"], stage["sequence"]) == (4, "Won", True, 70)
    (user,) = map_users(
        [{"id": 2, "name": "Admin", "login": "admin", "email": None, "active": False, "write_date": WD}]
    )
    assert (user["login"], user["active"]) == ("admin", False)
    (kind,) = map_activity_types(
        [{"id": 3, "name": "Call", "category": "phonecall", "write_date": WD}], {3: "mail.mail_activity_data_call"}
    )
    assert (kind["xml_id"], kind["category"], kind["keep_done"]) == ("mail.mail_activity_data_call", "phonecall", False)


def test_generic_rows_keep_the_whole_record() -> None:
    (row,) = map_generic([{"id": 5, "write_date": WD, "amount": Decimal("2.50"), "partner_id": (3, "X")}])
    assert row == {
        "odoo_id": 5,
        "write_date": WD,
        "deleted_at": None,
        "raw": {"id": 5, "write_date": "2026-03-01 12:00:00", "amount": 2.5, "partner_id": [3, "X"]},
    }
