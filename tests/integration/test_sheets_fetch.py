"""Fetching sheets from a real local HTTP server: redirects, validators, retries, caps, SSRF."""

from __future__ import annotations

import pytest

from odoosync.exceptions import SheetFetchError, SheetRefused
from odoosync.sheets.fetch import FetchLimits, SheetFetcher
from odoosync.sheets.urls import normalize_sheet_url
from tests.fixtures.sheets import Reply

BODY = b"Title,Email\r\nRoof repair,a@example.com\r\n"


class Waits(list):
    """Records the retry waits instead of sleeping them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def fetcher(waits):
    with SheetFetcher(allow_private=True, sleep=waits, limits=FetchLimits(read_timeout=2.0)) as f:
        yield f


def fetch(fetcher, url, **kw):
    return fetcher.fetch(normalize_sheet_url(url), **kw)


def test_plain_fetch_returns_body_and_validators(sheet_server, fetcher):
    url = sheet_server.serve("/leads.csv", BODY)
    with fetch(fetcher, url) as got:
        assert got.body.read() == BODY
        assert got.etag and got.last_modified and got.size == len(BODY) and got.retries == 0


def test_etag_turns_an_unchanged_sheet_into_a_304(sheet_server, fetcher):
    url = sheet_server.serve("/leads.csv", BODY)
    fetch(fetcher, url).close()
    first = fetch(fetcher, url)
    first.close()
    again = fetch(fetcher, url, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.body is None
    assert sheet_server.requests[-1][1]["If-None-Match"] == first.etag
    sheet_server.serve("/leads.csv", BODY + b"New,b@example.com\r\n")
    changed = fetch(fetcher, url, etag=first.etag)
    changed.close()
    assert not changed.not_modified and changed.etag != first.etag


def test_last_modified_alone_is_honoured(sheet_server, fetcher):
    url = sheet_server.serve("/leads.csv", BODY, etag=False)
    first = fetch(fetcher, url)
    first.close()
    assert first.etag is None
    assert fetch(fetcher, url, last_modified=first.last_modified).not_modified


def test_redirects_are_followed(sheet_server, fetcher):
    sheet_server.serve("/final.csv", BODY)
    sheet_server.redirect("/hop2", "/final.csv", status=307)
    url = sheet_server.redirect("/start", sheet_server.url("/hop2"), status=301)
    with fetch(fetcher, url) as got:
        assert got.body.read() == BODY and got.url.endswith("/final.csv")


def test_redirect_loops_stop(sheet_server, fetcher):
    url = sheet_server.redirect("/a", "/b")
    sheet_server.redirect("/b", "/a")
    with pytest.raises(SheetFetchError, match="redirected more than 5 times"):
        fetch(fetcher, url)


def test_429_then_200_waits_at_least_retry_after(sheet_server, fetcher, waits):
    url = sheet_server.serve("/leads.csv", BODY)
    sheet_server.queue("/leads.csv", Reply(429, {"Retry-After": "3"}))
    retried = []
    with fetch(fetcher, url, on_retry=lambda n, delay, why: retried.append((n, delay, why))) as got:
        assert got.body.read() == BODY and got.retries == 1
    assert waits == [3.0]
    assert retried == [(1, 3.0, "HTTP 429")]


def test_503_three_times_then_200_backs_off_1_2_4(sheet_server, fetcher, waits):
    url = sheet_server.serve("/leads.csv", BODY)
    sheet_server.queue("/leads.csv", *[Reply(503)] * 3)
    with fetch(fetcher, url) as got:
        assert got.body.read() == BODY and got.retries == 3
    assert waits == [1.0, 2.0, 4.0]
    assert sheet_server.hits("/leads.csv") == 4


def test_503_forever_gives_up_after_three_retries(sheet_server, fetcher, waits):
    url = sheet_server.serve("/leads.csv", BODY)
    sheet_server.queue("/leads.csv", *[Reply(503)] * 10)
    with pytest.raises(SheetFetchError, match="after 4 attempts: HTTP 503"):
        fetch(fetcher, url)
    assert waits == [1.0, 2.0, 4.0]


def test_the_base_delay_is_injectable(sheet_server, waits):
    url = sheet_server.serve("/leads.csv", BODY)
    sheet_server.queue("/leads.csv", Reply(500), Reply(502))
    with SheetFetcher(allow_private=True, sleep=waits, limits=FetchLimits(base_delay=0.01)) as f:
        with fetch(f, url) as got:
            assert got.retries == 2
    assert waits == [0.01, 0.02]


def test_resets_and_slow_responses_are_retried(sheet_server, fetcher, waits):
    url = sheet_server.serve("/leads.csv", BODY)
    sheet_server.queue("/leads.csv", Reply(reset=True), Reply(200, {}, BODY, delay=4.0))
    with fetch(fetcher, url) as got:
        assert got.body.read() == BODY
    assert got.retries == 2 and waits == [1.0, 2.0]


@pytest.mark.parametrize("status", [404, 403, 401, 400])
def test_permanent_errors_are_not_retried(sheet_server, fetcher, waits, status):
    url = sheet_server.serve("/leads.csv", BODY)
    sheet_server.queue("/leads.csv", Reply(status))
    with pytest.raises(SheetFetchError, match=f"HTTP {status}"):
        fetch(fetcher, url)
    assert waits == [] and sheet_server.hits("/leads.csv") == 1


def test_google_sign_in_redirect_says_the_sheet_is_not_public(sheet_server, fetcher, waits):
    url = sheet_server.sign_in_redirect("/spreadsheets/d/private/export")
    with pytest.raises(SheetFetchError, match="not shared publicly"):
        fetch(fetcher, url)
    assert waits == []


def test_an_html_page_is_not_a_csv(sheet_server, fetcher):
    url = sheet_server.serve("/page", b"<html></html>", content_type="text/html")
    with pytest.raises(SheetFetchError, match="HTML page, not CSV"):
        fetch(fetcher, url)


def test_size_cap(sheet_server, waits):
    url = sheet_server.serve("/big.csv", b"x" * 5000)
    with SheetFetcher(allow_private=True, sleep=waits, limits=FetchLimits(max_bytes=4096)) as f:
        with pytest.raises(SheetRefused, match="4,096-byte cap"):
            fetch(f, url)


def test_time_cap_stops_a_dripping_body(sheet_server, waits):
    """A body that keeps trickling in is cut at the time cap (the clock is ours, not the wall's:
    every look at it advances it 2 s; a 256 KB body arrives in at least four reads)."""
    ticks = iter(range(0, 2000, 2))
    url = sheet_server.serve("/slow.csv", BODY)
    sheet_server.queue("/slow.csv", Reply(200, {}, b"a,b\r\n" * 52_000, drip=0.0005))
    limits = FetchLimits(max_seconds=5)
    with SheetFetcher(allow_private=True, sleep=waits, limits=limits, clock=lambda: float(next(ticks))) as f:
        with pytest.raises(SheetRefused, match="5 s cap"):
            fetch(f, url)


def test_local_files_need_their_own_setting(tmp_path, waits):
    path = tmp_path / "leads.csv"
    path.write_bytes(BODY)
    for fetcher in (SheetFetcher(sleep=waits), SheetFetcher(allow_private=True, sleep=waits)):
        with fetcher as f, pytest.raises(SheetRefused, match=r"local file.*allow_local_files"):
            fetch(f, str(path))
        with fetcher as f, pytest.raises(SheetRefused, match="local file"):
            fetch(f, path.as_uri())
    with SheetFetcher(allow_files=True, sleep=waits) as f:
        got = fetch(f, path.as_uri())
        assert got.body.read() == BODY
        got.close()
        assert fetch(f, str(path), etag=got.etag).not_modified


# -- SSRF refusals (default policy) --------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://10.0.0.5/leads.csv",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/leads.csv",
        "http://localhost/leads.csv",
    ],
)
def test_ssrf_targets_are_refused_without_a_request(url, waits):
    with SheetFetcher(sleep=waits) as f, pytest.raises(SheetRefused):
        fetch(f, url)
    assert waits == []


def test_loopback_server_is_refused_by_default(sheet_server, waits):
    url = sheet_server.serve("/leads.csv", BODY)
    with SheetFetcher(sleep=waits) as f, pytest.raises(SheetRefused, match=r"127.0.0.1: it is a loopback"):
        fetch(f, url)
    assert sheet_server.hits("/leads.csv") == 0


def test_a_redirect_to_loopback_is_refused(sheet_server, waits):
    """The first host is trusted explicitly; its redirect to another loopback name is not."""
    sheet_server.serve("/secret.csv", BODY)
    url = sheet_server.redirect("/leads.csv", f"http://localhost:{sheet_server.port}/secret.csv")
    trusted = frozenset({("127.0.0.1", sheet_server.port)})
    with SheetFetcher(trusted_hosts=trusted, sleep=waits) as f, pytest.raises(SheetRefused, match="localhost"):
        fetch(f, url)
    assert sheet_server.hits("/secret.csv") == 0


def test_a_redirect_to_a_non_http_scheme_is_refused(sheet_server, fetcher):
    url = sheet_server.redirect("/leads.csv", "file:///etc/passwd")
    with pytest.raises(SheetRefused, match="scheme 'file'"):
        fetch(fetcher, url)


def test_private_networks_allowed_still_never_reach_the_metadata_service(sheet_server, waits):
    """A sheet on the operator's network that redirects to the cloud metadata address."""
    url = sheet_server.redirect("/sheet.csv", "http://169.254.169.254/latest/meta-data/iam/security-credentials/")
    with SheetFetcher(allow_private=True, sleep=waits) as f, pytest.raises(SheetRefused, match="never allowed"):
        fetch(f, url)
    assert waits == []  # refused, not retried


def test_a_fetched_non_sheet_is_never_quoted_in_the_error(sheet_server, tmp_path, store):
    """An internal page or a local file read as a sheet: its first line stays out of the error."""
    from odoosync.sheets.engine import SheetSync

    secret_line = b"AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    url = sheet_server.serve("/internal", secret_line)
    path = tmp_path / "passwd"
    path.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    with SheetFetcher(allow_private=True, allow_files=True, sleep=lambda s: None) as f:
        engine = SheetSync(store, f)
        for source, secret in ((url, "AKIAIOSFODNN7EXAMPLE"), (str(path), "root:x:0")):
            with pytest.raises(Exception) as caught:
                engine.add("c1", source)
            assert "title" in str(caught.value) and secret not in str(caught.value)
