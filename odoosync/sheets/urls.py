"""Sheet URLs as users paste them, turned into the one address that serves CSV.

People copy a Google Sheets link from the browser (``.../edit#gid=N``,
``.../edit?usp=sharing``, a published ``.../pub?output=html`` link); only the CSV export
of that tab is machine-readable, so every Google form becomes
``https://docs.google.com/spreadsheets/d/<id>/export?format=csv[&gid=N]`` (published
links keep their ``/d/e/<id>/pub`` path with ``output=csv``). Any other ``http(s)`` URL
is taken as a CSV as it is; a ``file://`` URL or a plain path names a local file.

Whether an address may be fetched at all (schemes, private networks) is decided in
``guard.py``; this module only says what the address is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

from odoosync.exceptions import SheetRefused

__all__ = ["SheetSource", "normalize_sheet_url", "GOOGLE_SHEETS_HOST"]

GOOGLE_SHEETS_HOST = "docs.google.com"

# /spreadsheets[/u/N]/d/<id>[/<rest>]   and the published form /spreadsheets/d/e/<id>/...
_GOOGLE_PATH = re.compile(r"^/spreadsheets(?:/u/\d+)?/d/(?P<published>e/)?(?P<id>[A-Za-z0-9_-]+)(?P<rest>/.*)?$")
_GID_IN_FRAGMENT = re.compile(r"(?:^|[&#])gid=(?P<gid>\d+)")


@dataclass(frozen=True)
class SheetSource:
    """Where a sheet's CSV comes from: an HTTP(S) URL or a local file."""

    kind: Literal["http", "file"]
    location: str  # the normalised URL, or the absolute file path
    is_google: bool = False

    @property
    def path(self) -> Path:
        """The local file (only for ``kind == "file"``)."""
        return Path(self.location)


def normalize_sheet_url(raw: str) -> SheetSource:
    """The CSV source behind a URL as pasted by a user; ``SheetRefused`` if it is none."""
    text = (raw or "").strip()
    if not text:
        raise SheetRefused("the sheet URL is empty")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return SheetSource("file", str(Path(unquote(parts.path)).resolve()))
    if not scheme or (len(scheme) == 1 and text[1:3] in (":\\", ":/")):
        # A plain path (or a Windows drive letter, which urlsplit takes for a scheme).
        return SheetSource("file", str(Path(text).expanduser().resolve()))
    if scheme not in ("http", "https"):
        raise SheetRefused(f"refusing the sheet URL: scheme {scheme!r} is not http or https")
    if not parts.hostname:
        raise SheetRefused(f"the sheet URL {text!r} names no host")
    if parts.hostname.lower() == GOOGLE_SHEETS_HOST:
        return SheetSource("http", _google_csv_url(parts), is_google=True)
    return SheetSource("http", urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, "")))


def _google_csv_url(parts) -> str:
    match = _GOOGLE_PATH.match(parts.path)
    if match is None:
        raise SheetRefused(f"{parts.geturl()!r} is not a Google Sheets link (expected /spreadsheets/d/<id>/...)")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    gid = query.get("gid")
    fragment_gid = _GID_IN_FRAGMENT.search(parts.fragment or "")
    if fragment_gid:
        gid = fragment_gid.group("gid")
    sheet_id = match.group("id")
    rest = match.group("rest") or ""
    if match.group("published"):
        out = {"output": "csv"}
        if gid is not None:
            out["gid"] = gid
            out["single"] = "true"
        return f"https://{GOOGLE_SHEETS_HOST}/spreadsheets/d/e/{sheet_id}/pub?{urlencode(out)}"
    if rest.startswith("/gviz/tq"):
        return urlunsplit(("https", GOOGLE_SHEETS_HOST, parts.path, parts.query, ""))
    out = {"format": "csv"}
    if gid is not None:
        out["gid"] = gid
    return f"https://{GOOGLE_SHEETS_HOST}/spreadsheets/d/{sheet_id}/export?{urlencode(out)}"
