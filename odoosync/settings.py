"""Settings: the one place that reads the environment and ``odoosync.toml``.

Only the edges (CLI, service start-up) call :func:`load_settings`; engines receive the
values they need as arguments. Every problem is collected and reported at once as a
:class:`~odoosync.exceptions.ConfigError`. Secrets stay in memory: ``repr`` hides them.

Precedence: environment variables over the TOML file over defaults. The TOML file is
``$ODOOSYNC_CONFIG`` if set, else ``./odoosync.toml`` if it exists::

    [odoo]
    url = "https://example.odoo.com"
    db = "example"
    username = "sync@example.com"
    api_key = "..."            # or password = "..."
    protocol = "auto"          # auto | jsonrpc | xmlrpc | json2
    company_ids = [1, 2]
    timeout = 60
    max_concurrency = 4

    [database]
    url = "postgresql://postgres@127.0.0.1:5432/app"

    [store]
    schema = "public"          # PostgreSQL: where the app tables live (not exposed by Supabase: e.g. "crm_sync")

    [sync]
    lock_id = "odoosync"
    overlap_seconds = 300
    page_size = 500
    max_delete_share = 0.1     # a reconcile deleting more of a stream refuses (--allow-mass-delete)

    [push]
    lease_seconds = 300        # how long a claimed outbox batch is held without a heartbeat

    [service]
    api_token = "..."          # admin
    read_token = "..."
    webhook_secret = "..."

    [schedule]                 # job name → cron expression
    leads = "* * * * *"

    [sheets]
    allow_private_networks = false
    allow_local_files = false  # sheet "URLs" that are paths on this machine
    max_delete_share = 0.2     # a sync deleting more of a customer's leads is refused

    [sla]
    webhook_url = "https://hooks.slack.com/services/..."   # a secret: never logged or shown
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odoosync.exceptions import ConfigError
from odoosync.odoo.config import OdooConfig
from odoosync.pull import DEFAULT_MAX_DELETE_SHARE, DEFAULT_PAGE_SIZE

__all__ = ["Settings", "load_settings", "unknown_keys", "DEFAULT_DATABASE_URL"]

log = logging.getLogger("odoosync.settings")

DEFAULT_DATABASE_URL = "sqlite:///odoosync.db"
# Every key the TOML file may hold; [schedule] takes any job name. Others are warned about:
# a misspelt key silently ignored would leave its default in force.
_TOML_KEYS: dict[str, frozenset[str] | None] = {
    "odoo": frozenset(
        {"url", "db", "username", "password", "api_key", "protocol", "company_ids", "timeout", "max_concurrency"}
    ),
    "database": frozenset({"url"}),
    "store": frozenset({"schema"}),
    "sync": frozenset({"lock_id", "overlap_seconds", "page_size", "max_delete_share"}),
    "push": frozenset({"lease_seconds"}),
    "service": frozenset({"api_token", "read_token", "webhook_secret"}),
    "schedule": None,
    "sheets": frozenset({"allow_private_networks", "allow_local_files", "max_delete_share"}),
    "sla": frozenset({"webhook_url"}),
}
_PROTOCOLS = ("auto", "jsonrpc", "xmlrpc", "json2")
_TRUE = ("1", "true", "yes", "on")


def _share(name: str, value: Any, problems: list[str]) -> float:
    """A fraction between 0 and 1 (``0.2``, or ``20%``)."""
    text = str(value).strip()
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        problems.append(f"{name} must be a share between 0 and 1 (e.g. 0.2 or 20%), not {text!r}")
        return 0.2
    return share


@dataclass(frozen=True)
class Settings:
    """Everything configurable, validated. ``odoo`` is None when no Odoo is configured."""

    odoo: OdooConfig | None
    database_url: str = DEFAULT_DATABASE_URL
    store_schema: str = "public"  # PostgreSQL: the schema of the app tables ([store] schema)
    lock_id: str = "odoosync"
    overlap_seconds: int = 300
    page_size: int = DEFAULT_PAGE_SIZE
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE
    push_lease_seconds: int = 300
    api_token: str | None = field(default=None, repr=False)
    read_token: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    sheets_allow_private: bool = False
    sheets_allow_files: bool = False
    sheets_max_delete_share: float = 0.2
    sla_webhook_url: str | None = field(default=None, repr=False)
    schedule: Mapping[str, str] = field(default_factory=dict)

    def require_odoo(self) -> OdooConfig:
        """The Odoo connection, or a ConfigError naming the variables to set."""
        if self.odoo is None:
            raise ConfigError(
                "no Odoo configured: set ODOO_URL, ODOO_DB, ODOO_USERNAME and "
                "ODOO_PASSWORD or ODOO_API_KEY (or an [odoo] table in odoosync.toml)"
            )
        return self.odoo


def load_settings(env: Mapping[str, str] | None = None, config_path: str | Path | None = None) -> Settings:
    """Read TOML + environment, validate, and return Settings (or raise ConfigError)."""
    env = os.environ if env is None else env
    problems: list[str] = []
    data = _read_toml(config_path if config_path is not None else env.get("ODOOSYNC_CONFIG"), problems)
    for key in unknown_keys(data):
        log.warning("unknown setting %s in the config file: ignored (check its spelling)", key)
    odoo_t = dict(data.get("odoo", {}))
    db_t = data.get("database", {})
    sync_t = data.get("sync", {})
    svc_t = data.get("service", {})
    sheets_t = data.get("sheets", {})
    sla_t = data.get("sla", {})
    push_t = data.get("push", {})
    store_t = data.get("store", {})

    def pick(name: str, table: Mapping[str, Any], key: str, default: Any = None) -> Any:
        value = env.get(name)
        return value if value not in (None, "") else table.get(key, default)

    odoo = _odoo_config(
        {
            "url": pick("ODOO_URL", odoo_t, "url"),
            "db": pick("ODOO_DB", odoo_t, "db"),
            "username": pick("ODOO_USERNAME", odoo_t, "username"),
            "password": pick("ODOO_PASSWORD", odoo_t, "password"),
            "api_key": pick("ODOO_API_KEY", odoo_t, "api_key"),
            "protocol": pick("ODOO_PROTOCOL", odoo_t, "protocol", "auto"),
            "company_ids": pick("ODOO_COMPANY_IDS", odoo_t, "company_ids", ()),
            "timeout": pick("ODOO_TIMEOUT", odoo_t, "timeout"),
            "max_concurrency": pick("ODOO_MAX_CONCURRENCY", odoo_t, "max_concurrency"),
        },
        problems,
    )
    settings = Settings(
        odoo=odoo,
        database_url=str(pick("DATABASE_URL", db_t, "url", DEFAULT_DATABASE_URL)),
        store_schema=str(pick("ODOOSYNC_STORE_SCHEMA", store_t, "schema", "public")),
        lock_id=str(pick("LOCK_ID", sync_t, "lock_id", "odoosync")),
        overlap_seconds=_int("sync.overlap_seconds", sync_t.get("overlap_seconds", 300), problems, minimum=0),
        page_size=_int("sync.page_size", sync_t.get("page_size", DEFAULT_PAGE_SIZE), problems, minimum=1),
        max_delete_share=_share(
            "sync.max_delete_share", sync_t.get("max_delete_share", DEFAULT_MAX_DELETE_SHARE), problems
        ),
        push_lease_seconds=_int(
            "push.lease_seconds", pick("ODOOSYNC_PUSH_LEASE_SECONDS", push_t, "lease_seconds", 300), problems, minimum=5
        ),
        api_token=pick("ODOOSYNC_API_TOKEN", svc_t, "api_token"),
        read_token=pick("ODOOSYNC_READ_TOKEN", svc_t, "read_token"),
        webhook_secret=pick("ODOOSYNC_WEBHOOK_SECRET", svc_t, "webhook_secret"),
        sheets_allow_private=str(
            pick("ODOOSYNC_SHEETS_ALLOW_PRIVATE", sheets_t, "allow_private_networks", False)
        ).lower()
        in _TRUE,
        sheets_allow_files=str(pick("ODOOSYNC_SHEETS_ALLOW_FILES", sheets_t, "allow_local_files", False)).lower()
        in _TRUE,
        sheets_max_delete_share=_share(
            "sheets.max_delete_share",
            pick("ODOOSYNC_SHEETS_MAX_DELETE_SHARE", sheets_t, "max_delete_share", 0.2),
            problems,
        ),
        sla_webhook_url=_webhook_url(pick("ODOOSYNC_SLA_WEBHOOK_URL", sla_t, "webhook_url"), problems),
        schedule={str(k): str(v) for k, v in data.get("schedule", {}).items()},
    )
    if problems:
        raise ConfigError("; ".join(problems), problems)
    return settings


def unknown_keys(data: Mapping[str, Any]) -> list[str]:
    """Dotted names (``sync.page_sise``) of the TOML keys odoosync does not read."""
    unknown = []
    for table, value in data.items():
        if table not in _TOML_KEYS:
            unknown.append(table)
            continue
        known = _TOML_KEYS[table]
        if known is not None and isinstance(value, Mapping):
            unknown += [f"{table}.{key}" for key in value if key not in known]
    return unknown


def _read_toml(path: str | Path | None, problems: list[str]) -> dict[str, Any]:
    if path is None:
        default = Path("odoosync.toml")
        if not default.exists():
            return {}
        path = default
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        problems.append(f"config file {path} does not exist")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"config file {path} is not valid TOML: {exc}")
    return {}


def _odoo_config(raw: dict[str, Any], problems: list[str]) -> OdooConfig | None:
    if not any(raw[k] for k in ("url", "db", "username", "password", "api_key")):
        return None
    before = len(problems)
    for key, var in (("url", "ODOO_URL"), ("db", "ODOO_DB"), ("username", "ODOO_USERNAME")):
        if not raw[key]:
            problems.append(f"{var} is not set (odoo.{key})")
    if raw["url"] and not str(raw["url"]).startswith(("http://", "https://")):
        problems.append(f"ODOO_URL must start with http:// or https:// (got {raw['url']!r})")
    if not raw["password"] and not raw["api_key"]:
        problems.append("set ODOO_PASSWORD or ODOO_API_KEY (odoo.password / odoo.api_key)")
    if raw["protocol"] not in _PROTOCOLS:
        problems.append(f"ODOO_PROTOCOL must be one of {', '.join(_PROTOCOLS)} (got {raw['protocol']!r})")
    company_ids = _company_ids(raw["company_ids"], problems)
    extra: dict[str, Any] = {}
    if raw["timeout"] is not None:
        extra["timeout"] = _float("ODOO_TIMEOUT", raw["timeout"], problems)
    if raw["max_concurrency"] is not None:
        extra["max_concurrency"] = _int("ODOO_MAX_CONCURRENCY", raw["max_concurrency"], problems, minimum=1)
    if len(problems) > before:
        return None
    return OdooConfig(
        url=str(raw["url"]).rstrip("/"),
        db=str(raw["db"]),
        username=str(raw["username"]),
        password=raw["password"] or None,
        api_key=raw["api_key"] or None,
        protocol=raw["protocol"],
        company_ids=company_ids,
        **extra,
    )


def _webhook_url(value: Any, problems: list[str]) -> str | None:
    """The SLA webhook URL, checked without ever quoting it (its path is the secret)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        problems.append("ODOOSYNC_SLA_WEBHOOK_URL (sla.webhook_url) must be an http:// or https:// URL")
        return None
    return value


def _company_ids(value: Any, problems: list[str]) -> tuple[int, ...]:
    items = value.split(",") if isinstance(value, str) else list(value or ())
    try:
        return tuple(int(str(item).strip()) for item in items if str(item).strip())
    except ValueError:
        problems.append(f"ODOO_COMPANY_IDS must be comma-separated integers (got {value!r})")
        return ()


def _int(name: str, value: Any, problems: list[str], minimum: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        problems.append(f"{name} must be an integer (got {value!r})")
        return 0
    if minimum is not None and number < minimum:
        problems.append(f"{name} must be at least {minimum} (got {number})")
    return number


def _float(name: str, value: Any, problems: list[str]) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        problems.append(f"{name} must be a number (got {value!r})")
        return 0.0
