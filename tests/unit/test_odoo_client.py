"""Client checks that need no server: configuration problems are reported before any request."""

from __future__ import annotations

import pytest

from odoosync.exceptions import ConfigError
from odoosync.odoo import OdooClient, OdooConfig


def test_a_client_without_any_secret_says_what_to_set():
    config = OdooConfig(url="http://127.0.0.1:9", db="db", username="admin", protocol="jsonrpc")
    with OdooClient(config) as client, pytest.raises(ConfigError, match="ODOO_PASSWORD or ODOO_API_KEY"):
        client.search("crm.lead", [])


def test_an_unknown_protocol_is_a_configuration_error():
    config = OdooConfig(url="http://127.0.0.1:9", db="db", username="admin", password="pw", protocol="soap")  # type: ignore[arg-type]
    with OdooClient(config) as client, pytest.raises(ConfigError, match="unknown Odoo protocol 'soap'"):
        client.search("crm.lead", [])


def test_json2_without_an_api_key_is_a_configuration_error():
    config = OdooConfig(url="http://127.0.0.1:9", db="db", username="admin", password="pw", protocol="json2")
    with OdooClient(config) as client, pytest.raises(ConfigError, match="ODOO_API_KEY"):
        client.search("crm.lead", [])


def test_repr_shows_where_not_the_secret():
    config = OdooConfig(url="http://odoo.example", db="prod", username="admin", api_key="k" * 40)
    client = OdooClient(config)
    assert "k" * 40 not in repr(client)
    assert "prod" in repr(client) and "closed" in repr(client)
