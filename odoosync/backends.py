"""Odoo backends: the one place that turns a backend's name into its Odoo connection.

``default`` is the Odoo of the settings (``ODOO_*`` / ``[odoo]``), exactly as before
backends existed; it is not a row. Every other backend is a row of ``ops.odoo_backends``
(``odoosync backends add``) holding its secret by reference only: the name of an
environment variable or the path of a file, read when the backend is opened and again
after an authentication failure (a rotated key needs no restart). The secret itself is
never stored, logged or shown.

A backend's ``app_company_id`` is the app's ``company_id`` its customers and leads get;
Odoo ids are unique per backend (see ``store/schema.py``), so two Odoo databases with the
same ids never share a row.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from odoosync.exceptions import ConfigError
from odoosync.odoo.config import OdooConfig
from odoosync.settings import Settings
from odoosync.store import Store
from odoosync.store.schema import odoo_backends

__all__ = [
    "DEFAULT_BACKEND",
    "Backend",
    "add_backend",
    "list_backends",
    "get_backend",
    "remove_backend",
    "backend_names",
    "odoo_config",
    "app_company_id",
]

DEFAULT_BACKEND = "default"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_PROTOCOLS = ("auto", "jsonrpc", "xmlrpc", "json2")


@dataclass(frozen=True)
class Backend:
    """One Odoo database synced into the app database (a row of ``ops.odoo_backends``)."""

    name: str
    url: str
    db: str
    login: str
    protocol: str = "auto"
    company_ids: tuple[int, ...] = ()
    app_company_id: int | None = None
    secret_env: str | None = None
    secret_file: str | None = None

    def problems(self) -> list[str]:
        """Everything wrong with this backend, all at once (empty when it is valid)."""
        found = []
        if not _NAME.match(self.name):
            found.append(
                f"backend name {self.name!r} must be 1-40 lowercase letters, digits, '-' or '_', starting with a letter or digit"
            )
        if self.name == DEFAULT_BACKEND:
            found.append("'default' is the Odoo of the settings (ODOO_URL ...): choose another name")
        if not self.url.startswith(("http://", "https://")):
            found.append(f"url must start with http:// or https:// (got {self.url!r})")
        if not self.db:
            found.append("db must not be empty")
        if not self.login:
            found.append("login must not be empty")
        if self.protocol not in _PROTOCOLS:
            found.append(f"protocol must be one of {', '.join(_PROTOCOLS)} (got {self.protocol!r})")
        if (self.secret_env is None) == (self.secret_file is None):
            found.append("give the secret by reference, exactly one of: an environment variable name or a file path")
        if self.secret_env is not None and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", self.secret_env):
            found.append(f"{self.secret_env!r} is not an environment variable name")
        return found

    @property
    def secret_reference(self) -> str:
        """Where the secret is read from (safe to show: never the secret)."""
        return f"env:{self.secret_env}" if self.secret_env else f"file:{self.secret_file}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "db": self.db,
            "login": self.login,
            "protocol": self.protocol,
            "company_ids": list(self.company_ids),
            "app_company_id": self.app_company_id,
            "secret": self.secret_reference,
        }


def add_backend(store: Store, backend: Backend) -> Backend:
    """Store a new backend; ``ConfigError`` naming every problem (nothing written)."""
    problems = backend.problems()
    if not problems and get_backend(store, backend.name, missing_ok=True) is not None:
        problems.append(f"backend {backend.name!r} exists already (remove it first)")
    if problems:
        raise ConfigError("; ".join(problems), problems)
    with store.transaction() as conn:
        conn.execute(
            sa.insert(odoo_backends).values(
                name=backend.name,
                url=backend.url.rstrip("/"),
                db=backend.db,
                login=backend.login,
                protocol=backend.protocol,
                company_ids=list(backend.company_ids),
                app_company_id=backend.app_company_id,
                secret_env=backend.secret_env,
                secret_file=backend.secret_file,
            )
        )
    return backend


def list_backends(store: Store) -> list[Backend]:
    """Every stored backend, by name."""
    with store.connect() as conn:
        rows = conn.execute(sa.select(odoo_backends).order_by(odoo_backends.c.name)).mappings().all()
    return [_from_row(dict(row)) for row in rows]


def get_backend(store: Store, name: str, *, missing_ok: bool = False) -> Backend | None:
    """The stored backend ``name`` (``ConfigError`` naming the known ones if absent)."""
    with store.connect() as conn:
        row = conn.execute(sa.select(odoo_backends).where(odoo_backends.c.name == name)).mappings().first()
    if row is not None:
        return _from_row(dict(row))
    if missing_ok:
        return None
    known = ", ".join([DEFAULT_BACKEND, *(b.name for b in list_backends(store))])
    raise ConfigError(f"no backend named {name!r} (known: {known}); add one with: odoosync backends add")


def remove_backend(store: Store, name: str) -> None:
    """Forget a backend's connection. Its synced rows stay (their ``backend`` column
    names it); adding it again resumes from its checkpoints."""
    get_backend(store, name)
    with store.transaction() as conn:
        conn.execute(sa.delete(odoo_backends).where(odoo_backends.c.name == name))


def backend_names(settings: Settings, store: Store) -> list[str]:
    """Every backend to sync: ``default`` when the settings configure an Odoo, then the rows."""
    names = [DEFAULT_BACKEND] if settings.odoo is not None else []
    return names + [b.name for b in list_backends(store)]


def odoo_config(
    settings: Settings, store: Store, name: str = DEFAULT_BACKEND, *, env: Mapping[str, str] | None = None
) -> OdooConfig:
    """The Odoo connection of backend ``name``. A stored backend inherits the settings'
    timeouts and concurrency; its secret is read from its reference now and after each
    authentication failure."""
    if name == DEFAULT_BACKEND:
        return settings.require_odoo()
    backend = get_backend(store, name)
    assert backend is not None
    read_secret = _secret_reader(backend, os.environ if env is None else env)
    secret = read_secret()
    if not secret:
        raise ConfigError(f"backend {name!r}: its secret ({backend.secret_reference}) is not set or empty")
    base = settings.odoo or OdooConfig(url=backend.url, db=backend.db, username=backend.login)
    return OdooConfig(
        url=backend.url,
        db=backend.db,
        username=backend.login,
        api_key=secret,
        protocol=backend.protocol,  # type: ignore[arg-type]
        timeout=base.timeout,
        connect_timeout=base.connect_timeout,
        max_concurrency=base.max_concurrency,
        max_attempts=base.max_attempts,
        backoff_base=base.backoff_base,
        backoff_cap=base.backoff_cap,
        company_ids=backend.company_ids,
        name=backend.name,
        secret_source=read_secret,
    )


def app_company_id(store: Store, name: str) -> int | None:
    """The app's ``company_id`` backend ``name`` maps to (None for ``default``: as before)."""
    if name == DEFAULT_BACKEND:
        return None
    backend = get_backend(store, name)
    return backend.app_company_id if backend else None


def _secret_reader(backend: Backend, env: Mapping[str, str]) -> Callable[[], str | None]:
    def read() -> str | None:
        if backend.secret_env:
            return env.get(backend.secret_env) or None
        try:
            return Path(backend.secret_file or "").read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(
                f"backend {backend.name!r}: cannot read its secret file {backend.secret_file}: {exc.strerror}"
            ) from None

    return read


def _from_row(row: Mapping[str, Any]) -> Backend:
    ids: Sequence[Any] = row["company_ids"] or ()
    return Backend(
        name=row["name"],
        url=row["url"],
        db=row["db"],
        login=row["login"],
        protocol=row["protocol"],
        company_ids=tuple(int(i) for i in ids),
        app_company_id=row["app_company_id"],
        secret_env=row["secret_env"],
        secret_file=row["secret_file"],
    )
