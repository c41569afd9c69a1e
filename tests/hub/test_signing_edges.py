"""Signatures edges: a receiver's answer that is not a JSON object."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account

from scn_node.hub.signing import SignaturePolicy, Signatures
from scn_node.scpi.errors import InvalidResponseSignature
from scn_node.scpi.notary import response_values, sign
from scn_node.scpi.party import PartyId
from scn_node.scpi.status import ScpiStatus

RECEIVER = PartyId("DE", "CPO")
KEY = "0x" + "42" * 32


class NoRegistry:
    """The registry is never asked here: nothing in these answers is a signature to check."""

    async def party(self, party: PartyId, *, fresh: bool = False) -> Any:
        raise AssertionError("the registry was asked")


class NodeWallet:
    address = Account.from_key(KEY).address

    def sign(self, data: bytes) -> str:
        raise AssertionError("the node signed")


def signatures() -> Signatures:
    return Signatures(NodeWallet(), NoRegistry())  # type: ignore[arg-type]


async def test_an_answer_that_is_not_json_is_unsigned_where_a_signature_is_required() -> None:
    with pytest.raises(InvalidResponseSignature) as refused:
        await signatures().check_response(
            b"<html>502 Bad Gateway</html>", {}, RECEIVER, SignaturePolicy(sender=True)
        )
    assert refused.value.status is ScpiStatus.SERVER_ERROR
    assert refused.value.status.value == 3000
    assert str(refused.value) == (
        "Receiver DE CPO answered without the scn_signature this message requires"
    )


async def test_an_answer_that_only_mentions_a_signature_is_passed_unchecked() -> None:
    body = b'["scn_signature"]'  # a JSON array, not an envelope
    assert await signatures().check_response(body, {}, RECEIVER, SignaturePolicy()) is None


def test_an_answer_that_is_not_json_is_passed_on_unchanged_rather_than_resigned() -> None:
    notary = sign(response_values(envelope={"status_code": 1000}), KEY)
    body = b"plain text from the party"
    resigned = signatures().resign_response(
        body, {"link": "<x>"}, notary, {"$['headers']['link']": "<y>"}
    )
    assert resigned == body
