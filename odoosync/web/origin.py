"""Which browsers may drive the API: Host and Origin checks (ASGI middleware).

Without a token the API serves loopback only, and trusts whoever reaches it. A web page
the operator opens can still reach it: a cross-origin ``POST`` (a form, or ``fetch`` with
``no-cors``) pauses a job or starts a sync without reading the answer, and DNS rebinding
(``evil.example`` re-pointed at 127.0.0.1) makes the page same-origin with the API, so it
can read leads with e-mails and phones. So:

* without a token, the ``Host`` header must name a loopback address or ``localhost``
  (a rebound name is refused with ``421``); with tokens the page would need the token,
  so any host name is accepted (the API may sit behind a proxy with a public name);
* a state change (any method but ``GET``, ``HEAD``, ``OPTIONS``) that a browser marks as
  coming from another site (``Origin`` not the API's own host:port, or
  ``Sec-Fetch-Site: cross-site``) is refused with ``403``. Clients that are not browsers
  (curl, pg_net, Odoo's webhooks) send neither header and are not affected.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

from odoosync.web.auth import is_loopback

__all__ = ["HostOriginGuard"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class HostOriginGuard:
    """ASGI middleware; ``loopback_only`` is True when no API token is configured."""

    def __init__(self, app: Any, *, loopback_only: bool) -> None:
        self.app = app
        self.loopback_only = loopback_only

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key: value.decode("latin-1") for key, value in scope.get("headers", ())}
        host = headers.get(b"host", "")
        if self.loopback_only and not is_loopback(_hostname(host)):
            await _refuse(send, 421, "this API serves loopback only (no token configured): use http://127.0.0.1:<port>")
            return
        if scope["method"] not in _SAFE_METHODS and _cross_site(headers, host):
            await _refuse(
                send,
                403,
                "cross-site request refused: state changes come from the API's own pages or non-browser clients",
            )
            return
        await self.app(scope, receive, send)


def _hostname(host: str) -> str:
    """``host[:port]`` → host (``[::1]:8000`` → ``::1``)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cross_site(headers: dict[bytes, str], host: str) -> bool:
    """Host and port are compared, not the scheme: a TLS proxy in front makes the page's
    ``https`` arrive here as ``http``."""
    if headers.get(b"sec-fetch-site", "").lower() == "cross-site":
        return True
    origin = headers.get(b"origin")
    if origin is None:
        return False
    if origin == "null":  # sandboxed frames, file:// pages, some redirects
        return True
    return urlsplit(origin).netloc.lower() != host.lower()


async def _refuse(send: Any, status: int, detail: str) -> None:
    body = (f'{{"detail": "{detail}"}}').encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
