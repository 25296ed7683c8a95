"""Secrets out of text: URLs are parsed, never searched for the secret's characters.

Replacing a password's text wherever it occurs mangles messages (password ``a`` turns
"failed" into "f***iled") and misses what the pattern did not foresee (a raw ``@`` in a
password leaked its tail). Here each URL in a message is found as a token and parsed
(the userinfo runs up to the *last* ``@`` of the authority, as an HTTP client or libpq
reads it), and only its password is replaced; libpq's
``password=...`` keyword form is parsed the same way. Used at every sink of error text:
the runs log, API answers, CLI errors and logs.
"""

from __future__ import annotations

import logging
import re

__all__ = ["redact_url", "redact_text", "mask_secret", "RedactingFilter", "MASK"]

MASK = "***"
# A URL token: scheme://authority... up to whitespace or a quote (messages quote URLs).
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")
# libpq keyword/value conninfo: password=value or password='quoted value'.
_CONNINFO_PASSWORD = re.compile(r"\bpassword\s*=\s*(?:'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` with the password of its userinfo replaced by ``***`` (the rest unchanged).

    RFC 3986: the authority follows ``://`` up to the first ``/``, ``?`` or ``#``; its
    userinfo ends at the authority's last ``@``; the password follows the first ``:``.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return url
    user, colon, _password = userinfo.partition(":")
    redacted = f"{user}:{MASK}@{host}" if colon else f"{user}@{host}"
    return f"{scheme}://{redacted}{tail}"


def mask_secret(text: str, secret: str) -> str:
    """``text`` with each standalone occurrence of a known ``secret`` replaced by ``***``:
    one not run into letters or digits, so an echoed password goes and words stay (password
    ``p`` leaves "http" alone). Defence in depth where the secret itself is at hand."""
    if not secret:
        return text
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", MASK, text)


def redact_text(text: str) -> str:
    """``text`` with every URL's password and every ``password=`` value replaced by ``***``."""
    text = _URL.sub(lambda match: redact_url(match.group(0)), text)
    return _CONNINFO_PASSWORD.sub(f"password={MASK}", text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts URLs' passwords in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
