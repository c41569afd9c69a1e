"""HubClientInfo (OCPI 2.2 mod_hub_client_info): the parties connected to the hub."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from scn_node.scpi.envelope import timestamp
from scn_node.scpi.party import PartyId, Role


class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


@dataclass(frozen=True, slots=True)
class ClientInfo:
    party: PartyId
    role: Role
    status: ConnectionStatus
    last_updated: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "party_id": self.party.party_id,
            "country_code": self.party.country_code,
            "role": self.role.value,
            "status": self.status.value,
            "last_updated": timestamp(self.last_updated),
        }
