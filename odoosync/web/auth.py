"""Bearer-token authentication for the HTTP API.

Two tokens: ``ODOOSYNC_READ_TOKEN`` may call ``GET`` endpoints, ``ODOOSYNC_API_TOKEN``
(admin) may call everything. No token → ``401``; the read token on an admin endpoint →
``403``. Tokens are compared in constant time (:func:`hmac.compare_digest`) and never
echoed. With no token configured at all the API is open, which is why
:func:`check_bind_address` refuses anything but loopback in that case.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, field
from typing import Literal

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from odoosync.exceptions import ConfigError

__all__ = ["Tokens", "require_read", "require_admin", "check_bind_address", "is_loopback"]

Access = Literal["read", "admin"]
_bearer = HTTPBearer(auto_error=False, description="ODOOSYNC_READ_TOKEN (GET) or ODOOSYNC_API_TOKEN (all)")


@dataclass(frozen=True)
class Tokens:
    """The configured tokens; ``repr`` hides them."""

    admin: str | None = field(default=None, repr=False)
    read: str | None = field(default=None, repr=False)

    @property
    def configured(self) -> bool:
        return bool(self.admin or self.read)

    def access_of(self, presented: str) -> Access | None:
        """What ``presented`` grants: both tokens are always compared, in constant time."""
        presented_bytes = presented.encode()
        is_admin = bool(self.admin) and hmac.compare_digest(presented_bytes, (self.admin or "").encode())
        is_read = bool(self.read) and hmac.compare_digest(presented_bytes, (self.read or "").encode())
        if is_admin:
            return "admin"
        if is_read:
            return "read"
        return None


def _access(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Access:
    tokens: Tokens = request.app.state.tokens
    if not tokens.configured:
        return "admin"  # loopback-only server, see check_bind_address
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing bearer token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    access = tokens.access_of(credentials.credentials)
    if access is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail="invalid bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    return access


def require_read(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Access:
    """Dependency for GET endpoints: the read or the admin token."""
    return _access(request, credentials)


def require_admin(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Access:
    """Dependency for everything that changes something: the admin token only."""
    access = _access(request, credentials)
    if access != "admin":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="this endpoint needs the admin token (ODOOSYNC_API_TOKEN)"
        )
    return access


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_address(host: str, tokens: Tokens) -> None:
    """Refuse to serve an unauthenticated API on anything but loopback."""
    if not tokens.configured and not is_loopback(host):
        raise ConfigError(
            f"refusing to listen on {host}: no API token is configured, so anyone who can reach "
            "the port could trigger syncs. Set ODOOSYNC_API_TOKEN (and ODOOSYNC_READ_TOKEN for "
            "read-only clients), or bind to 127.0.0.1"
        )
