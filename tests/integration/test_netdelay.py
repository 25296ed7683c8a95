"""The benchmarks' TCP latency proxy, in front of a real TCP echo server."""

from __future__ import annotations

import random
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from bench.netdelay import DelayProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)
        self.request.shutdown(socket.SHUT_WR)


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _read_to_eof(sock: socket.socket) -> bytes:
    received = bytearray()
    while data := sock.recv(65536):
        received += data
    return bytes(received)


def _echo_through(port: int, seed: int) -> tuple[bytes, bytes]:
    """Send many chunks of varied sizes while the echoes stream back; returns (sent, received)."""
    rng = random.Random(seed)
    chunks = [rng.randbytes(rng.choice([1, 7, 300, 5000, 70000])) for _ in range(300)]
    with socket.create_connection(("127.0.0.1", port)) as sock:

        def send() -> None:
            for chunk in chunks:
                sock.sendall(chunk)
            sock.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send)
        sender.start()
        received = _read_to_eof(sock)
        sender.join()
    return b"".join(chunks), received


def test_bytes_arrive_intact_and_in_order_both_ways_on_several_connections(echo_port: int) -> None:
    results: list[tuple[bytes, bytes]] = []
    with DelayProxy("127.0.0.1", echo_port, latency_ms=10) as proxy:
        workers = [
            threading.Thread(target=lambda s=seed: results.append(_echo_through(proxy.port, s))) for seed in range(3)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert len(results) == 3
    for sent, received in results:
        assert len(sent) > 1_000_000
        assert received == sent


def test_a_round_trip_costs_at_least_the_configured_latency(echo_port: int) -> None:
    with (
        DelayProxy("127.0.0.1", echo_port, latency_ms=60) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port)) as sock,
    ):
        for _ in range(3):
            started = time.monotonic()
            sock.sendall(b"ping")
            answer = b""
            while len(answer) < 4:
                answer += sock.recv(4)
            assert answer == b"ping"
            assert time.monotonic() - started >= 0.060


def test_an_unreachable_server_closes_the_client_connection() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    with (
        DelayProxy("127.0.0.1", free_port, latency_ms=10) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port)) as sock,
    ):
        assert _read_to_eof(sock) == b""
