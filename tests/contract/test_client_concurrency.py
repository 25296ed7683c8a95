"""The concurrency limit holds across threads, seen from the server's side.

A small local JSON-RPC server counts the requests it is serving at once and holds every
data request at a gate. The test starts more calls than the limit, waits until the
limit is reached, gives any extra request a moment to arrive (an unlimited client sends
them all), then opens the gate: the high-water mark must equal the limit. Only counts
are asserted, never durations.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from odoosync.exceptions import MissingRecord
from odoosync.odoo import OdooClient, OdooConfig

LIMIT = 3


class _CountingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.high_water = 0
        self.served = 0
        self.changed = threading.Condition(self.lock)
        self.gate = threading.Event()

    def wait_until_limit_reached_then_open(self) -> int:
        """Block until ``LIMIT`` requests are held; let extras arrive; open the gate."""
        with self.changed:
            assert self.changed.wait_for(lambda: self.in_flight >= LIMIT, timeout=10)
        time.sleep(0.3)  # room for a request beyond the limit to show up (none should)
        with self.lock:
            observed = self.in_flight
        self.gate.set()
        return observed


class _Handler(BaseHTTPRequestHandler):
    server: _CountingServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        service, method, args = body["params"]["service"], body["params"]["method"], body["params"]["args"]
        if service == "common":
            answer = {"jsonrpc": "2.0", "id": body["id"], "result": 2 if method == "login" else {}}
        else:
            server = self.server
            with server.changed:
                server.in_flight += 1
                server.high_water = max(server.high_water, server.in_flight)
                server.changed.notify_all()
            try:
                server.gate.wait(timeout=10)
            finally:
                with server.lock:
                    server.in_flight -= 1
                    server.served += 1
            record_id = args[5][0][0]
            if record_id < 0:
                error = {
                    "name": "odoo.exceptions.MissingError",
                    "message": "Record does not exist or has been deleted.",
                }
                answer = {
                    "jsonrpc": "2.0",
                    "id": body["id"],
                    "error": {"code": 200, "message": "Odoo Server Error", "data": error},
                }
            else:
                answer = {"jsonrpc": "2.0", "id": body["id"], "result": [{"id": record_id}]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def counting_server() -> Iterator[_CountingServer]:
    server = _CountingServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def client(counting_server: _CountingServer) -> Iterator[OdooClient]:
    host, port = counting_server.server_address[:2]
    config = OdooConfig(
        url=f"http://{host}:{port}", db="db", username="admin", password="pw", protocol="jsonrpc", max_concurrency=LIMIT
    )
    with OdooClient(config) as client:
        yield client


def _read(client: OdooClient, record_id: int) -> int:
    return client.read("x.model", [record_id], ["id"], normalize=False)[0]["id"]


def _in_background(fn) -> tuple[threading.Thread, list]:
    outcome: list = []
    thread = threading.Thread(target=lambda: outcome.append(fn()))
    thread.start()
    return thread, outcome


def test_map_concurrent_never_exceeds_the_limit_and_keeps_input_order(client, counting_server):
    items = list(range(1, 4 * LIMIT + 1))
    thread, outcome = _in_background(lambda: client.map_concurrent(lambda i: _read(client, i), items))
    assert counting_server.wait_until_limit_reached_then_open() == LIMIT
    thread.join()
    assert outcome == [items]
    assert counting_server.served == len(items)
    assert counting_server.high_water == LIMIT
    assert client.stats.snapshot().in_flight_max == LIMIT


def test_the_limit_holds_for_threads_the_client_does_not_own(client, counting_server):
    results: dict[int, int] = {}

    def work(i: int) -> None:
        results[i] = _read(client, i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(1, 3 * LIMIT + 1)]
    for thread in threads:
        thread.start()
    assert counting_server.wait_until_limit_reached_then_open() == LIMIT
    for thread in threads:
        thread.join()
    assert results == {i: i for i in range(1, 3 * LIMIT + 1)}
    assert counting_server.high_water == LIMIT


def test_map_concurrent_raises_the_first_error(client, counting_server):
    counting_server.gate.set()
    with pytest.raises(MissingRecord):
        client.map_concurrent(lambda i: _read(client, i), [1, 2, -3])
