"""Fetching a sheet's CSV: redirects, conditional requests, retries, caps.

One fetch is a few HTTP requests at most: redirects are followed by hand (each hop is
checked: scheme, a Google sign-in page, the address guard at connect time), ``ETag`` /
``Last-Modified`` from the last successful sync turn an unchanged sheet into a 304, and
transient failures (timeouts, resets, 429, 5xx) are retried after 1 s, 2 s, 4 s (capped
at 10 s, longer when the server's ``Retry-After`` asks for it). 404/403 are not retried:
they will not fix themselves.

The body is streamed into a spooled temporary file (memory up to a few MB, then disk)
and capped in bytes and seconds, so a 100k-row sheet or a hostile endless body never
sits in memory; the parser then streams it from there.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import IO
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from odoosync.exceptions import SheetFetchError, SheetRefused
from odoosync.sheets.guard import AddressGuard, GuardedNetworkBackend
from odoosync.sheets.urls import SheetSource

__all__ = ["FetchLimits", "FetchedSheet", "SheetFetcher", "retry_delay"]

_SPOOL_IN_MEMORY_BYTES = 4 * 1024 * 1024
# Not implied by allow_private_networks: a file path reads the service's own disk.
ALLOW_FILES_HINT = "set sheets.allow_local_files (ODOOSYNC_SHEETS_ALLOW_FILES=1) to allow local files"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SIGN_IN_MARKERS = ("/servicelogin", "/signin")  # Google: /ServiceLogin, /v3/signin/identifier
_NOT_PUBLIC = (
    "the sheet is not shared publicly (Google asked for a sign-in); "
    "in Google Sheets use Share → General access → Anyone with the link, or File → Share → Publish to web"
)


@dataclass(frozen=True)
class FetchLimits:
    """Caps and retry policy for one fetch. ``base_delay`` is injectable so tests run fast."""

    max_bytes: int = 100 * 1024 * 1024
    max_seconds: float = 300.0  # the whole fetch, retries included
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 3  # after the first attempt: waits of 1 s, 2 s, 4 s
    base_delay: float = 1.0
    max_delay: float = 10.0
    max_redirects: int = 5


@dataclass
class FetchedSheet:
    """A fetched CSV body (a seekable binary file at offset 0), or ``not_modified``."""

    body: IO[bytes] | None
    url: str
    etag: str | None = None
    last_modified: str | None = None
    size: int = 0
    sha256: str | None = None  # of the body as received (HTTP only)
    retries: int = 0
    not_modified: bool = False

    def content(self) -> IO[bytes]:
        """The body to parse; a ``not_modified`` answer has none."""
        if self.body is None:
            raise SheetFetchError(f"{self.url} answered 304 Not Modified: there is no body to read")
        return self.body

    def close(self) -> None:
        if self.body is not None:
            self.body.close()

    def __enter__(self) -> FetchedSheet:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def retry_delay(retry_number: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds before retry ``retry_number`` (1-based): base·2^(n-1), at least Retry-After, at most cap."""
    delay = base * (2 ** (retry_number - 1))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap)


class _Transient(Exception):
    """An attempt failed in a way another attempt may not."""

    def __init__(self, reason: str, retry_after: float | None = None):
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(reason)


class SheetFetcher:
    """Fetches sheet sources under one address policy; reusable, owns one HTTP connection pool.

    ``sleep`` and ``clock`` are injectable (tests record the waits instead of sleeping);
    ``on_retry(retry_number, delay, reason)`` is told about each retry before its wait.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        allow_files: bool = False,
        trusted_hosts: frozenset[tuple[str, int]] = frozenset(),
        limits: FetchLimits = FetchLimits(),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.guard = AddressGuard(allow_private=allow_private, trusted=trusted_hosts)
        self.allow_files = allow_files
        self.limits = limits
        self._sleep = sleep
        self._clock = clock
        self._client: httpx.Client | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> SheetFetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def fetch(
        self,
        source: SheetSource,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        on_retry: Callable[[int, float, str], None] | None = None,
    ) -> FetchedSheet:
        """The sheet's CSV, or ``not_modified`` when its validators still match."""
        if source.kind == "file":
            return self._fetch_file(source, etag)
        deadline = self._clock() + self.limits.max_seconds
        retries = 0
        while True:
            try:
                fetched = self._attempt(source, etag, last_modified, deadline)
                fetched.retries = retries
                return fetched
            except _Transient as failure:
                if retries >= self.limits.retries:
                    raise SheetFetchError(
                        f"could not fetch {source.location} after {retries + 1} attempts: {failure.reason}"
                    ) from None
                retries += 1
                delay = retry_delay(
                    retries, base=self.limits.base_delay, cap=self.limits.max_delay, retry_after=failure.retry_after
                )
                if self._clock() + delay > deadline:
                    raise SheetRefused(
                        f"fetching {source.location} would exceed the {self.limits.max_seconds:g} s time cap "
                        f"(last error: {failure.reason})"
                    ) from None
                if on_retry is not None:
                    on_retry(retries, delay, failure.reason)
                self._sleep(delay)

    # -- one attempt -------------------------------------------------------------------

    def _attempt(
        self, source: SheetSource, etag: str | None, last_modified: str | None, deadline: float
    ) -> FetchedSheet:
        headers = {"Accept": "text/csv, text/plain;q=0.9, */*;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        url = source.location
        for _hop in range(self.limits.max_redirects + 1):
            self._check_url(url)
            try:
                with self._http().stream("GET", url, headers=headers) as response:
                    if response.status_code in _REDIRECTS:
                        url = self._next_hop(url, response)
                        continue
                    return self._read(source, url, response, deadline)
            except httpx.TimeoutException as exc:
                raise _Transient(_timeout_words(exc)) from exc
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                raise _Transient(f"the connection failed ({exc or 'closed by the server'})") from exc
        raise SheetFetchError(f"{source.location} redirected more than {self.limits.max_redirects} times")

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise SheetRefused(f"refusing to follow {url!r}: scheme {parts.scheme!r} is not http or https")
        self.guard.check_literal_host(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))

    def _next_hop(self, url: str, response: httpx.Response) -> str:
        location = response.headers.get("Location")
        if not location:
            raise SheetFetchError(f"{url} answered HTTP {response.status_code} without a Location")
        target = urljoin(url, location)
        parts = urlsplit(target)
        if (parts.hostname or "").lower() == "accounts.google.com" or any(
            marker in parts.path.lower() for marker in _SIGN_IN_MARKERS
        ):
            raise SheetFetchError(_NOT_PUBLIC)
        return target

    def _read(self, source: SheetSource, url: str, response: httpx.Response, deadline: float) -> FetchedSheet:
        status = response.status_code
        if status == 304:
            return FetchedSheet(None, url, not_modified=True)
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}", retry_after=_retry_after_seconds(response))
        if status in (401, 403):
            raise SheetFetchError(_NOT_PUBLIC if source.is_google else f"{url} refused access (HTTP {status})")
        if status == 404:
            raise SheetFetchError(f"{url} was not found (HTTP 404): check the sheet URL")
        if status != 200:
            raise SheetFetchError(f"{url} answered HTTP {status}")
        if response.headers.get("Content-Type", "").lower().startswith("text/html"):
            raise SheetFetchError(
                _NOT_PUBLIC if source.is_google else f"{url} returned an HTML page, not CSV: check the sheet URL"
            )
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise SheetRefused(f"the sheet is {int(declared):,} bytes, over the {self.limits.max_bytes:,}-byte cap")
        body = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115 - FetchedSheet closes it
        digest = hashlib.sha256()
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.limits.max_bytes:
                    raise SheetRefused(f"the sheet is over the {self.limits.max_bytes:,}-byte cap")
                if self._clock() > deadline:
                    raise SheetRefused(f"fetching the sheet took longer than the {self.limits.max_seconds:g} s cap")
                body.write(chunk)
                digest.update(chunk)
        except BaseException:
            body.close()
            raise
        body.seek(0)
        return FetchedSheet(
            body,
            url,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            size=size,
            sha256=digest.hexdigest(),
        )

    def _fetch_file(self, source: SheetSource, etag: str | None) -> FetchedSheet:
        if not self.allow_files:
            raise SheetRefused(f"refusing to read the local file {source.location}; {ALLOW_FILES_HINT}")
        try:
            stat = os.stat(source.location)
            if stat.st_size > self.limits.max_bytes:
                raise SheetRefused(f"the sheet is {stat.st_size:,} bytes, over the {self.limits.max_bytes:,}-byte cap")
            validator = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
            if etag == validator:
                return FetchedSheet(None, source.location, not_modified=True)
            body = open(source.location, "rb")  # noqa: SIM115 - FetchedSheet closes it
        except OSError as exc:
            raise SheetFetchError(f"cannot read {source.location}: {exc.strerror}") from exc
        return FetchedSheet(body, source.location, etag=validator, size=stat.st_size)

    def _http(self) -> httpx.Client:
        if self._client is None:
            transport = httpx.HTTPTransport(retries=0)
            # Every connection, redirects included, goes through the address guard.
            transport._pool = httpcore.ConnectionPool(
                ssl_context=httpx.create_ssl_context(),
                network_backend=GuardedNetworkBackend(self.guard),
                retries=0,
            )
            self._client = httpx.Client(
                transport=transport,
                follow_redirects=False,
                trust_env=False,
                timeout=httpx.Timeout(self.limits.read_timeout, connect=self.limits.connect_timeout),
                headers={"User-Agent": "odoosync-sheets"},
            )
        return self._client


def _timeout_words(exc: httpx.TimeoutException) -> str:
    """A timeout in the user's words (httpx's class names are ours, not theirs)."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "the server did not accept the connection in time"
    if isinstance(exc, httpx.PoolTimeout):
        return "no connection was free in time"
    return "the server took too long to send the sheet" if isinstance(exc, httpx.ReadTimeout) else "timed out"


def _retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date measured against the response's Date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
        sent = parsedate_to_datetime(response.headers["Date"])
    except (KeyError, TypeError, ValueError):
        return None
    return max(0.0, (when - sent).total_seconds())
