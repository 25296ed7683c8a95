"""Resource limits of the HTTP API, enforced before authentication.

* :class:`BodyLimit` (ASGI middleware): a request body larger than its route's limit is
  refused with ``413`` before it is read: at once from ``Content-Length``, or as soon as a
  chunked body passes the limit. Unauthenticated requests used to be read in full before
  their ``401`` (a 100 MB body grew the process by 280 MB).
* :class:`StreamSlots`: a cap on open ``/api/events`` streams, per client address and in
  total. Each open stream holds one worker thread of the API; about 40 of them froze
  every endpoint, ``/api/health`` included. Over the cap: ``429``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, MutableMapping
from typing import Any

from fastapi import HTTPException, status

__all__ = ["BodyLimit", "BodyTooLarge", "StreamSlots", "DEFAULT_MAX_BODY_BYTES"]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # the largest legitimate body: 10,000 ids to retry

Scope = MutableMapping[str, Any]


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit; FastAPI answers it."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"request body larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware: ``limits`` maps a path prefix to its byte limit (longest prefix wins)."""

    def __init__(
        self, app: Any, default: int = DEFAULT_MAX_BODY_BYTES, limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default = default
        self.limits = sorted((limits or {}).items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.limits if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        received = 0

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1").strip()
    return None


async def _refuse(send: Any, limit: int) -> None:
    body = b'{"detail":"request body larger than %d bytes"}' % limit
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class StreamSlots:
    """Open long-lived streams, counted per client and in total. Thread-safe."""

    def __init__(self, per_client: int = 4, total: int = 16) -> None:
        self.per_client = per_client
        self.total = total
        self._lock = threading.Lock()
        self._open: Counter[str] = Counter()

    @property
    def open(self) -> int:
        with self._lock:
            return sum(self._open.values())

    def acquire(self, client: str) -> None:
        """Take a slot for ``client`` or raise ``429`` naming the cap that was hit."""
        with self._lock:
            if sum(self._open.values()) >= self.total:
                raise HTTPException(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    detail=f"too many open event streams ({self.total} in all): close one and retry",
                    headers={"Retry-After": "5"},
                )
            if self._open[client] >= self.per_client:
                raise HTTPException(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    detail=f"too many open event streams from this client ({self.per_client}): close one and retry",
                    headers={"Retry-After": "5"},
                )
            self._open[client] += 1

    def release(self, client: str) -> None:
        with self._lock:
            self._open[client] -= 1
            if self._open[client] <= 0:
                del self._open[client]
