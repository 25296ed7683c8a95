"""The generator: exact counts at a small scale, determinism by seed, realistic shapes."""

from __future__ import annotations

from odoosync.simulator.generator import expected_counts, generate
from odoosync.simulator.records import Database


def _dataset(scale: float, seed: int) -> Database:
    database = Database()
    generate(database, scale, seed)
    return database


def test_counts_at_small_scale() -> None:
    database = _dataset(0.05, seed=1)
    counts = expected_counts(0.05)
    with database.transaction(context={"active_test": False}, sudo=True) as env:
        assert env["crm.lead"].search_count([]) == counts.leads == 138
        visible = [("message_type", "!=", "user_notification")]  # what the sync user sees
        assert env["mail.message"].search_count(visible) == counts.messages == 1924
        assert env["mail.activity"].search_count([]) == counts.activities == 150
        own = [c["partner_id"][0] for c in env["res.company"].search_read([], ["partner_id"])]
        partners = env["res.partner"].search_count([("is_company", "=", True), ("id", "not in", own)]) + env[
            "res.partner"
        ].search_count([("parent_id", "!=", False)])
        assert partners == counts.partners == 150
        lead_ids = set(env["crm.lead"].search([]))
        talked = {
            m["res_id"] for m in env["mail.message"].search_read([("model", "=", "crm.lead"), *visible], ["res_id"])
        }
        assert len(lead_ids - talked) == counts.leads_without_messages == 19
        lost = env["crm.lead"].search_read([("active", "=", False)], ["lost_reason_id", "probability"])
        assert lost and all(r["lost_reason_id"] and r["probability"] == 0 for r in lost)
        won_stage = env["crm.stage"].search([("is_won", "=", True)])
        assert env["crm.lead"].search_count([("stage_id", "in", won_stage)]) > 0
        stages_used = {r["stage_id"][0] for r in env["crm.lead"].search_read([], ["stage_id"])}
        assert stages_used == set(env["crm.stage"].search([]))
        kinds = {m["message_type"] for m in env["mail.message"].search_read([], ["message_type"])}
        assert {"comment", "email", "email_outgoing", "notification"} <= kinds
        assert env["mail.tracking.value"].search_count([]) > 0
        types = {r["activity_type_id"][1] for r in env["mail.activity"].search_read([], ["activity_type_id"])}
        assert types == {"Email", "Call", "Meeting", "To-Do", "Follow-up"}
        assert env["mail.activity"].search_count([("active", "=", False)]) > 0


def test_same_seed_same_data_other_seed_other_data() -> None:
    def snapshot(seed: int) -> list[dict]:
        database = _dataset(0.02, seed)
        with database.transaction(context={"active_test": False}, sudo=True) as env:
            return env["crm.lead"].search_read([], ["name", "stage_id", "write_date", "expected_revenue"], order="id")

    assert snapshot(7) == snapshot(7)
    assert snapshot(7) != snapshot(8)


def test_bodies_are_html_with_lists_links_and_entities() -> None:
    database = _dataset(0.02, seed=3)
    with database.transaction(sudo=True) as env:
        bodies = [
            m["body"] for m in env["mail.message"].search_read([("message_type", "in", ["comment", "email"])], ["body"])
        ]
    joined = "".join(b for b in bodies if b)
    assert "<p>" in joined and "<li>" in joined and "<a href=" in joined and "&amp;" in joined


def test_chatter_history_ends_in_the_lead_state() -> None:
    database = _dataset(0.05, seed=2)
    with database.transaction(context={"active_test": False}, sudo=True) as env:
        leads = {
            r["id"]: r for r in env["crm.lead"].search_read([], ["stage_id", "active", "write_date", "lost_reason_id"])
        }
        stage_field = env["ir.model.fields"].search([("model", "=", "crm.lead"), ("name", "=", "stage_id")])
        values = env["mail.tracking.value"].search_read(
            [("field_id", "in", stage_field)], ["mail_message_id", "new_value_integer"], order="id"
        )
        last_stage: dict[int, int] = {}
        for value in values:
            [message] = env["mail.message"].read([value["mail_message_id"][0]], ["res_id", "date"])
            last_stage[message["res_id"]] = value["new_value_integer"]
            assert message["date"] <= leads[message["res_id"]]["write_date"]
        assert last_stage
        for lead_id, stage_id in last_stage.items():
            assert leads[lead_id]["stage_id"][0] == stage_id
        lost_messages = env["mail.message"].search_read([("subtype_id", "=", env.ref("crm.mt_lead_lost"))], ["res_id"])
        assert lost_messages and all(leads[m["res_id"]]["active"] is False for m in lost_messages)


def test_seed_scale_has_the_production_counts() -> None:
    database = _dataset(1.0, seed=0)
    with database.transaction(context={"active_test": False}, sudo=True) as env:
        assert env["crm.lead"].search_count([]) == 2764
        visible = [("message_type", "!=", "user_notification")]
        assert env["mail.message"].search_count(visible) == 38472
        assert env["mail.activity"].search_count([]) == 3000
        with_messages = {m["res_id"] for m in env["mail.message"].search_read(visible, ["res_id"])}
        assert 2764 - len(with_messages) == 384


def test_about_one_message_in_a_hundred_is_another_users_notification_hidden_after_the_limit() -> None:
    """As on real Odoo 16-19: the sync user's pages of 500 come back a few rows short
    while more follow, and counting sees only what the user may read."""
    database = Database()
    counts = generate(database, 0.1, 0)
    assert 0.005 * counts.messages < counts.hidden_messages < 0.02 * counts.messages
    context = {"active_test": False, "allowed_company_ids": [1, 2]}
    with database.transaction(context=context, sudo=True) as env:
        assert env["mail.message"].search_count([]) == counts.messages + counts.hidden_messages
    with database.transaction(context=context) as env:
        messages = env["mail.message"]
        assert messages.search_count([]) == counts.messages
        short = [
            len(messages.search_read([("id", ">", after)], ["id"], limit=500, order="id"))
            for after in range(0, 3000, 500)
        ]
        assert any(n < 500 for n in short) and all(0 < n <= 500 for n in short), short
        ids = messages.search([], limit=1000, order="id")
        assert 0 < len(ids) < 1000 and messages.search([("id", ">", ids[-1])], limit=10), "short, and more follow"
    assert generate(Database(), 0.1, 0, hidden_messages=0).hidden_messages == 0
