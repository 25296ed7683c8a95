"""Sheet URL forms (C8) and the address rules, without any network."""

from __future__ import annotations

import ipaddress

import pytest

from odoosync.exceptions import SheetRefused
from odoosync.sheets.fetch import retry_delay
from odoosync.sheets.guard import AddressGuard, address_problem
from odoosync.sheets.urls import normalize_sheet_url

SHEET = "1AbC-d_EfGhIjKlMnOpQrStUvWxYz0123456789"


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        (f"https://docs.google.com/spreadsheets/d/{SHEET}/edit#gid=123", f"/d/{SHEET}/export?format=csv&gid=123"),
        (f"https://docs.google.com/spreadsheets/d/{SHEET}/edit?usp=sharing", f"/d/{SHEET}/export?format=csv"),
        (f"https://docs.google.com/spreadsheets/d/{SHEET}/edit?gid=7#gid=7", f"/d/{SHEET}/export?format=csv&gid=7"),
        (f"http://docs.google.com/spreadsheets/u/1/d/{SHEET}/edit#gid=0", f"/d/{SHEET}/export?format=csv&gid=0"),
        (f"https://docs.google.com/spreadsheets/d/{SHEET}", f"/d/{SHEET}/export?format=csv"),
        (
            f"https://docs.google.com/spreadsheets/d/{SHEET}/export?format=csv&gid=5",
            f"/d/{SHEET}/export?format=csv&gid=5",
        ),
        (
            f"https://docs.google.com/spreadsheets/d/e/2PACX-{SHEET}/pub?output=csv",
            f"/d/e/2PACX-{SHEET}/pub?output=csv",
        ),
        (
            f"https://docs.google.com/spreadsheets/d/e/2PACX-{SHEET}/pubhtml?gid=9&single=true",
            f"/d/e/2PACX-{SHEET}/pub?output=csv&gid=9&single=true",
        ),
    ],
)
def test_google_links_become_the_csv_export_of_their_tab(pasted, expected):
    source = normalize_sheet_url(pasted)
    assert source.kind == "http" and source.is_google
    assert source.location == "https://docs.google.com/spreadsheets" + expected


def test_other_http_urls_are_kept_and_lose_only_their_fragment():
    source = normalize_sheet_url("  https://example.com/exports/leads.csv?token=x#top ")
    assert (source.kind, source.location, source.is_google) == (
        "http",
        "https://example.com/exports/leads.csv?token=x",
        False,
    )


def test_local_files_as_path_or_file_url(tmp_path):
    target = tmp_path / "leads.csv"
    assert normalize_sheet_url(str(target)).location == str(target)
    assert normalize_sheet_url(target.as_uri()).kind == "file"
    assert normalize_sheet_url(target.as_uri()).location == str(target)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("ftp://example.com/leads.csv", "scheme 'ftp'"),
        ("gopher://example.com/", "scheme 'gopher'"),
        ("https:///leads.csv", "names no host"),
        ("https://docs.google.com/document/d/abc/edit", "not a Google Sheets link"),
    ],
)
def test_unusable_urls_are_refused_with_the_reason(url, message):
    with pytest.raises(SheetRefused, match=message):
        normalize_sheet_url(url)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "reserved"),
    ],
)
def test_non_public_addresses_are_named(address, kind):
    assert kind in address_problem(ipaddress.ip_address(address))
    with pytest.raises(SheetRefused, match=kind):
        AddressGuard().check_literal_host(address, 80)
    if kind == "link-local":  # metadata services live there: never allowed
        with pytest.raises(SheetRefused, match="never allowed"):
            AddressGuard(allow_private=True, trusted=frozenset({(address, 80)})).check_literal_host(address, 80)
    else:
        AddressGuard(allow_private=True).check_literal_host(address, 80)


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "100.100.100.200",
        "::ffff:169.254.169.254",
        "fe80::a9fe:a9fe",
    ],
)
def test_metadata_and_link_local_addresses_stay_refused_whatever_the_settings(address):
    for guard in (
        AddressGuard(),
        AddressGuard(allow_private=True),
        AddressGuard(allow_private=True, trusted=frozenset({(address, 80)})),
    ):
        with pytest.raises(SheetRefused, match="link-local or cloud metadata address, never allowed"):
            guard.check_literal_host(address, 80)


@pytest.mark.parametrize("address", ["8.8.8.8", "142.250.180.14", "2a00:1450:4001:82b::200e"])
def test_public_addresses_pass(address):
    assert address_problem(ipaddress.ip_address(address)) is None


def test_a_hostname_is_judged_by_what_it_resolves_to():
    with pytest.raises(SheetRefused, match=r"localhost \(.*\): it is a loopback"):
        AddressGuard().resolve("localhost", 80)
    assert AddressGuard(trusted=frozenset({("localhost", 80)})).resolve("localhost", 80)


def test_retry_delays_double_from_the_base_and_are_capped():
    assert [retry_delay(n, base=1, cap=10) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 10]
    assert retry_delay(1, base=1, cap=10, retry_after=3) == 3
    assert retry_delay(3, base=1, cap=10, retry_after=2) == 4
    assert retry_delay(1, base=1, cap=10, retry_after=120) == 10
