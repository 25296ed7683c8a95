"""A PostgreSQL restart under the service: the outbox listener reconnects with backoff,
and ``/api/health`` names what is down (503) until everything is back.

A throwaway cluster (``pg_ctl``, tests/fixtures/databases.py) is stopped and started
again under a running ``OutboxWaker`` and the real API over HTTP; the machine's main
server is never touched.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import sqlalchemy as sa

from odoosync.push.outbox import OutboxWaker
from odoosync.service.events import EventBus
from odoosync.store import Store
from odoosync.store.schema import leads
from odoosync.web.app import WebContext
from tests.fixtures.databases import _find_pg_bin, _ThrowawayCluster
from tests.fixtures.service import running_api

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


class Cluster:
    """A throwaway cluster that can be stopped and started again on the same port."""

    def __init__(self, cluster: _ThrowawayCluster, url: str) -> None:
        self.cluster, self.url = cluster, url
        self.port = sa.make_url(url).port

    def down(self) -> None:
        self.cluster._run("pg_ctl", "-D", str(self.cluster.data), "-m", "fast", "-w", "stop")

    def up(self) -> None:
        options = f"-p {self.port} -k {self.cluster.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.cluster._run(
            "pg_ctl", "-D", str(self.cluster.data), "-o", options, "-l", str(self.cluster.dir / "log"), "-w", "start"
        )


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bindir = _find_pg_bin()
    if bindir is None:
        pytest.skip("no initdb/pg_ctl for a throwaway cluster")
    try:
        throwaway = _ThrowawayCluster.create(bindir)
        url = throwaway.start()
    except Exception as exc:  # noqa: BLE001 - no cluster on this machine
        pytest.skip(f"could not start a throwaway cluster: {exc}")
    try:
        yield Cluster(throwaway, url)
    finally:
        throwaway.stop()


def _until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)


def _health(url: str) -> tuple[int, dict]:
    try:
        answer = httpx.get(f"{url}/api/health", timeout=30)
    except httpx.HTTPError:
        return 0, {}
    return answer.status_code, answer.json()


def test_the_listener_survives_a_database_restart_and_health_tells(cluster: Cluster) -> None:
    with Store(cluster.url) as store:
        store.upgrade()
        woken = threading.Event()
        waker = OutboxWaker(store, woken.set, poll_seconds=0.2).start()
        try:
            context = WebContext(store=store, events=EventBus(), components={"listener": waker.problem})
            with running_api(context) as api:
                _until(lambda: _health(api.url)[0] == 200, "listener up")
                woken.clear()
                with store.transaction() as conn:
                    conn.execute(sa.insert(leads).values(title="before the restart"))
                _until(woken.is_set, "a NOTIFY before the restart")

                cluster.down()
                _until(
                    lambda: _health(api.url)[1].get("components", {}).get("listener", {}).get("ok") is False,
                    "the listener reported down",
                )
                code, body = _health(api.url)
                assert code == 503 and body["ok"] is False
                assert body["components"]["database"]["ok"] is False

                cluster.up()
                _until(lambda: _health(api.url)[0] == 200, "every component back")
                woken.clear()
                with store.transaction() as conn:
                    conn.execute(sa.insert(leads).values(title="after the restart"))
                _until(woken.is_set, "a NOTIFY after the restart: the listener reconnected")
                assert waker.problem() is None
        finally:
            waker.stop()
