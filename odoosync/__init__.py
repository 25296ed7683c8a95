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
    from odoosync.exceptions import ConfigError as ConfigError
    from odoosync.exceptions import OdooSyncError as OdooSyncError
    from odoosync.library import Connection as Connection
    from odoosync.library import Sheets as Sheets
    from odoosync.library import StreamStatus as StreamStatus
    from odoosync.library import connect as connect
    from odoosync.push.engine import PushResult as PushResult
    from odoosync.service.operations import SyncReport as SyncReport
    from odoosync.service.operations import VerifyReport as VerifyReport
    from odoosync.settings import Settings as Settings
    from odoosync.settings import load_settings as load_settings
    from odoosync.sheets.engine import SheetSyncResult as SheetSyncResult

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
