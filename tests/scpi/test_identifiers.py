"""Identifiers that name their party: which eMSP a contract id names, which CPO an EVSE id."""

from __future__ import annotations

import pytest

from scn_node.scpi.identifiers import cpo_of_evse, emsp_of_contract
from scn_node.scpi.party import PartyId

DE_MSP = PartyId("DE", "MSP")
NL_CPO = PartyId("NL", "CPO")


@pytest.mark.parametrize(
    ("contract_id", "emsp"),
    [
        ("DE-MSP-C12345678-X", DE_MSP),  # eMI3 with dashes and the check character
        ("DEMSPC12345678X", DE_MSP),  # without dashes
        ("DE-MSP-C12345678", DE_MSP),  # no check character
        ("DEMSPC12345678", DE_MSP),
        ("de-msp-c1234abcd-x", DE_MSP),  # case does not matter; the party comes upper-case
        ("DE-MSP-c12345678-X", DE_MSP),
        ("NL-4AB-CAB12CD34-7", PartyId("NL", "4AB")),
        (" DEMSPC12345678X ", DE_MSP),
        # not contract ids
        ("", None),
        ("012345678", None),  # an RFID uid
        ("DE-MSP-X12345678-X", None),  # the instance letter must be C
        ("DE-MSP-C1234567-X", None),  # seven characters
        ("DE-MSP-C123456789-XY", None),
        ("DE-MSPC12345678-X", None),  # dashes come everywhere or nowhere
        ("D1-MSP-C12345678-X", None),  # country: two letters
        ("DE-MS-C12345678-X", None),
        ("DE*MSP*C12345678", None),
        (None, None),
        (12345678, None),
    ],
)
def test_a_contract_id_names_its_emsp(contract_id: object, emsp: PartyId | None) -> None:
    assert emsp_of_contract(contract_id) == emsp


@pytest.mark.parametrize(
    ("evse_id", "cpo"),
    [
        ("NL*CPO*E123456*1", NL_CPO),
        ("NL*CPO*E123456", NL_CPO),
        ("NLCPOE123456", NL_CPO),  # without stars
        ("nl*cpo*e1", NL_CPO),
        ("DE*A2B*EABC*DEF*1", PartyId("DE", "A2B")),
        # not EVSE ids
        ("", None),
        ("3256", None),  # an EVSE uid
        ("NL*CPO*123456", None),  # the E is missing
        ("NL*CPO*E", None),  # no id after the E
        ("NLCPO*E123", None),  # stars come everywhere or nowhere
        ("N1*CPO*E123", None),
        ("NL-CPO-E123", None),
        ("NL*CPO*E12-3", None),
        (None, None),
        (["NL*CPO*E1"], None),
    ],
)
def test_an_evse_id_names_its_cpo(evse_id: object, cpo: PartyId | None) -> None:
    assert cpo_of_evse(evse_id) == cpo
