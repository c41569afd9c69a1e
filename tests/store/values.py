"""Hub values for the store tests: registrations as a completed handshake hands them over."""

from __future__ import annotations

import uuid

from scn_node.hub.ports import PartyRole, Registration
from scn_node.scpi.authorization import TokenForm
from scn_node.scpi.party import PartyId, Role
from scn_node.scpi.versions import Endpoint, InterfaceRole

CPO = PartyId("DE", "CPO")
MSP = PartyId("DE", "MSP")


def registration(*roles: tuple[PartyId, Role], token_c: str | None = None) -> Registration:
    """A handshake for `roles`, with fresh tokens B and C and one locations endpoint."""
    first = roles[0][0]
    return Registration(
        token_b=f"token-b-{uuid.uuid4()}",
        token_form=TokenForm.PLAIN,
        versions_url=f"https://{first.party_id.lower()}.example/versions",
        version="2.2.1",
        roles=tuple(PartyRole(role, party, {"name": str(party)}) for party, role in roles),
        endpoints=(
            Endpoint(
                identifier="locations",
                role=InterfaceRole.SENDER,
                url=f"https://{first.party_id.lower()}.example/locations",
            ),
        ),
        token_c=token_c or f"token-c-{uuid.uuid4()}",
    )
