"""Connection settings for one Odoo backend, as a small immutable value object.

Secrets live here and nowhere else: ``__repr__`` hides them, and nothing writes them to
the database, logs or API responses. ``secret_source`` lets a rotated API key be picked up
without a restart (it is called again after an authentication failure).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["OdooConfig", "Protocol"]

Protocol = Literal["auto", "jsonrpc", "xmlrpc", "json2"]

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_CONCURRENCY = 4
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF_BASE_SECONDS = 0.5
DEFAULT_BACKOFF_CAP_SECONDS = 30.0


@dataclass(frozen=True)
class OdooConfig:
    url: str
    db: str
    username: str
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    protocol: Protocol = "auto"
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: float = DEFAULT_BACKOFF_BASE_SECONDS
    backoff_cap: float = DEFAULT_BACKOFF_CAP_SECONDS
    company_ids: tuple[int, ...] = ()
    lang: str | None = None
    tz: str | None = None
    name: str = "default"  # the backend's name in a multi-backend deployment
    # Called to re-read the secret (API key or password) after an authentication
    # failure, so a rotated key is used without a restart. None: the fields above.
    secret_source: Callable[[], str | None] | None = field(default=None, repr=False, compare=False)

    @property
    def secret(self) -> str | None:
        """The API key if configured (it works as a password on RPC), else the password."""
        if self.secret_source is not None:
            fresh = self.secret_source()
            if fresh:
                return fresh
        return self.api_key or self.password
