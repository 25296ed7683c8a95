"""Credentials in URLs are redacted by parsing, never by replacing the password's text."""

from __future__ import annotations

import logging

from hypothesis import given, settings
from hypothesis import strategies as st

from odoosync.redact import RedactingFilter, redact_text, redact_url

# What a password may hold inside a URL's userinfo without percent-encoding breaking the
# authority: anything printable but the delimiters of the path, query and fragment.
_PASSWORD = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="/?#'\"<>\\"),
    min_size=1,
    max_size=20,
)


@settings(max_examples=200)
@given(password=_PASSWORD, scheme=st.sampled_from(["http", "https", "postgresql", "postgresql+psycopg"]))
def test_the_password_goes_and_the_message_stays(password: str, scheme: str) -> None:
    text = f'connection to server failed: {scheme}://sync:{password}@db.example.com:5432/app "failed" again'
    assert redact_text(text) == (
        f'connection to server failed: {scheme}://sync:***@db.example.com:5432/app "failed" again'
    )


def test_a_short_password_does_not_mangle_words() -> None:
    assert redact_text("password authentication failed for user a") == "password authentication failed for user a"
    assert redact_url("http://u:a@odoo.example.com/jsonrpc") == "http://u:***@odoo.example.com/jsonrpc"


def test_a_raw_at_sign_in_the_password_leaks_nothing() -> None:
    assert redact_url("postgresql://sync:p@ss@w0rd@db/app") == "postgresql://sync:***@db/app"


def test_conninfo_keyword_passwords_and_urls_without_credentials() -> None:
    assert redact_text("invalid dsn: host=db password='se cret' user=x") == "invalid dsn: host=db password=*** user=x"
    assert redact_text("request to https://odoo.example.com/jsonrpc timed out") == (
        "request to https://odoo.example.com/jsonrpc timed out"
    )
    assert redact_url("https://token@hooks.example.com/x") == "https://token@hooks.example.com/x"


def test_the_logging_filter_redacts_the_formatted_message() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed: %s", ("http://u:s3cr3t@h/x",), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "failed: http://u:***@h/x"


def test_a_known_secret_is_masked_where_it_stands_alone_and_words_stay() -> None:
    from odoosync.redact import mask_secret

    assert mask_secret("http://odoo:8069 refused login for p (password p)", "p") == (
        "http://odoo:8069 refused login for *** (password ***)"
    )
    assert mask_secret("key s3cr3t-Key!1 rejected", "s3cr3t-Key!1") == "key *** rejected"
    assert mask_secret("nothing here", "") == "nothing here"
