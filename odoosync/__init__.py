"""odoosync: keep an application database in step with Odoo CRM, both ways."""

__version__ = "0.1.0"
