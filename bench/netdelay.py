"""A TCP proxy that puts a fixed network distance between a client and a server.

The benchmarks use it to place PostgreSQL "across a network": every round trip the
driver makes (statements, but also BEGIN/COMMIT, connection start-up, pool pre-pings)
pays the distance, which a hook on statement execution cannot see. Each chunk read from
one side is written to the other ``latency_ms / 2`` after it arrived, so one
request/response costs ``latency_ms``. Each direction has its own queue of
``(due time, chunk)`` and its own sending thread: chunks keep their order, and a chunk
waiting in one direction never holds up the other. A round trip never costs less than
``latency_ms``; it costs a little more, as timers wake late (here ~0.3 ms per sleep,
two per round trip). Threads and ``time.sleep`` rather than asyncio, whose timers round
up to the millisecond: 1.5 ms over per round trip at 5 ms instead of ~0.6 ms. Not
modelled: bandwidth, and the TCP handshake itself (connecting to the proxy is local; the
server's start-up exchange is delayed like any other bytes).

    with DelayProxy("127.0.0.1", 5432, latency_ms=20) as proxy:
        ...  # connect to 127.0.0.1:proxy.port
"""

from __future__ import annotations

import contextlib
import queue
import socket
import socketserver
import threading
import time
from typing import Any

CHUNK = 65536


class DelayProxy:
    """Listens on 127.0.0.1 (a free port) from background threads; forwards to ``upstream``."""

    def __init__(self, upstream_host: str, upstream_port: int, latency_ms: float) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.one_way = latency_ms / 2000
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> DelayProxy:
        self._server = _Server(self.upstream, self.one_way)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="delay-proxy", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._thread.join()
        for link in list(self._server.links):
            _cut(*link)
        self._server.server_close()  # joins the connection threads


class _Server(socketserver.ThreadingTCPServer):
    def __init__(self, upstream: tuple[str, int], one_way: float) -> None:
        self.upstream = upstream
        self.one_way = one_way
        self.links: set[tuple[socket.socket, socket.socket]] = set()
        super().__init__(("127.0.0.1", 0), _Link)


class _Link(socketserver.BaseRequestHandler):
    """One client connection and its own connection to the server, both ways delayed."""

    server: _Server

    def handle(self) -> None:
        client: socket.socket = self.request
        try:
            upstream = socket.create_connection(self.server.upstream)
        except OSError:
            return  # the server is unreachable: the client sees its connection closed
        with upstream:
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = (client, upstream)
            self.server.links.add(link)
            try:
                answers = threading.Thread(target=_forward, args=(upstream, client, self.server.one_way))
                answers.start()
                _forward(client, upstream, self.server.one_way)
                answers.join()
            finally:
                self.server.links.discard(link)


def _forward(source: socket.socket, target: socket.socket, one_way: float) -> None:
    """One direction: read chunks as they arrive; a second thread sends each ``one_way`` later."""
    chunks: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()
    sender = threading.Thread(target=_deliver, args=(chunks, source, target))
    sender.start()
    try:
        while chunk := source.recv(CHUNK):
            chunks.put((time.monotonic() + one_way, chunk))
    except OSError:
        pass
    chunks.put((time.monotonic() + one_way, b""))  # end of stream, delayed like data
    sender.join()


def _deliver(chunks: queue.SimpleQueue[tuple[float, bytes]], source: socket.socket, target: socket.socket) -> None:
    try:
        while True:
            due, chunk = chunks.get()
            while (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            if not chunk:
                target.shutdown(socket.SHUT_WR)
                return
            target.sendall(chunk)
    except OSError:
        _cut(source, target)  # the receiving side is gone: end the link both ways, as a reset would


def _cut(*sockets: socket.socket) -> None:
    """Wake every thread blocked on these sockets; the handler closes them."""
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
