"""One exception tree for the whole project.

Every foreign error (httpx, xmlrpc faults, Odoo's JSON error payloads, database drivers,
CSV parsing) is translated once, at the boundary that meets it, into one of these classes.
The branches say what the caller should do::

    OdooSyncError
    ├── ConfigError                 fix the configuration; nothing was changed
    ├── MassDeleteRefused           a run would delete too much of a stream; nothing deleted
    ├── OdooError                   anything Odoo (or the way to it) answered badly
    │   ├── OdooTransientError      retry later (with backoff)
    │   │   ├── RateLimited         HTTP 429; ``retry_after`` seconds when Odoo said so
    │   │   ├── OdooServerError     HTTP 5xx, or an internal error Odoo did not classify
    │   │   └── OdooTransportError  timeout, reset, refused, DNS: the request may not have arrived
    │   └── OdooPermanentError      retrying will not help; fail with Odoo's message
    │       ├── AuthenticationError wrong login/password/API key
    │       │   └── ApiKeyExpired   JSON-2 key expired or revoked: create a new key
    │       ├── AccessDenied        the user lacks the right (odoo.exceptions.AccessError)
    │       ├── MissingRecord       the record does not exist (odoo.exceptions.MissingError)
    │       ├── OdooValidationError a user or validation error (UserError, ValidationError)
    │       └── InvalidRequest      unknown model/field/method, malformed domain
    ├── StoreError                  the application database
    │   ├── NotMigrated             the schema is missing or old: run ``odoosync db upgrade``
    │   ├── StoreUnavailable        cannot connect, locked, deadlock: retry later
    │   ├── StoreIntegrityError     the data was refused (a constraint, or a value out of a column's range)
    │   └── LockHeld                another run holds the lock; ``holder`` names it
    └── SheetError                  a Google Sheet / CSV source could not be used
        ├── SheetFetchError         the URL could not be fetched (after retries)
        ├── SheetRefused            the URL is not allowed (scheme, private address, size)
        ├── SheetFormatError        the sheet's header does not fit the mapping
        └── SheetNotConfigured      no sheet is configured for that customer

Messages never contain secrets (passwords, API keys, tokens).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "OdooSyncError",
    "ConfigError",
    "MassDeleteRefused",
    "OdooError",
    "OdooTransientError",
    "RateLimited",
    "OdooServerError",
    "OdooTransportError",
    "OdooPermanentError",
    "AuthenticationError",
    "ApiKeyExpired",
    "AccessDenied",
    "MissingRecord",
    "OdooValidationError",
    "InvalidRequest",
    "StoreError",
    "NotMigrated",
    "StoreUnavailable",
    "StoreIntegrityError",
    "LockHeld",
    "SheetError",
    "SheetFetchError",
    "SheetRefused",
    "SheetFormatError",
    "SheetNotConfigured",
]


class OdooSyncError(Exception):
    """Root of every error odoosync raises on purpose."""


class ConfigError(OdooSyncError):
    """The configuration is wrong; ``problems`` lists every problem found at once."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = problems or [message]
        super().__init__(message)


class MassDeleteRefused(OdooSyncError):
    """A run would delete more of a stream than its limit allows, so it deleted nothing.

    The operator accepts it with ``--allow-mass-delete`` once Odoo is known to have lost
    the records (and not, say, the sync user its rights)."""

    def __init__(self, message: str, *, stream: str, deleting: int, present: int):
        self.stream = stream
        self.deleting = deleting
        self.present = present
        super().__init__(message)


class OdooError(OdooSyncError):
    """Odoo, or the network on the way to it, refused or failed a call.

    ``odoo_name`` is Odoo's exception class name when Odoo sent one
    (e.g. ``odoo.exceptions.AccessError``), ``model``/``method`` the call that failed.
    """

    def __init__(
        self,
        message: str,
        *,
        odoo_name: str | None = None,
        model: str | None = None,
        method: str | None = None,
    ):
        self.odoo_name = odoo_name
        self.model = model
        self.method = method
        super().__init__(message)


class OdooTransientError(OdooError):
    """Worth retrying: the same call may succeed later."""


class RateLimited(OdooTransientError):
    """HTTP 429. ``retry_after`` is the server's Retry-After in seconds, if sent."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class OdooServerError(OdooTransientError):
    """HTTP 5xx or an unclassified server-side exception."""


class OdooTransportError(OdooTransientError):
    """Timeout, connection reset or refused: the request may or may not have arrived."""


class OdooPermanentError(OdooError):
    """Retrying will not help."""


class AuthenticationError(OdooPermanentError):
    """Odoo rejected the credentials (odoo.exceptions.AccessDenied)."""


class ApiKeyExpired(AuthenticationError):
    """The API key is expired or revoked. Create a new key in Odoo (Preferences →
    Account Security → New API Key) and set ODOO_API_KEY; it is read again on the
    next call without a restart."""


class AccessDenied(OdooPermanentError):
    """The user may not do this (odoo.exceptions.AccessError)."""


class MissingRecord(OdooPermanentError):
    """The record does not exist or was deleted (odoo.exceptions.MissingError)."""


class OdooValidationError(OdooPermanentError):
    """Odoo refused the values (odoo.exceptions.UserError / ValidationError)."""


class InvalidRequest(OdooPermanentError):
    """Unknown model, field or method, or a malformed domain."""


class StoreError(OdooSyncError):
    """The application database failed or is not usable."""


class NotMigrated(StoreError):
    """The database schema is missing or out of date: run ``odoosync db upgrade``."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or is busy (connection refused, locked, deadlock,
    serialization failure): worth retrying later."""


class StoreIntegrityError(StoreError):
    """The database refused the data: a constraint (unique, foreign key, not null, check) or a
    value out of a column's range."""


class LockHeld(StoreError):
    """Another run holds the lock; ``holder`` says who (host, pid, run id, since)."""

    def __init__(self, message: str, *, holder: str | None = None):
        self.holder = holder
        super().__init__(message)


class SheetError(OdooSyncError):
    """A sheet or CSV source could not be used."""


class SheetFetchError(SheetError):
    """The sheet could not be fetched (after the retries)."""


class SheetRefused(SheetError):
    """The sheet URL is not allowed: scheme, private address, size or time cap."""


class SheetFormatError(SheetError):
    """The sheet's header does not fit the column mapping."""


class SheetNotConfigured(SheetError):
    """No sheet is configured for this customer (``odoosync sheets add`` first)."""
