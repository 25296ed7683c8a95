"""The distributed engine: ``odoosync worker`` processes running the queued jobs of many backends.

Five simulated Odoo databases (same record ids, different data) and three worker
processes on one PostgreSQL: every fire of a job is one task per backend, run exactly
once; a worker killed with ``kill -9`` mid-job loses nothing (its task is queued again
and finished elsewhere); two backends with the same Odoo ids never mix; a slow backend
does not hold the others up.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from odoosync import backends
from odoosync.service.app import App, settings_for
from odoosync.service.dispatcher import Deferred, Dispatcher
from odoosync.service.task_queue import QUEUE_SCHEMA, TASK_NAME, ensure_queue_schema, make_queue_app, queue_status
from odoosync.settings import Settings
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import leads
from tests.fixtures.backends import leads_by_backend, messages_on_another_backends_lead

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("workers"), pytest.mark.timeout(300)]

NAMES = ("acme", "globex", "initech", "umbrella", "hooli")
SLOW = ("slow", "slower")  # backends made slow on purpose, for the delay and kill tests
HEARTBEAT, STALLED_AFTER = 0.5, 3.0


class Cluster:
    """A database, its simulated Odoo backends, a dispatcher and worker processes."""

    def __init__(self, url: str, sims: dict[str, Simulator], log_dir: Path) -> None:
        self.url = url
        self.sims = sims
        self.log_dir = log_dir
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.retired: set[str] = set()  # stopped on purpose by a test
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("ODOO_", "ODOOSYNC_", "DATABASE_URL"))}
        self.env.update({f"KEY_{name.upper()}": sim.password for name, sim in sims.items()})
        self.env["DATABASE_URL"] = url
        config = log_dir / "odoosync.toml"  # small pages: a job spans many commits, so a kill lands mid-job
        config.write_text("[sync]\npage_size = 10\n")
        self.env["ODOOSYNC_CONFIG"] = str(config)
        self.settings = settings_for(Settings(odoo=None), database_url=url)
        self.store = Store(url).open()

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own descriptor
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "odoosync",
                    "worker",
                    "--name",
                    name,
                    "--heartbeat",
                    str(HEARTBEAT),
                    "--stalled-after",
                    str(STALLED_AFTER),
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.workers[name] = process
        return process

    def retire(self, name: str, sig: signal.Signals) -> int:
        """Stop worker ``name`` with ``sig``; its exit code."""
        self.retired.add(name)
        self.workers[name].send_signal(sig)
        return self.workers[name].wait(60)

    def worker_log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def tasks(self) -> list[dict[str, Any]]:
        with self.store.connect() as conn:
            rows = conn.execute(
                sa.text(
                    f"SELECT id, status::text AS status, args, attempts, queueing_lock"
                    f" FROM {QUEUE_SCHEMA}.procrastinate_jobs WHERE task_name = 'odoosync.run_jobs' ORDER BY id"
                )
            ).mappings()
            return [dict(row) for row in rows]

    def wait(self, done: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            dead = [name for name, p in self.workers.items() if p.poll() is not None and name not in self.retired]
            assert not dead, f"worker(s) {dead} exited: {[self.worker_log(n)[-2000:] for n in dead]}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.tasks()}"
            time.sleep(0.1)

    def drained(self) -> bool:
        return all(task["status"] in ("succeeded", "failed") for task in self.tasks())

    def stop(self) -> None:
        for process in self.workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.store.close()


@pytest.fixture(scope="module")
def cluster(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import psycopg

    from tests.fixtures.databases import _libpq, _unique, _with_database

    name = _unique("workers")
    with psycopg.connect(_libpq(pg_server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(pg_server, name)
    try:
        with ExitStack() as stack:
            with Store(url) as store:
                store.upgrade()
            sims = {
                backend: stack.enter_context(Simulator(0.02, seed=index, db=f"{backend}_crm"))
                for index, backend in enumerate(NAMES + SLOW)
            }
            log_dir = tmp_path_factory.mktemp("workers")
            group = Cluster(url, sims, log_dir)
            stack.callback(group.stop)
            for index, (backend, sim) in enumerate(sims.items()):
                backends.add_backend(
                    group.store,
                    backends.Backend(
                        name=backend,
                        url=sim.url,
                        db=sim.db,
                        login=sim.login,
                        protocol="jsonrpc",
                        app_company_id=index + 1,
                        secret_env=f"KEY_{backend.upper()}",
                    ),
                )
            ensure_queue_schema(group.store)
            for worker in ("w1", "w2", "w3"):
                group.start_worker(worker)
            group.wait(lambda: len(queue_status(group.store).workers) == 3, "three workers to register")
            yield group
    finally:
        with psycopg.connect(_libpq(pg_server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_YEARLY = "0 0 1 1 *"


def _expected_leads(cluster: Cluster, names: tuple[str, ...]) -> dict[tuple[str, int], tuple[str, int]]:
    """What each backend's Odoo holds: ``(backend, id) → (name, app company)``."""
    companies = {b.name: b.app_company_id for b in backends.list_backends(cluster.store)}
    expected = {}
    for name in names:
        with cluster.sims[name].env({"active_test": False}) as env:
            for row in env["crm.lead"].search_read([], ["name"]):
                expected[(name, row["id"])] = (row["name"], companies[name])
    return expected


def _assert_landed_unmixed(cluster: Cluster, names: tuple[str, ...]) -> None:
    with cluster.store.connect() as conn:
        held = {key: value for key, value in leads_by_backend(conn).items() if key[0] in names}
        assert messages_on_another_backends_lead(conn) == 0
    expected = _expected_leads(cluster, names)
    ids = [{odoo_id for backend, odoo_id in expected if backend == name} for name in names]
    assert set.intersection(*ids), "the backends share Odoo ids: the test would prove nothing"
    assert held == expected


def _runs(cluster: Cluster, **where: str) -> Counter[str]:
    """Runs per backend matching ``where`` (column = value)."""
    query = "SELECT backend, count(*) FROM ops.odoo_sync_runs"
    if where:
        query += " WHERE " + " AND ".join(f"{column} = :{column}" for column in where)
    with cluster.store.connect() as conn:
        return Counter(dict(conn.execute(sa.text(query + " GROUP BY backend"), where).all()))


def test_every_fire_is_one_task_per_backend_run_exactly_once_on_one_of_three_workers(cluster: Cluster) -> None:
    schedule = dict.fromkeys(("reference", "reconcile", "verify", "outbox", "sla"), _YEARLY)
    schedule["increments"] = "*/2 * * * * *"
    settings = settings_for(cluster.settings, schedule=schedule)
    everyone = NAMES + SLOW

    def fires() -> set[str]:
        return {t["args"]["period"] for t in cluster.tasks() if t["args"]["jobs"] == ["increments"]}

    with App(settings, engine="procrastinate") as service:
        dispatcher = service.dispatcher
        assert dispatcher is not None
        fired: list[Deferred] = []
        defer = dispatcher.defer

        def counted(job: str, *args: Any, **kwargs: Any) -> Deferred:
            deferred = defer(job, *args, **kwargs)
            if job == "increments":
                fired.append(deferred)
            return deferred

        dispatcher.defer = counted  # type: ignore[method-assign]
        service.start(port=0)
        cluster.wait(lambda: len(fires()) >= 4, "four fires of the increments that queued tasks")
        service.stop()
    cluster.wait(cluster.drained, "the queue to drain")

    tasks = cluster.tasks()
    assert {t["status"] for t in tasks} == {"succeeded"}, tasks
    startups = Counter(t["args"]["backend"] for t in tasks if t["args"]["jobs"] == ["reference", "increments"])
    assert startups == Counter(dict.fromkeys(everyone, 1))
    per_fire = Counter(
        (t["args"]["backend"], t["args"]["period"]) for t in tasks if t["args"]["jobs"] == ["increments"]
    )
    assert max(per_fire.values()) == 1  # never twice in one period
    skipped = _runs(cluster, job="increments", status="skipped")
    queued = Counter(backend for backend, _ in per_fire)
    assert len(fired) >= len(fires()) >= 4
    for name in everyone:  # each fire either queued a task or found the previous one still waiting
        assert queued[name] + skipped[name] == len(fired), (name, queued, skipped)
        assert queued[name] == sum(name in d.queued for d in fired)
    # each task ran its job exactly once: one leads run per task, across the three workers
    leads_runs = _runs(cluster, stream="leads")
    assert leads_runs == Counter({name: startups[name] + queued[name] for name in everyone})
    ran_on = {m for w in cluster.workers for m in re.findall(r"worker (\S+) runs ", cluster.worker_log(w))}
    assert len(ran_on) >= 2, "the jobs were not shared between the workers"
    _assert_landed_unmixed(cluster, everyone)
    assert queue_status(cluster.store).engine == "procrastinate"
    with cluster.store.connect() as conn:  # row-level security on, as on every table odoosync creates
        security = dict(
            conn.execute(
                sa.text(
                    "SELECT c.relname, c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = :s AND c.relkind = 'r'"
                ),
                {"s": QUEUE_SCHEMA},
            ).all()
        )
    assert "procrastinate_jobs" in security and all(security.values()), security


def _task(cluster: Cluster, task_id: int) -> dict[str, Any]:
    return next(t for t in cluster.tasks() if t["id"] == task_id)


def _defer_one(dispatcher: Dispatcher, job: str, backend: str) -> int:
    """Queue ``job`` for ``backend``; the new task's id (the workers' periodic sweep may
    queue its own tasks meanwhile: only this backend's run_jobs tasks are looked at)."""
    before = dispatcher_tasks(dispatcher, backend)
    deferred = dispatcher.defer(job, "api", backends=[backend])
    assert deferred.queued == [backend]
    (new,) = dispatcher_tasks(dispatcher, backend) - before
    return new


def dispatcher_tasks(dispatcher: Dispatcher, backend: str) -> set[int]:
    """The ids of ``backend``'s run_jobs tasks."""
    with dispatcher.store.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"SELECT id FROM {QUEUE_SCHEMA}.procrastinate_jobs WHERE task_name = :task AND args->>'backend' = :b"
            ),
            {"task": TASK_NAME, "b": backend},
        )
        return set(rows.scalars())


@pytest.fixture
def dispatcher(cluster: Cluster) -> Iterator[Dispatcher]:
    app = make_queue_app(cluster.url, pool_size=2).open()
    try:
        yield Dispatcher(app, cluster.settings, cluster.store)
    finally:
        app.close()


def _rename_leads(sim: Simulator, prefix: str) -> dict[int, str]:
    """Give every lead of ``sim`` a new name (one write each, as users do); the names by id."""
    with sim.env({"active_test": False}) as env:
        ids = [row["id"] for row in env["crm.lead"].search_read([], ["id"])]
        for lead_id in ids:
            env["crm.lead"].write([lead_id], {"name": f"{prefix} {lead_id}"})
    return {lead_id: f"{prefix} {lead_id}" for lead_id in ids}


def test_a_slow_backend_does_not_delay_the_others(cluster: Cluster, dispatcher: Dispatcher) -> None:
    slow = cluster.sims["slow"]
    _rename_leads(slow, "Slowly renamed")
    slow.latency_ms = 250
    try:
        slow_task = _defer_one(dispatcher, "increments", "slow")
        cluster.wait(lambda: _task(cluster, slow_task)["status"] == "doing", "the slow backend's job to start")
        renamed = {name: _rename_leads(cluster.sims[name], f"{name} renamed") for name in NAMES}
        others = [_defer_one(dispatcher, "increments", name) for name in NAMES]
        cluster.wait(lambda: all(_task(cluster, t)["status"] == "succeeded" for t in others), "the other backends")
        assert _task(cluster, slow_task)["status"] == "doing"  # still on its slow Odoo, the others done
        with cluster.store.connect() as conn:
            held = leads_by_backend(conn)
        for name in NAMES:
            assert {i: held[(name, i)][0] for i in renamed[name]} == renamed[name]
    finally:
        slow.latency_ms = 0
    cluster.wait(lambda: _task(cluster, slow_task)["status"] == "succeeded", "the slow backend's job")
    _assert_landed_unmixed(cluster, (*NAMES, "slow"))


def test_a_worker_killed_mid_job_loses_nothing_and_its_job_runs_again(cluster: Cluster, dispatcher: Dispatcher) -> None:
    victim_sim = cluster.sims["slower"]
    renamed = _rename_leads(victim_sim, "Renamed before the kill")
    victim_sim.latency_ms = 300
    try:
        task_id = _defer_one(dispatcher, "increments", "slower")
        cluster.wait(lambda: _task(cluster, task_id)["status"] == "doing", "the job to start")
        cluster.wait(lambda: _takers(cluster, task_id) != [], "a worker's log to name the job")
        holder = _takers(cluster, task_id)[-1]
        cluster.wait(lambda: _landed(cluster, "slower", "Renamed before the kill") >= 10, "a page committed")
        assert _landed(cluster, "slower", "Renamed before the kill") < len(renamed)  # killed mid-job
        assert cluster.retire(holder, signal.SIGKILL) == -signal.SIGKILL
        cluster.start_worker(f"{holder}-again")  # three workers again; any of them may take the job
    finally:
        victim_sim.latency_ms = 0
    cluster.wait(lambda: _task(cluster, task_id)["status"] == "succeeded", "the job to run again", timeout=180)
    task = _task(cluster, task_id)
    assert task["attempts"] >= 1
    finished = [
        name
        for name in cluster.workers
        if re.search(rf"run_jobs\[{task_id}\].*ended with status: Success", cluster.worker_log(name))
    ]
    assert len(finished) == 1 and finished != [holder], (holder, finished)
    with cluster.store.connect() as conn:
        held = leads_by_backend(conn)
    assert {i: held[("slower", i)][0] for i in renamed} == renamed
    _assert_landed_unmixed(cluster, NAMES + SLOW)


def _takers(cluster: Cluster, task_id: int) -> list[str]:
    """The workers whose log says they started task ``task_id``."""
    started = re.compile(rf"Starting job odoosync\.run_jobs\[{task_id}\]\(")
    return [name for name in cluster.workers if started.search(cluster.worker_log(name))]


def _landed(cluster: Cluster, backend: str, prefix: str) -> int:
    """Leads of ``backend`` whose title the running job has committed so far."""
    with cluster.store.connect() as conn:
        query = sa.select(sa.func.count()).where(leads.c.odoo_backend == backend, leads.c.title.startswith(prefix))
        return int(conn.execute(query).scalar_one())


def test_webhooks_are_routed_per_backend_and_the_api_shows_workers_and_queues(cluster: Cluster) -> None:
    import httpx

    secret = "webhook-secret-for-the-workers-test"
    schedule = dict.fromkeys(("increments", "reference", "reconcile", "verify", "outbox", "sla"), _YEARLY)
    settings = settings_for(cluster.settings, schedule=schedule, webhook_secret=secret)
    cluster.wait(cluster.drained, "the queue to drain")
    before = {t["id"] for t in cluster.tasks()}
    with App(settings, engine="procrastinate", catch_up=False) as service:
        base = service.start(port=0)
        hook = f"{base}/api/webhooks/odoo"
        change = {"_model": "crm.lead", "_id": 1}
        for _ in range(2):  # the second coalesces with the first while it waits or runs
            answer = httpx.post(hook, params={"token": secret, "backend": "globex"}, json=change)
            assert answer.status_code == 202, answer.text
            assert answer.json()["queued"]["backend"] == "globex"
        unknown = httpx.post(hook, params={"token": secret, "backend": "nope"}, json=change)
        assert unknown.status_code == 404 and "nope" not in unknown.text
        cluster.wait(cluster.drained, "the webhook's increments")
        reconcile = httpx.post(f"{base}/api/jobs/reconcile")  # what pg_cron calls: queued for every backend
        assert reconcile.status_code == 202 and sorted(reconcile.json()["queued"]) == sorted(NAMES + SLOW)
        workers = httpx.get(f"{base}/api/workers").json()
        assert service.dispatcher is not None
        service.dispatcher.defer("startup", backends=["globex", "hooli"], jobs=["reference", "increments"])
        cluster.wait(cluster.drained, "two backends synced")
        statuses = {
            name: {s["stream"]: s for s in httpx.get(f"{base}/api/status", params={"backend": name}).json()["streams"]}
            for name in ("globex", "hooli", "default")
        }
        service.stop()
    new = [t for t in cluster.tasks() if t["id"] not in before and t["args"]["trigger"] == "webhook"]
    assert {t["args"]["backend"] for t in new} == {"globex"}
    assert 1 <= len(new) <= 2
    by_api = [t for t in cluster.tasks() if t["id"] not in before and t["args"]["jobs"] == ["reconcile"]]
    assert sorted(t["args"]["backend"] for t in by_api) == sorted(NAMES + SLOW)
    assert {t["status"] for t in by_api} == {"succeeded"}
    assert workers["engine"] == "procrastinate"
    assert len(workers["workers"]) >= 3
    assert {"backend", "task_name", "status", "count"} <= set(workers["jobs"][0])
    # each backend's own freshness and rows: the runs and rows of that backend only
    with cluster.store.connect() as conn:
        held = Counter(backend for backend, _ in leads_by_backend(conn))
    for name in ("globex", "hooli"):
        assert statuses[name]["leads"]["rows"] == held[name] > 0
        run_id = statuses[name]["leads"]["last_run"]["id"]
        with cluster.store.connect() as conn:
            ran_for = conn.execute(sa.text("SELECT backend FROM ops.odoo_sync_runs WHERE id = :i"), {"i": run_id})
            assert ran_for.scalar_one() == name
    assert "leads" not in statuses["default"]  # no Odoo of the settings here: no runs, no rows
    cluster.wait(cluster.drained, "the queue to drain")


@pytest.mark.parametrize(
    "args",
    [
        ("worker",),
        ("serve", "--engine", "procrastinate", "--port", "8799"),
    ],
    ids=["worker", "serve"],
)
def test_the_distributed_engine_on_sqlite_is_refused_naming_postgresql(args: tuple[str, ...], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from odoosync.cli import app

    database = tmp_path / "odoosync.db"
    result = CliRunner().invoke(app, list(args), env={"DATABASE_URL": f"sqlite:///{database}", "COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert "needs PostgreSQL" in result.stderr and "DATABASE_URL=postgresql" in result.stderr
    assert not database.exists()  # refused before anything was created


def test_an_unknown_engine_and_a_heartbeat_too_close_to_the_stall_limit_are_refused(pg_url: str) -> None:
    from typer.testing import CliRunner

    from odoosync.cli import app

    env = {"DATABASE_URL": pg_url, "COLUMNS": "200"}
    engine = CliRunner().invoke(app, ["serve", "--engine", "celery", "--port", "8799"], env=env)
    assert engine.exit_code == 2 and "engine must be one of in-process, procrastinate" in engine.stderr
    heartbeat = CliRunner().invoke(app, ["worker", "--heartbeat", "30", "--stalled-after", "40"], env=env)
    assert heartbeat.exit_code == 2 and "--stalled-after must be more than twice --heartbeat" in heartbeat.output
    with Store(pg_url) as store, store.connect() as conn:  # nothing of the queue was created
        assert conn.execute(sa.text(f"SELECT to_regclass('{QUEUE_SCHEMA}.procrastinate_jobs')")).scalar() is None


def test_sigterm_finishes_the_page_closes_the_run_as_partial_and_another_worker_finishes_the_task(
    cluster: Cluster, dispatcher: Dispatcher
) -> None:
    victim_sim = cluster.sims["slower"]
    renamed = _rename_leads(victim_sim, "Renamed before the SIGTERM")
    victim_sim.latency_ms = 300
    try:
        task_id = _defer_one(dispatcher, "increments", "slower")
        cluster.wait(lambda: _takers(cluster, task_id) != [], "a worker to take the job")
        holder = _takers(cluster, task_id)[-1]
        cluster.wait(lambda: _landed(cluster, "slower", "Renamed before the SIGTERM") >= 10, "a page committed")
        assert cluster.retire(holder, signal.SIGTERM) == 0  # a clean exit, after the page in flight
        cluster.start_worker(f"{holder}-after-term")
    finally:
        victim_sim.latency_ms = 0
    with cluster.store.connect() as conn:
        stopped = conn.execute(
            sa.text(
                "SELECT status, remaining FROM ops.odoo_sync_runs WHERE backend = 'slower' AND stream = 'leads'"
                " ORDER BY id DESC LIMIT 1"
            )
        ).one()
    assert tuple(stopped) == ("partial", True)
    assert _landed(cluster, "slower", "Renamed before the SIGTERM") < len(renamed)
    # not called done: queued again, and finished from the checkpoints by another worker
    cluster.wait(lambda: _task(cluster, task_id)["status"] == "succeeded", "the task to run again", timeout=180)
    assert _task(cluster, task_id)["attempts"] >= 2
    finished = [
        name
        for name in cluster.workers
        if re.search(rf"run_jobs\[{task_id}\].*ended with status: Success", cluster.worker_log(name))
    ]
    assert finished and holder not in finished, (holder, finished)
    with cluster.store.connect() as conn:
        held = leads_by_backend(conn)
    assert {i: held[("slower", i)][0] for i in renamed} == renamed
