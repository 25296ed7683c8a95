"""The push side: app changes queued in ``ops.odoo_outbox`` → Odoo (see ``docs/push.md``)."""
