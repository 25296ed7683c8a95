"""odoosync: keep an application database in step with Odoo CRM, both ways.

The library API (see the README)::

    import odoosync

    with odoosync.connect(database_url="sqlite:///crm.db") as crm:
        report = crm.sync("leads")

Names are imported on first use (module ``__getattr__``), so ``import odoosync`` and the
CLI's ``--help`` start without loading SQLAlchemy, httpx or the engines.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from odoosync.exceptions import ConfigError, OdooSyncError
    from odoosync.library import Connection, Sheets, StreamStatus, connect
    from odoosync.push.engine import PushResult
    from odoosync.service.operations import SyncReport, VerifyReport
    from odoosync.settings import Settings, load_settings
    from odoosync.sheets.engine import SheetSyncResult

_EXPORTS = {
    "connect": "odoosync.library",
    "Connection": "odoosync.library",
    "Sheets": "odoosync.library",
    "StreamStatus": "odoosync.library",
    "Settings": "odoosync.settings",
    "load_settings": "odoosync.settings",
    "SyncReport": "odoosync.service.operations",
    "VerifyReport": "odoosync.service.operations",
    "PushResult": "odoosync.push.engine",
    "SheetSyncResult": "odoosync.sheets.engine",
    "OdooSyncError": "odoosync.exceptions",
    "ConfigError": "odoosync.exceptions",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'odoosync' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # imported once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
