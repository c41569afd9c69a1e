"""Settings edges: TOML booleans, values refused with the message a user reads, and values
kept as given."""

from __future__ import annotations

from pathlib import Path

import pytest

from scn_node.settings import Settings, SettingsError

ADDRESS = "0x" + "12" * 20


def test_a_toml_boolean_is_taken_as_it_is(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text("signatures = true\nallow_private_urls = false\n")
    settings = Settings.load({}, config)
    assert settings.signatures is True
    assert settings.allow_private_urls is False


def test_a_count_must_be_positive() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.load({"SCN_PROXY_DAYS": "0", "SCN_MAX_BODY_BYTES": "-1"})
    assert sorted(refused.value.problems) == [
        "SCN_MAX_BODY_BYTES: must be positive",
        "SCN_PROXY_DAYS: must be positive",
    ]


def test_a_permissions_address_is_kept_as_given() -> None:
    assert Settings.load({"SCN_PERMISSIONS_ADDRESS": ADDRESS}).permissions_address == ADDRESS


def test_the_log_level_is_any_case_and_the_format_json_or_text() -> None:
    assert Settings.load({"SCN_LOG_LEVEL": "debug"}).log_level == "DEBUG"
    with pytest.raises(SettingsError) as refused:
        Settings.load({"SCN_LOG_FORMAT": "xml", "SCN_LOG_LEVEL": "verbose"})
    assert sorted(refused.value.problems) == [
        "SCN_LOG_FORMAT: must be json or text",
        "SCN_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR",
    ]


def test_a_database_url_with_its_async_driver_is_kept() -> None:
    url = "postgresql+asyncpg://u@h/db"
    assert Settings.load({"SCN_DATABASE_URL": url}).database_url == url
    with pytest.raises(SettingsError) as refused:
        Settings.load({"SCN_DATABASE_URL": "mysql://u@h/db"})
    assert refused.value.problems == ["SCN_DATABASE_URL: must be a sqlite:/// or postgresql:// URL"]
