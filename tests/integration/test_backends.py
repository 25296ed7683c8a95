"""Many Odoo backends in one app database: ``ops.odoo_backends``, secrets by reference,
and two simulated Odoo databases with the same record ids that never mix (pull, verify,
app edits queued and pushed per backend)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from odoosync import backends
from odoosync.exceptions import ConfigError
from odoosync.odoo.client import OdooClient
from odoosync.pull import PullOptions
from odoosync.push.engine import PushEngine
from odoosync.service.operations import run_sync, run_verify
from odoosync.settings import Settings
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import customers, lead_activities, leads, odoo_backends, odoo_outbox, odoo_stages
from tests.fixtures.backends import leads_by_backend, messages_on_another_backends_lead
from tests.fixtures.pull import odoo_config_for

SECRET = "s3cr3t-api-key-never-stored"


def _backend(name: str, sim: Simulator, **overrides: object) -> backends.Backend:
    values: dict = {
        "name": name,
        "url": sim.url,
        "db": sim.db,
        "login": sim.login,
        "protocol": "jsonrpc",
        "secret_env": f"KEY_{name.upper()}",
    }
    values.update(overrides)
    return backends.Backend(**values)


def test_a_backend_is_stored_with_its_secret_by_reference_only(store: Store, simulator: Simulator) -> None:
    backends.add_backend(store, _backend("acme", simulator, company_ids=(1,), app_company_id=7))
    assert [b.name for b in backends.list_backends(store)] == ["acme"]
    settings = Settings(odoo=None, database_url="unused")
    config = backends.odoo_config(settings, store, "acme", env={"KEY_ACME": SECRET})
    assert (config.name, config.url, config.db, config.company_ids, config.secret) == (
        "acme",
        simulator.url,
        simulator.db,
        (1,),
        SECRET,
    )
    assert SECRET not in repr(config)
    assert backends.app_company_id(store, "acme") == 7
    with store.connect() as conn:
        stored = json.dumps([dict(r) for r in conn.execute(sa.select(odoo_backends)).mappings()], default=str)
    assert SECRET not in stored and "KEY_ACME" in stored
    assert backends.backend_names(settings, store) == ["acme"]
    backends.remove_backend(store, "acme")
    assert backends.list_backends(store) == []


def test_bad_backends_are_refused_naming_every_problem_and_nothing_is_written(
    store: Store, simulator: Simulator
) -> None:
    bad = _backend("Bad Name", simulator, url="ftp://x", protocol="soap", secret_env=None)
    with pytest.raises(ConfigError) as refused:
        backends.add_backend(store, bad)
    text = str(refused.value)
    for fragment in ("backend name 'Bad Name'", "http://", "protocol", "by reference"):
        assert fragment in text
    with pytest.raises(ConfigError, match="'default' is the Odoo of the settings"):
        backends.add_backend(store, _backend("default", simulator))
    backends.add_backend(store, _backend("acme", simulator))
    with pytest.raises(ConfigError, match="exists already"):
        backends.add_backend(store, _backend("acme", simulator, db="other"))
    with pytest.raises(ConfigError, match=r"no backend named 'nope' \(known: default, acme\)"):
        backends.odoo_config(Settings(odoo=None), store, "nope")
    assert [(b.name, b.db) for b in backends.list_backends(store)] == [("acme", simulator.db)]


def test_the_secret_is_read_from_its_file_again_after_rotation(
    store: Store, simulator: Simulator, tmp_path: Path
) -> None:
    secret_file = tmp_path / "acme.key"
    secret_file.write_text(simulator.password + "\n")
    backends.add_backend(store, _backend("acme", simulator, secret_env=None, secret_file=str(secret_file)))
    config = backends.odoo_config(Settings(odoo=None), store, "acme")
    with OdooClient(config) as client:
        assert client.uid == simulator.uid
    secret_file.write_text("rotated")
    assert config.secret == "rotated"
    secret_file.unlink()
    with pytest.raises(ConfigError, match="cannot read its secret file") as missing:
        backends.odoo_config(Settings(odoo=None), store, "acme")
    assert "rotated" not in str(missing.value)


def test_a_missing_secret_names_its_variable_not_a_value(store: Store, simulator: Simulator) -> None:
    backends.add_backend(store, _backend("acme", simulator))
    with pytest.raises(ConfigError, match=r"backend 'acme': its secret \(env:KEY_ACME\) is not set"):
        backends.odoo_config(Settings(odoo=None), store, "acme", env={})


def test_default_is_the_odoo_of_the_settings(store: Store, simulator: Simulator) -> None:
    config = odoo_config_for(simulator)
    assert backends.odoo_config(Settings(odoo=config), store) is config
    assert backends.backend_names(Settings(odoo=config), store) == ["default"]
    assert backends.app_company_id(store, "default") is None


def _client(sim: Simulator, name: str, opened: list[OdooClient]) -> OdooClient:
    client = OdooClient(dataclasses.replace(odoo_config_for(sim, company_ids=(1, 2)), name=name)).open()
    opened.append(client)
    return client


@pytest.fixture
def two_backends(make_simulator: Callable[..., Simulator]) -> tuple[Simulator, Simulator]:
    """Two Odoo databases made from different seeds: the same ids, different records."""
    return make_simulator(0.02, 0, db="alpha_crm"), make_simulator(0.02, 1, db="beta_crm")


def test_two_backends_with_the_same_odoo_ids_never_mix(store: Store, two_backends: tuple[Simulator, Simulator]) -> None:
    alpha, beta = two_backends
    opened: list[OdooClient] = []
    try:
        clients = {"alpha": _client(alpha, "alpha", opened), "beta": _client(beta, "beta", opened)}
        for company, (name, client) in enumerate(clients.items(), start=1):
            report = run_sync(client, store, "all", PullOptions(company_id=company), backend=name)
            assert report.as_dict()["ok"], report.as_dict()
        expected = {}
        for name, sim in (("alpha", alpha), ("beta", beta)):
            with sim.env({"active_test": False}) as env:
                expected[name] = {r["id"]: r["name"] for r in env["crm.lead"].search_read([], ["name"])}
        shared = set(expected["alpha"]) & set(expected["beta"])
        assert shared and any(expected["alpha"][i] != expected["beta"][i] for i in shared)
        with store.connect() as conn:
            held = leads_by_backend(conn)
            # every message hangs off a lead of its own backend; customers of a lead are its company's
            crossed = messages_on_another_backends_lead(conn)
            foreign_customers = conn.execute(
                sa.select(sa.func.count())
                .select_from(leads.join(customers, customers.c.id == leads.c.customer_id))
                .where(customers.c.company_id != leads.c.company_id)
            ).scalar_one()
            stages = dict(
                conn.execute(sa.select(odoo_stages.c.backend, sa.func.count()).group_by(odoo_stages.c.backend)).all()
            )
        assert held == {
            **{("alpha", i): (t, 1) for i, t in expected["alpha"].items()},
            **{("beta", i): (t, 2) for i, t in expected["beta"].items()},
        }
        assert crossed == 0 and foreign_customers == 0
        assert set(stages) == {"alpha", "beta"}
        for name, client in clients.items():  # each backend verifies clean against its own Odoo
            assert run_verify(client, store, "all", backend=name).drift == 0

        # a change in beta's Odoo reaches beta's row only
        shared_id = min(shared)
        with beta.env() as env:
            env["crm.lead"].write([shared_id], {"name": "Renamed in beta"})
        run_sync(clients["beta"], store, "leads", PullOptions(company_id=2), backend="beta")
        with store.connect() as conn:
            titles = dict(
                conn.execute(sa.select(leads.c.odoo_backend, leads.c.title).where(leads.c.odoo_id == shared_id)).all()
            )
        assert titles == {"alpha": expected["alpha"][shared_id], "beta": "Renamed in beta"}

        # an app edit of alpha's lead, and a note on it, are queued under alpha and pushed to alpha's Odoo only
        with store.transaction() as conn:
            alpha_lead = conn.execute(
                sa.update(leads)
                .where(leads.c.odoo_backend == "alpha", leads.c.odoo_id == shared_id)
                .values(title="Edited in the app")
                .returning(leads.c.id)
            ).scalar_one()
            note = conn.execute(
                sa.insert(lead_activities)
                .values(lead_id=alpha_lead, activity_type="note", description="Called them")
                .returning(lead_activities.c.id)
            ).scalar_one()
            queued = conn.execute(sa.select(odoo_outbox.c.backend, odoo_outbox.c.model)).all()
        assert sorted(queued) == [("alpha", "crm.lead"), ("alpha", "mail.message")]
        assert PushEngine(store, clients["beta"], backend="beta").push_all().claimed == 0
        pushed = PushEngine(store, clients["alpha"], backend="alpha").push_all()
        assert (pushed.written, pushed.created, pushed.failed) == (1, 1, 0)
        for sim, title in ((alpha, "Edited in the app"), (beta, "Renamed in beta")):
            with sim.env({"active_test": False}) as env:
                assert env["crm.lead"].read([shared_id], ["name"])[0]["name"] == title
        with store.connect() as conn:
            bound = conn.execute(
                sa.select(lead_activities.c.odoo_backend, lead_activities.c.odoo_message_id).where(
                    lead_activities.c.id == note
                )
            ).one()
        with alpha.env() as env:
            assert bound[0] == "alpha" and env["mail.message"].read([bound[1]], ["res_id"])[0]["res_id"] == shared_id
        run_sync(clients["alpha"], store, "chatter", PullOptions(company_id=1), backend="alpha")
        with store.connect() as conn:  # the pushed note comes back as itself, not as a second row
            notes = conn.execute(
                sa.select(sa.func.count()).where(lead_activities.c.description == "Called them")
            ).scalar_one()
            assert notes == 1 and messages_on_another_backends_lead(conn) == 0
    finally:
        for client in opened:
            client.close()
