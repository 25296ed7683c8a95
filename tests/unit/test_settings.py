"""Settings are read at the edge, validated up front, and keep secrets out of repr."""

from __future__ import annotations

import pytest

from odoosync.exceptions import ConfigError
from odoosync.settings import DEFAULT_DATABASE_URL, load_settings

BASE = {"ODOO_URL": "https://erp.example.com/", "ODOO_DB": "prod", "ODOO_USERNAME": "sync"}


def test_defaults_without_odoo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.odoo is None
    assert settings.database_url == DEFAULT_DATABASE_URL
    with pytest.raises(ConfigError, match="ODOO_URL"):
        settings.require_odoo()


def test_environment_builds_odoo_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({**BASE, "ODOO_API_KEY": "k-123", "ODOO_COMPANY_IDS": "1, 3"})
    odoo = settings.require_odoo()
    assert odoo.url == "https://erp.example.com"
    assert odoo.company_ids == (1, 3)
    assert odoo.secret == "k-123"


def test_every_problem_reported_at_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings({"ODOO_URL": "ftp://x", "ODOO_PROTOCOL": "soap", "ODOO_COMPANY_IDS": "a"})
    text = "\n".join(info.value.problems)
    for expected in ("ODOO_DB", "ODOO_USERNAME", "http://", "ODOO_PASSWORD", "ODOO_PROTOCOL", "ODOO_COMPANY_IDS"):
        assert expected in text


def test_secrets_not_in_repr(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({**BASE, "ODOO_PASSWORD": "hunter2-secret", "ODOOSYNC_API_TOKEN": "tok-secret"})
    assert "hunter2-secret" not in repr(settings)
    assert "tok-secret" not in repr(settings)


def test_toml_file_and_environment_precedence(tmp_path):
    path = tmp_path / "odoosync.toml"
    path.write_text(
        '[odoo]\nurl = "https://a.example.com"\ndb = "a"\nusername = "u"\npassword = "p"\n'
        '[database]\nurl = "sqlite:///from-toml.db"\n[schedule]\nleads = "*/2 * * * *"\n'
    )
    settings = load_settings({"ODOO_DB": "from-env"}, config_path=path)
    assert settings.require_odoo().db == "from-env"
    assert settings.database_url == "sqlite:///from-toml.db"
    assert settings.schedule == {"leads": "*/2 * * * *"}


def test_invalid_toml_is_a_config_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[odoo\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({}, config_path=path)


SLA_HOOK = "https://hooks.slack.com/services/T0/B0/sla-hook-secret-7c21"


def test_sla_webhook_url_from_toml_or_environment_never_in_repr(tmp_path):
    path = tmp_path / "odoosync.toml"
    path.write_text(f'[sla]\nwebhook_url = "{SLA_HOOK}"\n')
    from_file = load_settings({}, config_path=path)
    assert from_file.sla_webhook_url == SLA_HOOK
    from_env = load_settings({"ODOOSYNC_SLA_WEBHOOK_URL": "https://example.com/env-hook"}, config_path=path)
    assert from_env.sla_webhook_url == "https://example.com/env-hook", "the environment wins over the file"
    assert "sla-hook-secret" not in repr(from_file) and "env-hook" not in repr(from_env)


def test_a_bad_sla_webhook_url_is_reported_without_quoting_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings({}).sla_webhook_url is None
    with pytest.raises(ConfigError) as info:
        load_settings({"ODOOSYNC_SLA_WEBHOOK_URL": "hooks.slack.com/services/T0/B0/sla-hook-secret-7c21"})
    assert "ODOOSYNC_SLA_WEBHOOK_URL" in str(info.value) and "sla-hook-secret" not in str(info.value)
