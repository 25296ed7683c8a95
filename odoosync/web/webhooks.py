"""``POST /api/webhooks/odoo``: Odoo's "Send Webhook Notification" in, a queued pull out.

Odoo 17 and 18 post ``{"_model", "_id", "_action", <chosen fields>}`` (the fields read
with ``load=None``, so a many2one is a bare id; datetimes as ``str()``) from inside the
transaction that made the change, with a one-second timeout, and cannot sign or add
headers. So:

* the secret travels in the URL, ``?token=`` (``ODOOSYNC_WEBHOOK_SECRET``), compared in
  constant time; a wrong or missing one is ``401``, and so is every request while no
  secret is configured. The token never reaches a log: :func:`redact_access_log`
  removes it from uvicorn's access lines, and no answer echoes input;
* the answer is immediate (``202``): the record is queued on the coalescing
  :class:`~odoosync.service.webhook_queue.PullQueue`, which pulls it once Odoo has committed;
* an unsupported ``_model`` is ``422``; a payload that is not a JSON object with an
  integer ``_id`` is ``422`` naming only what is wrong;
* with many Odoo backends, each backend's rule adds ``&backend=<name>`` to the URL. The
  service's own backend (``default`` unless configured otherwise) pulls the record as
  above; under ``serve --engine procrastinate`` any other known backend gets its
  increments queued for the workers (coalesced: at most one waiting per backend). An
  unknown backend, or another backend without the distributed engine, is ``404``.

The queue is built on first use from the service's jobs (their store, Odoo client,
stream catalogue and event bus) and stops with them.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from odoosync.backends import DEFAULT_BACKEND
from odoosync.odoo.values import parse_datetime
from odoosync.service.webhook_queue import WEBHOOK_MODELS, PullQueue, RecordPuller, Target, target_of

__all__ = ["router", "webhook_queue", "redact_access_log", "MAX_BODY_BYTES", "check_secret"]

log = logging.getLogger("odoosync.webhooks")

MAX_BODY_BYTES = 64 * 1024
router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])
_queue_lock = threading.Lock()
_UNAUTHORIZED = "invalid webhook token"


def check_secret(configured: str | None, presented: str | None) -> bool:
    """Constant-time comparison; with no secret configured nothing is accepted."""
    if not configured or not presented:
        return False
    return hmac.compare_digest(presented.encode(), configured.encode())


def webhook_queue(request: Request) -> PullQueue:
    """The app's queue, built from the service's jobs on first use (``503`` without jobs)."""
    app = request.app
    queue = getattr(app.state, "webhook_queue", None)
    if queue is not None:
        return queue
    jobs = app.state.context.jobs
    if jobs is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="no sync jobs in this process")
    with _queue_lock:
        queue = getattr(app.state, "webhook_queue", None)
        if queue is None:
            puller = RecordPuller(
                jobs.store, jobs.client, jobs.catalog, backend=jobs.backend, events=jobs.events, stopping=jobs.stopping
            )
            queue = PullQueue(puller, probe=puller.probe_many, stopping=jobs.stopping)
            app.state.webhook_queue = queue
    return queue


@router.post(
    "/odoo",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Odoo automation rule webhook: queue a pull of the record and answer at once",
    responses={
        401: {"description": "wrong or missing ?token="},
        422: {"description": "unsupported model or bad payload"},
    },
)
async def odoo_webhook(request: Request) -> dict[str, Any]:
    # async only to read the raw body after the token check (a bad token must be a 401
    # whatever the body); nothing here blocks: the pull runs in the queue's thread.
    secret = getattr(request.app.state.context, "webhook_secret", None)
    if not check_secret(secret, request.query_params.get("token")):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=_UNAUTHORIZED)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, detail="payload too large")
    payload = _parse(body)
    target = target_of(payload)
    backend = request.query_params.get("backend") or DEFAULT_BACKEND
    context = request.app.state.context
    served = context.jobs.backend if context.jobs is not None else DEFAULT_BACKEND
    if backend != served:
        return _queue_for_workers(context.dispatcher, backend, target)
    write_date = _write_date(payload)
    webhook_queue(request).submit(target, write_date=write_date, probe=(str(payload["_model"]), int(payload["_id"])))
    return {"queued": {"model": target.model, "id": target.odoo_id}}


def _queue_for_workers(dispatcher: Any, backend: str, target: Target) -> dict[str, Any]:
    """Another backend's change: its increments, queued for the workers (distributed engine only)."""
    known = dispatcher.backends() if dispatcher is not None else []
    if backend not in known:
        detail = "this backend is not served here" if dispatcher is None else "no such backend"
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)
    dispatcher.defer("increments", "webhook", backends=[backend])
    return {"queued": {"model": target.model, "id": target.odoo_id, "backend": backend}}


def _parse(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body or b"null")
    except ValueError:  # not JSON, not UTF-8, or an integer past Python's 4,300-digit limit
        raise HTTPException(
            422, detail="the body must be Odoo's webhook JSON object (ids as integers up to 2^62)"
        ) from None
    if not isinstance(payload, dict):
        raise HTTPException(422, detail="the body must be Odoo's webhook JSON object")
    model, odoo_id = payload.get("_model"), payload.get("_id")
    if model not in WEBHOOK_MODELS:
        raise HTTPException(422, detail=f"unsupported _model: use one of {', '.join(WEBHOOK_MODELS)}")
    if isinstance(odoo_id, bool) or not isinstance(odoo_id, int) or not 0 < odoo_id < 2**62:
        raise HTTPException(422, detail="_id must be a positive integer")
    return payload


def _write_date(payload: dict[str, Any]) -> Any:
    """``write_date`` if the rule sends it (recommended: the pull then waits for it)."""
    value = payload.get("write_date")
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s]*", re.IGNORECASE)


class _RedactToken(logging.Filter):
    """Replaces ``token=...`` in access-log arguments with ``token=***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_QUERY.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = _TOKEN_IN_QUERY.sub(r"\1***", record.msg)
        return True


def redact_access_log() -> None:
    """Keep the webhook secret out of uvicorn's access log (idempotent)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactToken) for f in access.filters):
        access.addFilter(_RedactToken())


redact_access_log()
