"""The Odoo client: one interface over JSON-RPC, XML-RPC and JSON-2 (see ``client.py``)."""

from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.odoo.stats import ClientStats, StatsSnapshot
from odoosync.odoo.transport import Transport, make_transport

__all__ = ["OdooClient", "OdooConfig", "ClientStats", "StatsSnapshot", "Transport", "make_transport"]
