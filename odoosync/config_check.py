"""Checking ``ops.odoo_sync_config`` rows before they are written.

A row is read by several parts (the pull's stream catalogue, the push's policies, the
schedule), and one bad row used to stop every sync. Written through :func:`write_config`
(the ``odoosync config`` CLI), a row is validated by the part that will read it, every
problem reported at once, and nothing is stored when one is found. Rows written some
other way (plain SQL) are checked again when a sync starts: a bad one then disables only
its own stream (``streams/registry.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from odoosync.exceptions import ConfigError
from odoosync.push.policy import CONFIG_PREFIX as PUSH_PREFIX
from odoosync.push.policy import parse_policy
from odoosync.service.scheduler import DEFAULT_SCHEDULE, SCHEDULE_CONFIG_KEY, resolve_schedule
from odoosync.store import Store
from odoosync.store.sync_config import config_set
from odoosync.streams.registry import CONFIG_PREFIX as PULL_PREFIX
from odoosync.streams.registry import parse_pull_config

__all__ = ["check_config", "write_config"]


def check_config(key: str, value: Any) -> None:
    """Raise ``ConfigError`` naming every problem of the row ``key`` → ``value``."""
    if key.startswith(PULL_PREFIX):
        parse_pull_config({key: value})
    elif key.startswith(PUSH_PREFIX):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: the value must be a JSON object")
        parse_policy(key[len(PUSH_PREFIX) :], value)
    elif key == SCHEDULE_CONFIG_KEY:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: the value must be a JSON object of job → cron")
        resolve_schedule(tuple(DEFAULT_SCHEDULE), database={str(k): str(v) for k, v in value.items()})


def write_config(store: Store, key: str, value: Any) -> None:
    """Validate the row, then store it (secrets refused by ``config_set``)."""
    check_config(key, value)
    config_set(store, key, value)
