"""Identifiers that name their party: eMI3 contract ids (the eMSP) and EVSE ids (the CPO).

An eMI3 contract id (EMAID) is the eMSP's country code and provider id, the instance letter C
and eight characters, with an optional check character: `DE-MSP-C12345678-X` or
`DEMSPC12345678X`. An EVSE id is the CPO's country code and operator id, the letter E and the
EVSE's own id: `DE*CPO*E123456*1` or `DECPOE123456`. In OCPI the eMSP's and the CPO's party_id
are these provider and operator ids, so the id names the party (still to be checked: the id is
only text a party sent). Pure: no state, no I/O.
"""

from __future__ import annotations

import re

from scn_node.scpi.party import PartyId

_CONTRACT_ID = re.compile(
    r"(?P<cc>[A-Z]{2})(?P<sep>-?)(?P<pid>[A-Z0-9]{3})(?P=sep)C[A-Z0-9]{8}(?:(?P=sep)[A-Z0-9])?",
    re.IGNORECASE,
)
_EVSE_ID = re.compile(
    r"(?P<cc>[A-Z]{2})(?P<sep>\*?)(?P<pid>[A-Z0-9]{3})(?P=sep)E[A-Z0-9][A-Z0-9*]{0,30}",
    re.IGNORECASE,
)


def emsp_of_contract(contract_id: object) -> PartyId | None:
    """The eMSP an eMI3 contract id names; None if `contract_id` is not one."""
    return _party(_CONTRACT_ID, contract_id)


def cpo_of_evse(evse_id: object) -> PartyId | None:
    """The CPO an EVSE id names; None if `evse_id` is not one."""
    return _party(_EVSE_ID, evse_id)


def _party(pattern: re.Pattern[str], text: object) -> PartyId | None:
    if not isinstance(text, str):
        return None
    match = pattern.fullmatch(text.strip())
    if match is None:
        return None
    return PartyId.parse(match["cc"], match["pid"])  # the pattern admits valid ones only
