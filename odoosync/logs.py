"""Logging for every command: one event per line on stderr, as text or JSON.

Under systemd, cron or a container each line becomes one log record, so an event never
spans lines: a message or traceback with line breaks keeps them escaped (``\\n``) in
text, and inside the string in JSON. JSON lines (``--log-format json``) carry ``time``,
``level``, ``logger`` and ``message`` (plus ``error`` with the traceback) for log
shippers; the standard library's ``json`` is all it takes, so no logging library is added.
Every handler redacts URL passwords (``odoosync.redact``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from enum import StrEnum

from odoosync.redact import RedactingFilter

__all__ = ["LogFormat", "configure", "JsonFormatter", "OneLineFormatter"]

_CHATTY = ("httpx", "httpcore", "apscheduler", "alembic", "uvicorn.access")


class LogFormat(StrEnum):
    """How log lines look: ``text`` for people, ``json`` for log shippers."""

    TEXT = "text"
    JSON = "json"


class OneLineFormatter(logging.Formatter):
    """``time LEVEL logger: message``, with line breaks escaped so the event stays one line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "\\r").replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``json.dumps`` escapes any line break in the strings)."""

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            event["error"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a test runner swaps it)."""

    name = "odoosync"

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def configure(log_format: LogFormat | str = LogFormat.TEXT, level: int = logging.INFO) -> None:
    """Send the log to stderr in ``log_format``; a second call replaces the first's handler."""
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if LogFormat(log_format) is LogFormat.JSON else OneLineFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in _CHATTY:  # one line per request or per fire otherwise
        logging.getLogger(chatty).setLevel(logging.WARNING)
