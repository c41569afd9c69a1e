"""Node configuration: SCN_* variables, a TOML file, validation, and `scn-node config`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scn_node.cli import cli
from scn_node.settings import Settings, SettingsError

KEY = "0x" + "ab" * 32


def test_defaults_are_the_local_network() -> None:
    settings = Settings.load({})
    assert settings.node_url == "http://localhost:8080"
    assert settings.rpc_url == "http://localhost:8544"
    assert settings.registry_address == "0x345cA3e014Aaf5dcA488057592ee47305D9B3e10"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")


def test_signatures_and_the_permissions_contract() -> None:
    default = Settings.load({})
    assert default.signatures is False
    assert default.permissions_address == "0xf25186B5081Ff5cE73482AD761DB0eB0d25abfBF"
    assert Settings.load({"SCN_SIGNATURES": "true"}).signatures is True
    assert Settings.load({"SCN_SIGNATURES": "off"}).signatures is False
    with pytest.raises(SettingsError) as refused:
        Settings.load({"SCN_SIGNATURES": "maybe", "SCN_PERMISSIONS_ADDRESS": "0x12"})
    assert sorted(refused.value.problems) == [
        "SCN_PERMISSIONS_ADDRESS: '0x12' is not an address (0x and 40 hex digits)",
        "SCN_SIGNATURES: must be true or false",
    ]
    assert Settings.load({"SCN_PERMISSIONS_ADDRESS": "none"}).permissions_address == ""


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text('node_url = "https://file.example.com/"\nport = 9000\nlog_format = "text"\n')
    settings = Settings.load({"SCN_PORT": "9100"}, config)
    assert settings.node_url == "https://file.example.com"  # trailing slash dropped
    assert (settings.port, settings.log_format) == (9100, "text")
    assert Settings.load({"SCN_CONFIG": str(config)}).port == 9000


def test_plain_database_urls_get_the_async_drivers() -> None:
    assert Settings.load({"SCN_DATABASE_URL": "postgresql://u@h/db"}).database_url == (
        "postgresql+asyncpg://u@h/db"
    )
    assert Settings.load({"SCN_DATABASE_URL": "sqlite:///x.db"}).database_url == (
        "sqlite+aiosqlite:///x.db"
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text("colour = 'blue'\n")
    with pytest.raises(SettingsError) as raised:
        Settings.load(
            {
                "SCN_NODE_URL": "localhost:8080",
                "SCN_PORT": "70000",
                "SCN_PRIVATE_KEY": "0x12",
                "SCN_REGISTRY_ADDRESS": "0x1",
                "SCN_PARTY_TIMEOUT": "-1",
                "SCN_DATABASE_URL": "mysql://x",
                "SCN_LOG_LEVEL": "LOUD",
            },
            config,
        )
    problems = "\n".join(raised.value.problems)
    for fragment in (
        "unknown setting 'colour'",
        "SCN_NODE_URL",
        "SCN_PORT: must be a port number",
        "SCN_PRIVATE_KEY: must be 32 bytes of hex",
        "SCN_REGISTRY_ADDRESS",
        "SCN_PARTY_TIMEOUT: must be positive",
        "SCN_DATABASE_URL",
        "SCN_LOG_LEVEL",
    ):
        assert fragment in problems


def test_the_http_client_is_not_a_setting(tmp_path: Path) -> None:
    """aiohttp is the node's only client: SCN_HTTP_CLIENT is gone, and says so in a file."""
    settings = Settings.load({"SCN_HTTP_CLIENT": "httpx"})
    assert "SCN_HTTP_CLIENT" not in settings.masked()
    config = tmp_path / "node.toml"
    config.write_text('http_client = "httpx"\n')
    with pytest.raises(SettingsError) as raised:
        Settings.load({}, config)
    assert raised.value.problems == ["config file: unknown setting 'http_client'"]


def test_config_command_masks_secrets() -> None:
    result = CliRunner().invoke(
        cli,
        ["config", "--json"],
        env={"SCN_PRIVATE_KEY": KEY, "SCN_ADMIN_API_KEY": "very-secret", "SCN_PORT": "8081"},
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["SCN_PORT"] == 8081
    assert shown["SCN_PRIVATE_KEY"] == "(set, hidden)"
    assert shown["SCN_ADMIN_API_KEY"] == "(set, hidden)"
    assert "very-secret" not in result.output and "ab" * 32 not in result.output


def test_config_command_shows_unset_secrets_and_a_table() -> None:
    result = CliRunner().invoke(
        cli, ["config"], env={"SCN_PRIVATE_KEY": "", "SCN_ADMIN_API_KEY": ""}
    )
    assert result.exit_code == 0
    assert "SCN_PRIVATE_KEY" in result.output and "(not set)" in result.output


def test_config_command_exits_2_on_bad_settings() -> None:
    result = CliRunner().invoke(cli, ["config"], env={"SCN_PORT": "x"})
    assert result.exit_code == 2
    assert "configuration: SCN_PORT" in result.output


def test_config_hides_passwords_and_rpc_keys_in_urls() -> None:
    result = CliRunner().invoke(
        cli,
        ["config", "--json"],
        env={
            "SCN_DATABASE_URL": "postgresql://scn:S3cretPw@db:5432/scn",
            "SCN_RPC_URL": "https://mainnet.example.io/v3/api-key-123",
        },
    )
    shown = json.loads(result.output)
    assert shown["SCN_DATABASE_URL"] == "postgresql+asyncpg://scn:***@db:5432/scn"
    assert shown["SCN_RPC_URL"] == "https://mainnet.example.io/***"
    assert "S3cretPw" not in result.output and "api-key-123" not in result.output


@pytest.mark.parametrize(
    ("node_url", "setting", "calls_private"),
    [
        ("http://localhost:8080", None, True),
        ("http://127.0.0.1:8080", None, True),
        ("http://10.1.2.3", None, True),
        ("https://node.example.com", None, False),
        ("https://node.example.com", "true", True),
        ("http://localhost:8080", "false", False),
    ],
)
def test_private_party_urls_are_called_only_by_local_nodes(
    node_url: str, setting: str | None, calls_private: bool
) -> None:
    env = {"SCN_NODE_URL": node_url}
    if setting is not None:
        env["SCN_ALLOW_PRIVATE_URLS"] = setting
    assert Settings.load(env).calls_private_urls is calls_private


def test_request_head_and_keepalive_timeouts() -> None:
    default = Settings.load({})
    assert (default.request_head_timeout, default.keepalive_timeout) == (10.0, 75.0)
    chosen = Settings.load({"SCN_REQUEST_HEAD_TIMEOUT": "2.5", "SCN_KEEPALIVE_TIMEOUT": "30"})
    assert (chosen.request_head_timeout, chosen.keepalive_timeout) == (2.5, 30.0)
    with pytest.raises(SettingsError) as refused:
        Settings.load({"SCN_REQUEST_HEAD_TIMEOUT": "0", "SCN_KEEPALIVE_TIMEOUT": "-1"})
    assert sorted(refused.value.problems) == [
        "SCN_KEEPALIVE_TIMEOUT: must be positive",
        "SCN_REQUEST_HEAD_TIMEOUT: must be positive",
    ]


@pytest.mark.parametrize(
    ("env", "shown", "line"),
    [
        ({}, True, "true (default: the node URL is local)"),
        (
            {"SCN_NODE_URL": "https://node.example.com"},
            False,
            "false (default: the node URL is public)",
        ),
        (
            {"SCN_NODE_URL": "https://node.example.com", "SCN_ALLOW_PRIVATE_URLS": "yes"},
            True,
            "true (set)",
        ),
    ],
)
def test_config_shows_whether_private_urls_are_called(
    env: dict[str, str], shown: bool, line: str
) -> None:
    as_json = CliRunner().invoke(cli, ["config", "--json"], env=env)
    assert json.loads(as_json.output)["SCN_ALLOW_PRIVATE_URLS"] is shown
    table = CliRunner().invoke(cli, ["config"], env=env)
    (row,) = [r for r in table.output.splitlines() if r.startswith("SCN_ALLOW_PRIVATE_URLS")]
    assert row.split(None, 1)[1] == line
    assert "None" not in table.output


def test_broadcast_wait_is_off_unless_set() -> None:
    assert Settings.load({}).broadcast_wait is False
    assert Settings.load({"SCN_BROADCAST_WAIT": "true"}).broadcast_wait is True
    assert Settings.load({"SCN_BROADCAST_WAIT": "no"}).broadcast_wait is False
    with pytest.raises(SettingsError) as refused:
        Settings.load({"SCN_BROADCAST_WAIT": "sometimes"})
    assert refused.value.problems == ["SCN_BROADCAST_WAIT: must be true or false"]
    assert Settings.load({"SCN_BROADCAST_WAIT": "on"}).masked()["SCN_BROADCAST_WAIT"] is True
