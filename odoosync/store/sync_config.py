"""Sync configuration kept in the database (``ops.odoo_sync_config``).

Keys follow the seed's convention: ``odoo_to_sb:<model>`` for pull settings (domain,
fields, page_size, schedule) and ``sb_to_odoo:<model>`` for push settings (max_batch,
max_attempts, base_backoff_seconds, conflict policy). Values are JSON.

Secrets never go to the database: a value carrying a key that looks like a secret
(password, API key, token, secret) is refused and nothing is written.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from odoosync.exceptions import ConfigError
from odoosync.store.database import Store
from odoosync.store.schema import odoo_sync_config
from odoosync.store.upsert import upsert_rows

__all__ = ["config_get", "config_set", "config_list", "config_delete"]

_table = odoo_sync_config
_SECRET_NAME = re.compile(r"(^|[_-])(password|passwd|api[_-]?key|secret|token)s?($|[_-])", re.IGNORECASE)


def config_get(store: Store, key: str, default: Any = None) -> Any:
    """The value stored under ``key``, else ``default``."""
    with store.connect() as conn:
        value = conn.execute(sa.select(_table.c.value).where(_table.c.key == key)).scalar_one_or_none()
    return default if value is None else value


def config_set(store: Store, key: str, value: Any) -> None:
    """Store ``value`` (anything JSON can hold, no secrets) under ``key``."""
    if not key or not key.strip():
        raise ConfigError("a sync config key must not be empty")
    secrets = sorted(_secret_paths(value))
    if secrets:
        raise ConfigError(
            f"sync config {key!r} would store secrets in the database ({', '.join(secrets)}): "
            "put them in the environment or odoosync.toml instead"
        )
    with store.transaction() as conn:
        upsert_rows(conn, _table, [{"key": key, "value": value}], key=["key"])


def config_delete(store: Store, key: str) -> bool:
    """Remove ``key``; True if it existed."""
    with store.transaction() as conn:
        return conn.execute(sa.delete(_table).where(_table.c.key == key)).rowcount > 0


def config_list(store: Store, prefix: str = "") -> dict[str, Any]:
    """Every key starting with ``prefix`` and its value, by key."""
    query = sa.select(_table.c.key, _table.c.value).order_by(_table.c.key)
    if prefix:
        query = query.where(_table.c.key.startswith(prefix, autoescape=True))
    with store.connect() as conn:
        return {key: value for key, value in conn.execute(query)}


def _secret_paths(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict):
        found = []
        for name, item in value.items():
            here = f"{path}.{name}" if path else str(name)
            if _SECRET_NAME.search(str(name)) and item not in (None, ""):
                found.append(here)
            found.extend(_secret_paths(item, here))
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _secret_paths(item, f"{path}[{i}]")]
    return []
