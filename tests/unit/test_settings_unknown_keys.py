"""Unknown keys in ``odoosync.toml`` are named (a misspelt key would leave its default in
force silently); every key the README and ``settings.py`` document is known."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoosync.settings import _TOML_KEYS, load_settings, unknown_keys

KNOWN = [(table, key) for table, keys in _TOML_KEYS.items() for key in sorted(keys or ())]


@given(st.sampled_from(KNOWN), st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))
def test_a_key_is_reported_exactly_when_it_is_not_known(known: tuple[str, str], name: str) -> None:
    table, key = known
    assert unknown_keys({table: {key: 1}}) == []
    expected = [] if name in (_TOML_KEYS[table] or ()) else [f"{table}.{name}"]
    assert unknown_keys({table: {name: 1}}) == expected


def test_any_job_name_may_be_scheduled_and_an_unknown_table_is_named() -> None:
    assert unknown_keys({"schedule": {"leads": "* * * * *", "my_job": "0 * * * *"}}) == []
    assert unknown_keys({"sycn": {"page_size": 5}}) == ["sycn"]


def test_loading_warns_naming_the_key_and_keeps_the_rest(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = tmp_path / "odoosync.toml"
    config.write_text("[sync]\npage_size = 50\npage_sise = 100\n")
    with caplog.at_level(logging.WARNING, logger="odoosync.settings"):
        settings = load_settings(env={}, config_path=config)
    assert settings.page_size == 50
    assert [r.getMessage() for r in caplog.records] == [
        "unknown setting sync.page_sise in the config file: ignored (check its spelling)"
    ]
