"""HubClientInfo (OCPI 2.2 mod_hub_client_info): the parties connected to the hub."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from scn_node.scpi.envelope import decode, timestamp
from scn_node.scpi.errors import InvalidParameters
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

    def encode(self) -> bytes:
        """The body of a PUT to a party's receiver or to a peer node, in OCN's key order."""
        return json.dumps(self.to_json(), separators=(",", ":")).encode()


# How far ahead of this node's clock a ClientInfo may be dated: clocks drift a little, but a
# later date wins over every change before it, so one far ahead would pin the party's status.
MAX_CLOCK_SKEW = timedelta(minutes=2)


def parse_client_info(raw: bytes, now: datetime) -> ClientInfo:
    """A ClientInfo object; MalformedJson if `raw` is not JSON, InvalidParameters if not one
    or if it is dated more than MAX_CLOCK_SKEW after `now`."""
    data = decode(raw)
    try:
        moment = datetime.fromisoformat(str(data["last_updated"]).replace("Z", "+00:00"))
        info = ClientInfo(
            PartyId.parse(str(data["country_code"]), str(data["party_id"])),
            Role(data["role"]),
            ConnectionStatus(data["status"]),
            # In UTC, as it is stored: a date that has no UTC form is refused here.
            moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC),
        )
    except (KeyError, TypeError, ValueError, OverflowError) as error:  # InvalidPartyId: ValueError
        raise InvalidParameters(f"Not a ClientInfo object: {error}") from None
    if info.last_updated > now + MAX_CLOCK_SKEW:
        raise InvalidParameters(
            f"ClientInfo last_updated {data['last_updated']} is in the future "
            f"(this node's clock says {timestamp(now)}; at most 2 minutes ahead is accepted)"
        )
    return info
