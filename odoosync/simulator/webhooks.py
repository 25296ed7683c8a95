"""The simulator's "Send Webhook Notification": Odoo's automation-rule webhooks, sent like Odoo sends them.

Odoo 17 and 18 (``ir.actions.server._run_action_webhook``, run by a ``base.automation``
rule "on create or write") post, for each record the call created or wrote:

* ``{"_model", "_id", "_action": "<rule name>(#<id>)", <chosen fields>}``, the fields
  read with ``load=None`` (a many2one is a bare id) and serialised with
  ``json.dumps(sort_keys=True, default=str)``; ``Content-Type: application/json``;
* synchronously, from inside the transaction, *before* it commits, with
  ``timeout=1``; a timeout or an error is logged as a warning and ignored.

:func:`attach` installs a :class:`WebhookSender` as the simulator database's
``before_commit`` hook, so every call (RPC or ``sim.env()``) that creates or writes a
lead, a lead's message or a lead's activity posts one webhook per record, while the
call still holds the database (no other request sees the change until it returns).
Unlinked records send nothing (an ``on_unlink`` rule is not part of this).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

__all__ = ["WebhookSender", "attach", "DEFAULT_FIELDS", "RULE_NAME"]

log = logging.getLogger("odoosync.simulator.webhooks")

RULE_NAME = "odoosync"
DEFAULT_FIELDS: Mapping[str, Sequence[str]] = {
    "crm.lead": ("write_date",),
    "mail.message": ("model", "res_id", "write_date"),
    "mail.activity": ("res_model", "res_id", "write_date"),
}
"""Per model, the fields the rule sends (``write_date`` lets the receiver wait for the commit)."""
_PARENT = {"mail.message": "model", "mail.activity": "res_model"}
_SECRET_IN_URL = re.compile(r"([?&]token=)[^&]*")


class WebhookSender:
    """Posts Odoo's webhook for each created or written record of the watched models."""

    def __init__(self, url: str, fields: Mapping[str, Sequence[str]] = DEFAULT_FIELDS, *, timeout: float = 1.0):
        self.url = url
        self.fields = dict(fields)
        self.timeout = timeout
        self.sent = 0
        self.failed = 0
        self._http = httpx.Client(timeout=timeout)

    def __call__(self, env: Any) -> None:
        """The ``before_commit`` hook: ``env.journal`` names every record the call touched."""
        for model, record_id in list(env.journal.saved):
            if model not in self.fields:
                continue
            table = env.database.tables[model]
            if record_id not in table.rows:
                continue  # unlinked in the same call
            (values,) = env[model].read([record_id], list(self.fields[model]), load=None)
            parent = _PARENT.get(model)
            if parent is not None and values.get(parent) != "crm.lead":
                continue  # the rule's domain: only a lead's messages and activities
            self.send({"_model": model, "_id": record_id, "_action": f"{RULE_NAME}(#1)", **values})

    def send(self, payload: Mapping[str, Any]) -> None:
        body = json.dumps(payload, sort_keys=True, default=str)
        try:
            response = self._http.post(self.url, content=body, headers={"Content-Type": "application/json"})
            response.raise_for_status()
            self.sent += 1
        except httpx.TimeoutException:
            self.failed += 1
            log.warning("Webhook call to %s timed out after %ss", self._shown_url, self.timeout)
        except httpx.HTTPError as exc:
            self.failed += 1
            log.warning("Webhook call to %s failed: %s", self._shown_url, type(exc).__name__)

    @property
    def _shown_url(self) -> str:
        return _SECRET_IN_URL.sub(r"\1***", self.url)

    def close(self) -> None:
        self._http.close()


def attach(simulator: Any, url: str, fields: Mapping[str, Sequence[str]] = DEFAULT_FIELDS) -> WebhookSender:
    """Make ``simulator`` send Odoo's webhooks to ``url``; returns the sender."""
    sender = WebhookSender(url, fields)
    simulator.database.before_commit = sender
    return sender
