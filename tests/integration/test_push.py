"""The push engine end to end: app SQL → triggers → outbox → worker → the simulator over HTTP,
on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from odoosync.demo.edits import demo_edits
from odoosync.exceptions import ConfigError
from odoosync.models import SyncMode
from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.pull import PullOptions
from odoosync.push import outbox
from odoosync.push.conflicts import ConflictPolicy
from odoosync.push.engine import PushEngine
from odoosync.push.policy import PushPolicy
from odoosync.push.worker import run_once
from odoosync.service.operations import run_sync
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import lead_activities, leads, odoo_sync_conflicts
from odoosync.store.sync_config import config_set


class Clock:
    """Test time: the real time plus an offset that ``advance`` moves, so what the
    database stamps is never in the future and no test sleeps through a backoff."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(seconds=1)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)


def _client(sim: Simulator, **options) -> OdooClient:
    config = OdooConfig(
        url=sim.url,
        db=sim.db,
        username=sim.login,
        password=sim.password,
        protocol="jsonrpc",
        max_attempts=1,
        timeout=5,
        **options,
    )
    return OdooClient(config).open()


@pytest.fixture
def client(simulator: Simulator) -> Iterator[OdooClient]:
    with _client(simulator) as opened:
        yield opened


def _engine(store: Store, client: OdooClient, clock: Clock, **kw) -> PushEngine:
    return PushEngine(store, client, clock=clock, policies=kw.pop("policies", {}), **kw)


def _pull(client: OdooClient, store: Store, mode: SyncMode = SyncMode.INCREMENTAL):
    return run_sync(client, store, "all", PullOptions(mode=mode, overlap=dt.timedelta(seconds=300), page_size=200))


def _statuses(store: Store) -> dict[str, int]:
    return {k: v for k, v in outbox.status_counts(store).items() if v}


def _sql(store: Store, statement: str, **params) -> None:
    with store.transaction() as conn:
        conn.execute(sa.text(statement), params)


def _one(store: Store, statement: str, **params):
    with store.connect() as conn:
        return conn.execute(sa.text(statement), params).one()


def _rows(store: Store, statement: str, **params) -> list[tuple]:
    with store.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(statement), params)]


def _scalar(store: Store, statement: str, **params):
    with store.connect() as conn:
        return conn.execute(sa.text(statement), params).scalar()


def test_each_app_action_shows_up_in_odoo(store: Store, client: OdooClient, simulator: Simulator) -> None:
    clock = Clock()
    _pull(client, store, SyncMode.FULL)
    assert _statuses(store) == {}  # the pull's own writes queue nothing
    lead_id, odoo_lead = _one(
        store, "SELECT id, odoo_id FROM leads WHERE status = 'open' AND odoo_id IS NOT NULL ORDER BY id LIMIT 1"
    )
    _sql(store, "INSERT INTO leads (title) VALUES ('Only a title')")
    _sql(store, "UPDATE leads SET stage = 'Proposition' WHERE id = :id", id=lead_id)
    _sql(
        store,
        "INSERT INTO lead_activities (lead_id, activity_type, title, description) "
        "VALUES (:id, 'note', 'Note', 'Called from the app')",
        id=lead_id,
    )
    _sql(
        store,
        "INSERT INTO scheduled_activities (lead_id, activity_type, summary, due_date) "
        "VALUES (:id, 'call', 'Call back', '2030-01-02')",
        id=lead_id,
    )
    result = run_once(_engine(store, client, clock))
    assert result.failed == 0 and _statuses(store) == {"done": 4}

    new_odoo = _scalar(store, "SELECT odoo_id FROM leads WHERE title = 'Only a title'")
    [created] = client.read("crm.lead", [new_odoo], ["name", "active"])
    assert created["name"] == "Only a title"
    assert _scalar(store, "SELECT source_email_id FROM leads WHERE title = 'Only a title'") == f"odoo_crm_{new_odoo}"
    [moved] = client.read("crm.lead", [odoo_lead], ["stage_id"])
    assert moved["stage_id"][1] == "Proposition"
    message_id = _scalar(store, "SELECT odoo_message_id FROM lead_activities WHERE description = 'Called from the app'")
    [note] = client.read("mail.message", [message_id], ["body", "model", "res_id", "subtype_id", "message_type"])
    assert (note["model"], note["res_id"], note["message_type"]) == ("crm.lead", odoo_lead, "comment")
    assert note["subtype_id"][1] == "Note" and "Called from the app" in note["body"]
    activity_id = _scalar(store, "SELECT odoo_activity_id FROM scheduled_activities WHERE summary = 'Call back'")
    [activity] = client.read("mail.activity", [activity_id], ["res_id", "activity_type_id", "date_deadline"])
    assert activity["res_id"] == odoo_lead and activity["activity_type_id"][1] == "Call"

    _sql(store, "UPDATE scheduled_activities SET status = 'done' WHERE odoo_activity_id = :a", a=activity_id)
    _sql(store, "DELETE FROM leads WHERE title = 'Only a title'")
    result = run_once(_engine(store, client, clock))
    assert result.failed == 0 and _statuses(store) == {"done": 6}
    assert client.search("mail.activity", [("id", "=", activity_id)], active_test=False) == []  # done → feedback
    [archived] = client.read("crm.lead", [new_odoo], ["active"], active_test=False)
    assert archived["active"] is False  # deleted in the app → archived in Odoo (default)
    runs_table = "odoo_sync_runs" if store.dialect == "sqlite" else "ops.odoo_sync_runs"
    run = _one(store, f"SELECT fetched, updated, deleted FROM {runs_table} WHERE job = 'push' ORDER BY id DESC LIMIT 1")
    assert tuple(run) == (2, 1, 1)


def test_alternating_pulls_and_pushes_do_not_ping_pong(store: Store, client: OdooClient, simulator: Simulator) -> None:
    clock = Clock()
    _pull(client, store, SyncMode.FULL)
    touched = demo_edits(store)
    assert set(touched) == {"new_lead", "stage_moved", "noted"}
    engine = _engine(store, client, clock)
    first = run_once(engine)
    assert first.failed == 0 and first.done == 3
    writes_before = simulator.request_log.count("write") + simulator.request_log.count("load")
    last_activity = _scalar(store, "SELECT max(id) FROM lead_activities")
    for round_ in range(3):
        report = _pull(client, store)
        changed = {
            r.stream: (r.counters.inserted, r.counters.updated, r.counters.deleted)
            for r in report.results
            if r.counters.inserted or r.counters.updated or r.counters.deleted
        }
        # The pushed edits come back once, as what Odoo made of them: the two leads take
        # the values Odoo filled in (decided on values, not on write_date), and Odoo's own
        # messages about them (the new lead's creation log, the stage move's tracking) are
        # new chatter. Nothing goes back to Odoo, and later pulls change nothing.
        if round_ == 0:
            assert set(changed) <= {"chatter", "leads"} and changed["chatter"][1:] == (0, 0)
            assert changed.get("leads", (0, 0, 0))[0::2] == (0, 0) and changed.get("leads", (0, 0, 0))[1] <= 2
            new_kinds = _one(
                store,
                "SELECT count(*), min(activity_type), max(activity_type) FROM lead_activities WHERE id > :before",
                before=last_activity,
            )
            assert tuple(new_kinds) == (changed["chatter"][0], "system", "system")
        else:
            assert changed == {}
        assert _statuses(store) == {"done": 3}  # pulling our own changes back queues nothing
        again = run_once(engine)
        assert again.claimed == 0
    assert simulator.request_log.count("write") + simulator.request_log.count("load") == writes_before
    assert _scalar(store, "SELECT count(*) FROM leads WHERE title = 'Demo lead from the app'") == 1
    assert (
        _scalar(store, "SELECT count(*) FROM lead_activities WHERE description = 'Called the customer from the app.'")
        == 1
    )
    with simulator.env({"active_test": False}) as env:
        assert env["crm.lead"].search_count([("name", "=", "Demo lead from the app")]) == 1


def test_two_workers_never_claim_the_same_item(store: Store) -> None:
    clock = Clock()
    with store.transaction() as conn:
        for i in range(40):
            conn.execute(sa.insert(leads).values(title=f"Parallel {i}"))
    claimed: list[list[int]] = [[], []]

    def work(slot: int) -> None:
        while rows := outbox.claim(store, worker=f"w{slot}", now=clock(), lease=dt.timedelta(minutes=5), limit=3):
            claimed[slot] += [r.id for r in rows]
            with store.transaction() as conn:
                outbox.complete(conn, [r.id for r in rows], worker=f"w{slot}", now=clock())

    threads = [threading.Thread(target=work, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed[0] + claimed[1]) == sorted(set(claimed[0] + claimed[1]))
    assert len(claimed[0]) + len(claimed[1]) == 40


def test_concurrent_engines_create_each_lead_once(store: Store, simulator: Simulator) -> None:
    clock = Clock()
    with store.transaction() as conn:
        for i in range(30):
            conn.execute(sa.insert(leads).values(title=f"Race {i}"))

    def work(slot: int) -> None:
        with _client(simulator) as own:
            _engine(store, own, clock, worker=f"w{slot}").push_all()

    threads = [threading.Thread(target=work, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with _client(simulator) as check:
        assert check.search_count("crm.lead", [("name", "=like", "Race %")], active_test=False) == 30
    assert _statuses(store) == {"done": 30}


class _Killed(BaseException):
    """The worker process dies here (nothing after it runs)."""


def test_killed_worker_loses_nothing_and_duplicates_nothing(
    store: Store, client: OdooClient, simulator: Simulator
) -> None:
    clock = Clock()
    with store.transaction() as conn:
        for i in range(5):
            conn.execute(sa.insert(leads).values(title=f"Kill {i}"))

    def die(kind: str) -> None:
        raise _Killed(kind)

    with pytest.raises(_Killed):  # Odoo made the records; the worker died before recording it
        _engine(store, client, clock, worker="doomed", after_odoo_call=die).push_batch()
    assert _statuses(store) == {"processing": 5}
    assert _engine(store, client, clock, worker="next").push_batch().claimed == 0  # the lease still holds
    clock.advance(301)
    result = _engine(store, client, clock, worker="next").push_all()
    assert result.done == 5 and _statuses(store) == {"done": 5}
    assert client.search_count("crm.lead", [("name", "=like", "Kill %")], active_test=False) == 5
    with store.connect() as conn:
        odoo_ids = {r[0] for r in conn.execute(sa.text("SELECT odoo_id FROM leads WHERE title LIKE 'Kill %'"))}
    assert len(odoo_ids) == 5 and None not in odoo_ids


def test_lost_create_response_does_not_duplicate(store: Store, simulator: Simulator) -> None:
    clock = Clock()
    _sql(store, "INSERT INTO leads (title) VALUES ('Lost answer')")
    # The first load is answered with a dropped connection *after* Odoo has run it:
    # simulated by dropping the worker right after the call, then a transport failure.
    with _client(simulator) as client:
        calls = {"n": 0}

        def lose(kind: str) -> None:
            calls["n"] += 1
            raise _Killed(kind)

        with pytest.raises(_Killed):
            _engine(store, client, clock, worker="a", after_odoo_call=lose).push_batch()
        clock.advance(400)
        _engine(store, client, clock, worker="b").push_all()
        assert client.search_count("crm.lead", [("name", "=", "Lost answer")], active_test=False) == 1
        [item] = outbox.list_items(store)
        assert item.status == "done" and item.attempts == 2


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_under_faults_every_item_ends_done(store: Store, make_simulator, seed: int) -> None:
    sim = make_simulator(faults="429:0.07,500:0.07,reset:0.06", seed=seed)  # 20% of calls fail
    clock = Clock()
    with store.transaction() as conn:
        for i in range(25):
            lead = conn.execute(sa.insert(leads).values(title=f"Faulty {i}").returning(leads.c.id)).scalar_one()
            conn.execute(sa.insert(lead_activities).values(lead_id=lead, activity_type="note", description=f"n{i}"))
    with _client(sim) as client:
        engine = _engine(
            store,
            client,
            clock,
            policies={m: PushPolicy(max_attempts=50, max_batch=10) for m in ("crm.lead", "mail.message")},
        )
        for _ in range(200):
            engine.push_all()
            if _statuses(store) == {"done": 50}:
                break
            clock.advance(3600)
        assert _statuses(store) == {"done": 50}
    with sim.env({"active_test": False}) as env:
        assert env["crm.lead"].search_count([("name", "=like", "Faulty %")]) == 25
        assert env["mail.message"].search_count([("body", "=like", "n%"), ("model", "=", "crm.lead")]) == 25
    assert sum(1 for r in sim.request_log.records if r.fault) > 0


def test_poison_item_fails_after_max_attempts_others_go_through(store: Store, client: OdooClient) -> None:
    clock = Clock()
    with store.transaction() as conn:
        for i in range(4):
            conn.execute(sa.insert(leads).values(title=f"Fine {i}"))
        conn.execute(sa.insert(leads).values(title="Poison", stage="No such stage"))
        good = conn.execute(sa.insert(leads).values(title="Later", odoo_id=None).returning(leads.c.id)).scalar_one()
    engine = _engine(store, client, clock)
    engine.push_all()
    failed = outbox.list_items(store, status="failed")
    assert [i.payload["values"]["title"] for i in failed] == ["Poison"]
    assert "No such stage" in failed[0].last_error and failed[0].attempts == 1  # permanent: at once
    assert _statuses(store) == {"done": 5, "failed": 1}
    assert _scalar(store, "SELECT odoo_id FROM leads WHERE id = :id", id=good) is not None


def test_transient_poison_fails_after_max_attempts_with_backoff(store: Store, make_simulator) -> None:
    sim = make_simulator(faults="crm.lead.write#1:500,crm.lead.write#2:500,crm.lead.write#3:500", seed=1)
    clock = Clock()
    with _client(sim) as client:
        [record] = client.search_read("crm.lead", [], ["phone"], limit=1)
        with store.transaction(origin="pull") as conn:  # as the pull would have stored it
            conn.execute(sa.insert(leads).values(title="Bound", odoo_id=record["id"], phone=record["phone"]))
        _sql(store, "UPDATE leads SET phone = '123' WHERE title = 'Bound'")
        engine = _engine(
            store, client, clock, policies={"crm.lead": PushPolicy(max_attempts=3, base_backoff_seconds=10)}
        )
        waits = []
        for _ in range(3):
            engine.push_all()
            [item] = outbox.list_items(store)
            if item.status == "failed":
                break
            waits.append((item.next_run_at - item.updated_at).total_seconds())
            assert engine.push_all().claimed == 0  # not before the backoff is over
            clock.advance(waits[-1])
        assert waits == [10, 20]
        assert item.status == "failed" and item.attempts == 3 and "OdooServerError" in item.last_error


@pytest.mark.parametrize(
    "policy, expected_stage, winner",
    [
        (ConflictPolicy.ODOO_WINS, "Qualified", "odoo"),
        (ConflictPolicy.APP_WINS, "Proposition", "app"),
        (ConflictPolicy.NEWEST_WINS, "Proposition", "app"),
    ],
)
def test_conflict_policies(
    store: Store, client: OdooClient, simulator: Simulator, policy: ConflictPolicy, expected_stage: str, winner: str
) -> None:
    clock = Clock()
    _pull(client, store, SyncMode.FULL)
    lead_id, odoo_id, _stage = _one(
        store, "SELECT id, odoo_id, stage FROM leads WHERE status = 'open' AND stage = 'New' ORDER BY id LIMIT 1"
    )
    stages = dict(
        client.search_read("crm.stage", [], ["name"])
        and [(s["name"], s["id"]) for s in client.search_read("crm.stage", [], ["name"])]
    )
    a_minute_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with simulator.env(stamp=a_minute_ago) as env:  # Odoo's user moved the lead a minute ago...
        env["crm.lead"].write([odoo_id], {"stage_id": stages["Qualified"], "phone": "odoo-phone"})
    # ...then the app moves it now (the later change: newest_wins picks the app)
    _sql(store, "UPDATE leads SET stage = 'Proposition', title = 'App title' WHERE id = :id", id=lead_id)
    engine = _engine(store, client, clock, policies={"crm.lead": PushPolicy(conflict_policy=policy)})
    result = engine.push_all()
    assert result.failed == 0 and result.conflicts == 1
    [record] = client.read("crm.lead", [odoo_id], ["stage_id", "name", "phone"])
    assert record["stage_id"][1] == expected_stage
    assert record["name"] == "App title"  # only the app changed it: no conflict, pushed
    assert record["phone"] == "odoo-phone"  # only Odoo changed it: untouched
    with store.connect() as conn:
        [conflict] = conn.execute(sa.select(odoo_sync_conflicts)).all()
    assert (conflict.field, conflict.winner, conflict.policy) == ("stage_id", winner, policy.value)
    assert conflict.app_value == stages["Proposition"] and conflict.base_value == stages["New"]


def test_a_queued_method_call_is_pushed(store: Store, client: OdooClient) -> None:
    [odoo_id] = client.search("crm.lead", [], limit=1)
    with store.transaction() as conn:
        outbox.enqueue(
            conn,
            model="crm.lead",
            operation="call",
            odoo_id=odoo_id,
            payload={"method": "write", "args": [[odoo_id], {"phone": "+1 555 0100"}]},
        )
    with pytest.raises(ValueError, match="payload\\['method'\\]"):
        with store.transaction() as conn:
            outbox.enqueue(conn, model="crm.lead", operation="call", payload={})
    assert _engine(store, client, Clock()).push_all().done == 1
    [lead] = client.read("crm.lead", [odoo_id], ["phone"])
    assert lead["phone"] == "+1 555 0100"


def test_json2_and_one_model_at_a_time(migrated_sqlite_url: str, make_simulator) -> None:
    sim = make_simulator(version="19.0")
    config = OdooConfig(
        url=sim.url, db=sim.db, username=sim.login, api_key=sim.api_key, protocol="json2", max_attempts=1
    )
    with Store(migrated_sqlite_url) as store, OdooClient(config) as client:
        _sql(store, "INSERT INTO leads (title) VALUES ('Over JSON-2')")
        lead_id = _scalar(store, "SELECT id FROM leads")
        _sql(
            store,
            "INSERT INTO lead_activities (lead_id, activity_type, description) VALUES (:id, 'note', 'j2 note')",
            id=lead_id,
        )
        only_leads = _engine(store, client, Clock(), models=["crm.lead"]).push_all()
        assert (only_leads.done, _statuses(store)) == (1, {"done": 1, "queued": 1})
        _sql(store, "UPDATE leads SET stage = 'Qualified' WHERE id = :id", id=lead_id)
        assert _engine(store, client, Clock()).push_all().failed == 0
        odoo_id = _scalar(store, "SELECT odoo_id FROM leads")
        [lead] = client.read("crm.lead", [odoo_id], ["stage_id", "message_ids"])
        assert lead["stage_id"][1] == "Qualified"
        note = _scalar(store, "SELECT odoo_message_id FROM lead_activities")
        assert note in lead["message_ids"]


def test_push_settings_come_from_the_config_table(store: Store, client: OdooClient) -> None:
    config_set(
        store,
        "sb_to_odoo:crm.lead",
        {"max_batch": 2, "max_attempts": 3, "conflict_policy": "app_wins", "on_delete": "unlink"},
    )
    engine = PushEngine(store, client)
    assert engine.policy("crm.lead") == PushPolicy(
        max_batch=2, max_attempts=3, conflict_policy=ConflictPolicy.APP_WINS, on_delete="unlink"
    )
    assert engine.policy("mail.message") == PushPolicy()
    with store.transaction() as conn:
        for i in range(5):
            conn.execute(sa.insert(leads).values(title=f"Small batches {i}"))
    assert engine.push_batch().claimed == 2  # max_batch
    config_set(store, "sb_to_odoo:crm.lead", {"max_batch": "many", "conflict_policy": "loudest"})
    with pytest.raises(ConfigError) as info:
        PushEngine(store, client)
    assert len(info.value.problems) == 2 and "max_batch" in info.value.problems[0]


def test_a_partner_made_in_the_app_is_created_and_rekeyed(store: Store, client: OdooClient) -> None:
    with store.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO odoo_partners (odoo_id, name, email, is_company) "
                "VALUES (-1, 'App Partner Co', 'co@example.com', true)"
            )
        )
    assert _engine(store, client, Clock()).push_all().created == 1
    odoo_id, write_date = _one(store, "SELECT odoo_id, write_date FROM odoo_partners WHERE name = 'App Partner Co'")
    assert odoo_id > 0 and write_date is not None
    [partner] = client.read("res.partner", [odoo_id], ["name", "email", "is_company"])
    assert (partner["name"], partner["email"], partner["is_company"]) == ("App Partner Co", "co@example.com", True)
    _sql(store, "UPDATE odoo_partners SET phone = '+32 2 555' WHERE odoo_id = :id", id=odoo_id)
    assert _engine(store, client, Clock()).push_all().written == 1
    assert client.read("res.partner", [odoo_id], ["phone"])[0]["phone"] == "+32 2 555"


@pytest.mark.parametrize("kill_after", [1, 2, 3, 4, 5])
def test_killed_after_any_odoo_call_then_rerun_ends_like_a_clean_run(
    store: Store, client: OdooClient, simulator: Simulator, kill_after: int
) -> None:
    clock = Clock()
    with store.transaction() as conn:
        for i in range(3):
            lead = conn.execute(
                sa.insert(leads).values(title=f"Crash {kill_after}-{i}").returning(leads.c.id)
            ).scalar_one()
            conn.execute(
                sa.insert(lead_activities).values(lead_id=lead, activity_type="note", description=f"crash note {i}")
            )
            conn.execute(
                sa.text("INSERT INTO scheduled_activities (lead_id, activity_type, summary) VALUES (:l, 'todo', :s)"),
                {"l": lead, "s": f"crash todo {i}"},
            )
    calls = {"n": 0}

    def maybe_die(kind: str) -> None:
        calls["n"] += 1
        if calls["n"] == kill_after:
            raise _Killed(kind)

    with contextlib.suppress(_Killed):
        _engine(store, client, clock, worker="doomed", after_odoo_call=maybe_die).push_all()
    clock.advance(301)  # the dead worker's lease expires
    result = _engine(store, client, clock, worker="survivor").push_all()
    assert result.failed == 0 and _statuses(store) == {"done": 9}
    with simulator.env({"active_test": False}) as env:
        assert env["crm.lead"].search_count([("name", "=like", f"Crash {kill_after}-%")]) == 3
        assert env["mail.message"].search_count([("body", "=like", "crash note %")]) == 3
        assert env["mail.activity"].search_count([("summary", "=like", "crash todo %")]) == 3
    assert _scalar(store, "SELECT count(*) FROM lead_activities WHERE odoo_message_id IS NULL") == 0
    assert _scalar(store, "SELECT count(*) FROM scheduled_activities WHERE odoo_activity_id IS NULL") == 0


def test_fixing_a_failed_create_pushes_the_row_and_deleting_it_pushes_nothing(store: Store, client: OdooClient) -> None:
    _sql(store, "INSERT INTO leads (title, stage) VALUES ('Fix me', 'Nowhere')")
    _sql(store, "INSERT INTO leads (title, stage) VALUES ('Drop me', 'Nowhere')")
    engine = _engine(store, client, Clock())
    assert engine.push_all().failed == 2
    _sql(store, "UPDATE leads SET stage = 'New' WHERE title = 'Fix me'")  # the write becomes the create
    _sql(store, "UPDATE leads SET deleted_at = CURRENT_TIMESTAMP WHERE title = 'Drop me'")
    result = engine.push_all()
    assert (result.created, result.skipped, result.failed) == (1, 1, 0)
    assert client.search_count("crm.lead", [("name", "in", ["Fix me", "Drop me"])], active_test=False) == 1
    assert _scalar(store, "SELECT odoo_id FROM leads WHERE title = 'Fix me'") is not None


@pytest.mark.parametrize("version", ["17.0", "19.0"])
def test_a_won_lead_lost_in_the_app_leaves_the_won_stage_first(store: Store, make_simulator, version: str) -> None:
    """As Odoo's UI: a lead in a won stage is moved out of it before it is lost. Odoo 19
    refuses otherwise ("A lead in a Won stage cannot be lost"); 17 would keep a lost lead
    in a won stage."""
    sim = make_simulator(scale=0.02, seed=1, version=version)
    with _client(sim) as client:
        _pull(client, store, SyncMode.FULL)
        lead_id, odoo_lead = _one(
            store, "SELECT id, odoo_id FROM leads WHERE status = 'won' AND deleted_at IS NULL ORDER BY id LIMIT 1"
        )
        if version == "19.0":
            with pytest.raises(Exception, match="cannot be lost"), sim.env() as env:
                env["crm.lead"].write([odoo_lead], {"active": False, "probability": 0})
        _sql(store, "UPDATE leads SET status = 'lost' WHERE id = :id", id=lead_id)
        result = run_once(_engine(store, client, Clock()))
        assert result.failed == 0 and _statuses(store) == {"done": 1}, result
        [lost] = client.read("crm.lead", [odoo_lead], ["active", "stage_id", "probability"], active_test=False)
        with sim.env() as env:
            won = set(env["crm.stage"].search([("is_won", "=", True)]))
        assert lost["active"] is False and lost["probability"] == 0 and lost["stage_id"][0] not in won
        _pull(client, store)
        assert _scalar(store, "SELECT status FROM leads WHERE id = :id", id=lead_id) == "lost"


def test_different_values_of_one_field_set_go_as_one_load_and_a_vanished_record_is_split_out(
    store: Store, client: OdooClient, simulator: Simulator
) -> None:
    """Ten phone edits, each a different number: one ``load`` whose ``.id`` column names each
    lead, not ten ``write``s. A lead deleted in Odoo meanwhile makes Odoo refuse the whole
    ``load``; the batch splits it into single writes, so the others still land and only
    that one is settled as missing."""
    clock = Clock()
    _pull(client, store, SyncMode.FULL)
    rows = _rows(
        store, "SELECT id, odoo_id FROM leads WHERE odoo_id IS NOT NULL AND status = 'open' ORDER BY id LIMIT 10"
    )
    for lead_id, odoo_id in rows:
        _sql(store, "UPDATE leads SET phone = :p WHERE id = :id", p=f"+1 555 {odoo_id:04d}", id=lead_id)
    simulator.request_log.clear()
    pushed = run_once(_engine(store, client, clock))
    assert (pushed.done, pushed.failed) == (10, 0)
    assert simulator.request_log.count("load", "crm.lead") == 1
    assert simulator.request_log.count("write", "crm.lead") == 0
    with simulator.env({"active_test": False}) as env:
        phones = {r["id"]: r["phone"] for r in env["crm.lead"].read([o for _, o in rows], ["phone"])}
    assert phones == {odoo_id: f"+1 555 {odoo_id:04d}" for _, odoo_id in rows}

    for lead_id, odoo_id in rows:
        _sql(store, "UPDATE leads SET phone = :p WHERE id = :id", p=f"+44 20 {odoo_id:04d}", id=lead_id)
    vanished = rows[3][1]
    with simulator.env() as env:
        env["crm.lead"].unlink([vanished])
    simulator.request_log.clear()
    run_once(_engine(store, client, clock))
    with simulator.env({"active_test": False}) as env:
        phones = {r["id"]: r["phone"] for r in env["crm.lead"].read([o for _, o in rows if o != vanished], ["phone"])}
    assert phones == {odoo_id: f"+44 20 {odoo_id:04d}" for _, odoo_id in rows if odoo_id != vanished}
    assert simulator.request_log.count("load", "crm.lead") == 1  # refused whole, then split
    assert simulator.request_log.count("write", "crm.lead") == len(rows)
    assert _statuses(store).get("queued", 0) + _statuses(store).get("processing", 0) == 0
