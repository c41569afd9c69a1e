"""The node's configuration: the only place the environment and config files are read.

Each setting comes from `SCN_<NAME>` in the environment, else from the TOML config file
(`--config` or `SCN_CONFIG`, keys in lower case), else from its default.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scn_node.registry.networks import LOCAL_PERMISSIONS, LOCAL_REGISTRY, LOCAL_RPC_URL

_HEX_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_ZERO_IS_OFF = frozenset({"still_alive_seconds", "planned_party_seconds"})
SECRETS = frozenset({"private_key", "admin_api_key"})


class SettingsError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Settings:
    node_url: str = "http://localhost:8080"
    host: str = "127.0.0.1"
    port: int = 8080
    private_key: str | None = None
    admin_api_key: str | None = None
    database_url: str = "sqlite+aiosqlite:///scn-node.db"
    rpc_url: str = LOCAL_RPC_URL
    registry_address: str = LOCAL_REGISTRY
    # The Permissions contract (services and agreements); "none": no service copies.
    permissions_address: str = LOCAL_PERMISSIONS
    signatures: bool = False  # require every party's requests and answers to be signed
    # A broadcast push is answered once every leg has ended, saying how many succeeded (else at
    # once, the legs in the background).
    broadcast_wait: bool = False
    party_timeout: float = 30.0  # seconds a receiver may take to answer a forwarded request
    connect_timeout: float = 5.0
    registry_timeout: float = 10.0
    registry_cache_seconds: float = 60.0
    registry_poll_seconds: float = 5.0  # how often the contract's events are checked
    max_body_bytes: int = 1_048_576
    # Seconds a client has to send a request's head (line and headers), from connecting or from
    # its first byte: slow clients cannot hold connections (and file descriptors) open.
    request_head_timeout: float = 10.0
    # Seconds an idle connection stays open between requests. Longer than the idle time of the
    # clients and proxies that reuse connections (aiohttp 15 s, nginx and load balancers 60 s),
    # so none sends a request on a connection the node is closing.
    keepalive_timeout: float = 75.0
    proxy_days: int = 30  # node URLs standing for party URLs (pages, CDRs, results) expire
    still_alive_seconds: float = 300.0  # a party silent this long is called; 0: never
    planned_party_seconds: float = 3600.0  # how often to look for PLANNED parties; 0: never
    allow_private_urls: bool | None = None  # None: allowed when the node itself is local
    log_level: str = "INFO"
    log_format: str = "json"

    @classmethod
    def load(cls, env: Mapping[str, str], config_file: str | Path | None = None) -> Settings:
        values: dict[str, Any] = {}
        config_file = config_file or env.get("SCN_CONFIG")
        problems: list[str] = []
        if config_file:
            try:
                values.update(tomllib.loads(Path(config_file).read_text()))
            except (OSError, tomllib.TOMLDecodeError) as error:
                raise SettingsError([f"config file {config_file}: {error}"]) from None
        names = {f.name for f in fields(cls)}
        problems += [f"config file: unknown setting {key!r}" for key in values if key not in names]
        for name in names:
            raw = env.get(f"SCN_{name.upper()}")
            if raw is not None and raw != "":
                values[name] = raw
        settings: dict[str, Any] = {}
        for field in fields(cls):
            if field.name not in values:
                continue
            try:
                settings[field.name] = _convert(field.name, field.type, values[field.name])
            except ValueError as error:
                problems.append(f"SCN_{field.name.upper()}: {error}")
        if problems:
            raise SettingsError(problems)
        return cls(**settings)

    @property
    def calls_private_urls(self) -> bool:
        """Whether the node calls parties at loopback and private addresses (a local network)."""
        if self.allow_private_urls is not None:
            return self.allow_private_urls
        host = urlsplit(self.node_url).hostname or ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host == "localhost" or host.endswith(".localhost")
        return address.is_loopback or address.is_private

    def masked(self) -> dict[str, object]:
        """Every setting's effective value, with secrets shown only as set or not set, and URLs
        without passwords."""
        shown: dict[str, object] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name in SECRETS:
                value = "(set, hidden)" if value else "(not set)"
            elif field.name in ("database_url", "rpc_url"):
                value = _without_credentials(value)
            elif field.name == "allow_private_urls":
                value = self.calls_private_urls
            shown[f"SCN_{field.name.upper()}"] = value
        return shown

    def private_urls_reason(self) -> str:
        """Why the node does or does not call private addresses, for `scn-node config`."""
        if self.allow_private_urls is not None:
            return "set"
        local = "local" if self.calls_private_urls else "public"
        return f"default: the node URL is {local}"


def _without_credentials(url: str) -> str:
    """A URL with its password, and any path or query that may carry an API key, hidden."""
    parts = urlsplit(url)
    if "@" not in parts.netloc and not parts.scheme.startswith("http"):
        return url
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':')[0]}:***@{host}" if ":" in user else netloc
    path = parts.path
    if parts.scheme.startswith("http") and (path.strip("/") or parts.query):
        path, query = "/***", ""
    else:
        query = parts.query
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _convert(name: str, kind: object, raw: object) -> object:
    text = str(raw).strip()
    if kind in ("bool | None", "bool"):
        if isinstance(raw, bool):
            return raw
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError("must be true or false")
    if kind in ("int", int):
        value = int(text)
        if name == "port" and not 0 <= value <= 65535:
            raise ValueError("must be a port number (0-65535)")
        if value <= 0 and name != "port":
            raise ValueError("must be positive")
        return value
    if kind in ("float", float):
        number = float(text)
        if name in _ZERO_IS_OFF:
            if not number >= 0:  # NaN too
                raise ValueError("must be 0 (off) or positive")
            return number
        if number <= 0:
            raise ValueError("must be positive")
        return number
    if name in ("node_url", "rpc_url"):
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", text):
            raise ValueError(f"{text!r} is not an http(s) URL")
        return text.rstrip("/")
    if name == "private_key":
        if not _HEX_KEY.fullmatch(text):
            raise ValueError("must be 32 bytes of hex (64 hex digits, 0x optional)")
        return text if text.startswith("0x") else "0x" + text
    if name == "permissions_address":
        if text.lower() in ("", "none"):
            return ""  # no Permissions contract: no service copies
        if not _ADDRESS.fullmatch(text):
            raise ValueError(f"{text!r} is not an address (0x and 40 hex digits)")
    if name == "registry_address" and not _ADDRESS.fullmatch(text):
        raise ValueError(f"{text!r} is not an address (0x and 40 hex digits)")
    if name == "database_url":
        return _database_url(text)
    if name == "log_level":
        if text.upper() not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
        return text.upper()
    if name == "log_format" and text not in ("json", "text"):
        raise ValueError("must be json or text")
    return text


def _database_url(url: str) -> str:
    """Accept the plain spellings users know and pick the async drivers for them."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        raise ValueError("must be a sqlite:/// or postgresql:// URL")
    return url
