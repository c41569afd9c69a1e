"""Named SCN networks: where the RPC endpoint, the registry and the permissions contract are.
`local` is built in."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

# The local deploy uses account 0 at nonces 2 and 3, the addresses OCN tools know as `local` too.
LOCAL_REGISTRY = "0x345cA3e014Aaf5dcA488057592ee47305D9B3e10"
LOCAL_PERMISSIONS = "0xf25186B5081Ff5cE73482AD761DB0eB0d25abfBF"
LOCAL_RPC_URL = "http://localhost:8544"
LOCAL_CHAIN_ID = 9
NETWORKS_FILE_ENV = "SCN_NETWORKS_FILE"
DEFAULT_NETWORKS_FILE = Path("~/.config/scn/networks.json")


@dataclass(frozen=True, slots=True)
class Network:
    name: str
    rpc_url: str
    registry: str
    permissions: str | None = None
    """The Permissions contract; None where the network has none."""


BUILT_IN = {"local": Network("local", LOCAL_RPC_URL, LOCAL_REGISTRY, LOCAL_PERMISSIONS)}


class UnknownNetwork(ValueError):
    pass


def networks(networks_file: str | os.PathLike[str] | None = None) -> dict[str, Network]:
    """The built-in networks, extended or overridden by a JSON file of
    `{"name": {"rpc_url": ..., "registry": ..., "permissions": ...}}` (permissions optional; from
    the argument, $SCN_NETWORKS_FILE or ~/.config/scn/networks.json)."""
    path = Path(networks_file or os.environ.get(NETWORKS_FILE_ENV) or DEFAULT_NETWORKS_FILE)
    path = path.expanduser()
    known = dict(BUILT_IN)
    if not path.exists():
        if networks_file:
            raise UnknownNetwork(f"networks file {path} does not exist")
        return known
    try:
        entries = json.loads(path.read_text())
        for name, entry in entries.items():
            base = known.get(name)
            known[name] = Network(
                name,
                entry.get("rpc_url", base.rpc_url if base else None),
                entry.get("registry", base.registry if base else None),
                # A built-in permissions contract reads the built-in registry only.
                entry.get(
                    "permissions", base.permissions if base and "registry" not in entry else None
                ),
            )
            if not known[name].rpc_url or not known[name].registry:
                raise UnknownNetwork(f"network {name!r} in {path} needs rpc_url and registry")
    except (ValueError, AttributeError, TypeError) as error:
        if isinstance(error, UnknownNetwork):
            raise
        raise UnknownNetwork(f"cannot read networks file {path}: {error}") from None
    return known


def network(name: str, networks_file: str | os.PathLike[str] | None = None) -> Network:
    known = networks(networks_file)
    if name not in known:
        raise UnknownNetwork(f"unknown network {name!r}; known: {', '.join(sorted(known))}")
    return known[name]
