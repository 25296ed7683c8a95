"""The API's guards over real HTTP: body limits before authentication, Host and Origin
checks (cross-site state changes, DNS rebinding), a cap on open event streams that keeps
``/api/health`` answering, and webhook ids too long for an integer.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from odoosync.service.events import EventBus
from odoosync.web.app import WebContext, create_app
from odoosync.web.auth import Tokens
from tests.fixtures.service import ADMIN_TOKEN, READ_TOKEN, running_api

HOOK_SECRET = "hook-7c1d"


@pytest.fixture
def open_api(store) -> Iterator:
    """The API without tokens: what `odoosync serve` runs on loopback by default."""
    with running_api(WebContext(store=store, events=EventBus())) as server:
        yield server


@pytest.fixture
def token_api(store) -> Iterator:
    context = WebContext(
        store=store, tokens=Tokens(admin=ADMIN_TOKEN, read=READ_TOKEN), events=EventBus(), webhook_secret=HOOK_SECRET
    )
    with running_api(context) as server:
        yield server


def _routes() -> list[tuple[str, str]]:
    app = create_app(WebContext(store=None))  # type: ignore[arg-type] - routes only, never served
    found = []
    for route in app.routes:
        for method in sorted(getattr(route, "methods", ()) or ()):
            if method != "HEAD":
                found.append((method, route.path.replace("{", "").replace("}", "")))
    return found


# ---------------------------------------------------------------------------- 10: body sizes


def test_every_route_refuses_a_large_body_before_authentication(token_api) -> None:
    client = token_api.client(None)  # no token: the answer would be 401 after reading the body
    big = b"x" * (2 * 1024 * 1024)
    routes = _routes()
    assert len(routes) > 20
    for method, path in routes:
        answer = client.request(method, path, content=big, headers={"Content-Type": "application/json"})
        assert answer.status_code == 413, (method, path, answer.status_code)


def test_a_chunked_body_is_answered_before_it_ends(token_api) -> None:
    """2 MB of a chunked body that never ends: the 413 comes without waiting for the rest."""
    host, port = token_api.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            b"POST /api/sync/leads HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" % (host.encode(), port.encode())
        )
        chunk = b"x" * 65536
        for _ in range(32):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]


def test_a_webhook_body_over_its_own_limit_is_refused(token_api) -> None:
    answer = token_api.client(None).post(f"/api/webhooks/odoo?token={HOOK_SECRET}", content=b" " * 70000)
    assert answer.status_code == 413


# ---------------------------------------------------------------------------- 11: Host and Origin


def test_cross_site_state_changes_are_refused_without_a_token(open_api) -> None:
    client = open_api.client(None)
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
        answer = client.post("/api/schedule/increments/pause", headers=headers)
        assert answer.status_code == 403, headers
        assert "cross-site" in answer.json()["detail"]
        answer = client.post("/api/outbox/retry", headers={**headers, "Content-Type": "text/plain"}, content=b"{}")
        assert answer.status_code == 403
    same = client.post("/api/outbox/retry", headers={"Origin": open_api.url}, json={})
    assert same.status_code == 200 and same.json() == {"requeued": 0}
    assert client.post("/api/outbox/retry", json={}).status_code == 200  # curl, pg_net: no Origin


def test_a_rebound_host_name_reads_nothing_without_a_token(open_api) -> None:
    client = open_api.client(None)
    for host in ("evil.example", "evil.example:80", "127.0.0.1.evil.example"):
        answer = client.get("/api/dashboard/leads", headers={"Host": host})
        assert answer.status_code == 421, host
        assert "loopback" in answer.json()["detail"]
    port = open_api.url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "[::1]"):
        assert client.get("/api/status", headers={"Host": host}).status_code == 200, host


def test_with_tokens_any_host_name_is_served(token_api) -> None:
    answer = token_api.client(READ_TOKEN).get("/api/status", headers={"Host": "sync.example.com"})
    assert answer.status_code == 200
    refused = token_api.client(ADMIN_TOKEN).post(
        "/api/outbox/retry", json={}, headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403


# ---------------------------------------------------------------------------- 12: event streams


def _open_stream(
    url: str, status: dict[int, int], lock: threading.Lock, ready: threading.Barrier, local_address: str
) -> None:
    transport = httpx.HTTPTransport(local_address=local_address)
    with httpx.Client(base_url=url, transport=transport, timeout=30) as client:
        with client.stream("GET", "/api/events?max_seconds=30&heartbeat=1") as response:
            with lock:
                status[response.status_code] = status.get(response.status_code, 0) + 1
            ready.wait()
            if response.status_code == 200:
                next(response.iter_lines())  # ": connected"; then hold the stream until the test ends


def _streams_from(api, addresses: list[str], per_address: int) -> tuple[dict[int, int], list[threading.Thread]]:
    """Open ``per_address`` event streams from each loopback address; the answers by
    status once every stream got one (the accepted ones stay open) and the threads."""
    status: dict[int, int] = {}
    lock = threading.Lock()
    ready = threading.Barrier(len(addresses) * per_address + 1)
    threads = [
        threading.Thread(target=_open_stream, args=(api.url, status, lock, ready, address), daemon=True)
        for address in addresses
        for _ in range(per_address)
    ]
    for thread in threads:
        thread.start()
    ready.wait()
    with lock:
        return dict(status), threads


def _close_streams(api, threads: list[threading.Thread]) -> None:
    api.context.events.close()  # the open streams end
    for thread in threads:
        thread.join(30)


def test_event_streams_are_capped_and_health_keeps_answering(open_api) -> None:
    # 3 clients (addresses) x 10 streams each = 30 attempts: 4 per client, 16 in total at most
    status, threads = _streams_from(open_api, ["127.0.0.1", "127.0.0.2", "127.0.0.3"], 10)
    assert status == {200: 12, 429: 18}
    health = httpx.get(f"{open_api.url}/api/health", timeout=30)
    assert health.status_code == 200
    _close_streams(open_api, threads)
    # slots released: each as its stream's handler finishes, just after the client saw the end
    client, deadline = open_api.client(None), time.monotonic() + 10
    while (code := client.get("/api/events?max_seconds=0.1").status_code) == 429 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert code == 200


def test_the_total_cap_holds_across_clients(open_api) -> None:
    status, threads = _streams_from(open_api, [f"127.0.0.{n}" for n in range(1, 6)], 5)
    assert status == {200: 16, 429: 9}
    _close_streams(open_api, threads)


# ---------------------------------------------------------------------------- 14: webhook ids


def test_a_five_thousand_digit_webhook_id_is_a_422(token_api) -> None:
    body = b'{"_model": "crm.lead", "_id": ' + b"9" * 5000 + b"}"
    answer = token_api.client(None).post(f"/api/webhooks/odoo?token={HOOK_SECRET}", content=body)
    assert answer.status_code == 422
    assert "Traceback" not in answer.text and "9999" not in answer.text
    assert "integers up to 2^62" in answer.json()["detail"]
