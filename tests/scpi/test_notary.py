"""Party message signatures (Notary): the OCN interop vector under SCN names, rewrite chains,
and every way a signature string can be malformed."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path

import brotli
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_hash.auto import keccak

from scn_node.scpi.notary import (
    RESPONSE_FIELD,
    SIGNATURE_HEADER,
    Notary,
    NotaryError,
    Rewrite,
    Signer,
    recover,
    request_values,
    response_values,
    sign,
    sign_with,
)
from scn_node.scpi.party import PartyId

# --- the Notary's CompatibilityTest (JVM and JS) from the OCN notary library ----------------

USER_KEY = "0x7f2797a1a866312ce20f7811fd24ccdb001786b035b516399c848eabfb9d992e"
USER_ADDRESS = "0x11b2D450Ff69aEd749389Ce8A984eB2eA2b91cF2"
NODE_KEY = "0x8f4b958bdeebe2912567acda9a31f8f32468108a29116cf238d2562e8243bae3"
NODE_ADDRESS = "0x8D2968AFCfea7Ae47FA5A144E177BFD4a27C3E59"

OCN_SIGNATURE = (
    "GxkFAGQzVV9/dmS0iglwgPSve/zcBRJgoyz5JGaswZvOU74mAz3PNlplUXwuzrNAH+GMwjwATrfpIUL8jqUZXaF7t6aNeiK"
    "LWW/Mw83OGLbpZef3ZudqGESb74T7OJ0No+z8Nk9hG1PdjkObp9Ohmfjq10OdRMFttzz3a8bqfbJ4n0wok1zv/N7snFXj3/P"
    "5xM/36VjPdn5vdmIG/pqBMF7P310oU+i5v2a/3rInrtNZn7n2tdq4LOc6Q0i/ejdNd3k4dj0Zl86R+4SX/vd8K9w1DvP/EFv"
    "+TC8W/Zv7f//91BzycmjWxl7lUpkkF0hR1RUUSkFbVARsksm2qo6KTdh8kpxqU6acLIMkUQjVPDXzcmHWxl4JU2sUibDWnCq"
    "BBapBIxQUDTk6tda7WEOLIqzFM2ptpTRrwQdACKypSS0ewCuAkjRpkL0iB4dFAkYKMWAllhwapOgbqmsZBFkRqnlqlvH/Gfd"
    "pvjZrY6/SS8wxPXv9oinTM/X0+ll4Bt6/AqLnr196RnrhXoVsnppZL+ex62LWm1sz6+U89q5nr0c9kcWsb83DzU4pmOmyHlm"
    "bw963y3q14u14sJ0nOTidyngy9utRguRdfN+DcVpNdTuu8ABXi56Jzqs6nZ7ymSyrHz+fff/598erHz/effm8Aoe+uZaH6qU"
    "OnpMdClc3MBP7gtikqbkv5uMFWvM5EQYo5JhzTdE6JsZiOaETFXHRV3RFiHOKhN43AfTMPkeU71PZVWWXY7LRpaQQChaFhhW"
    "jxmKVuNVcuEEMwhFahCRciibvqw0QA6EtxWXICFjFQkbrbCogSSWoI/KlsLgcgy1RayUmlEzNKqXQQG4FKPjSB/u6xcyvhHx"
    "2Kb/Q9Cwnr89Rn2HJUF+juf99Dw=="
)
USER_HASH = "0xd1ff4987251b73aa9c8603a7a2b0a823dedd364c23bd7a9867244fd124aa4962"
USER_RSV = (
    "0xca3cea396806388e15b2be1f2c26e6b0e7afc9baf165da61f618dabbe844c051"
    "65720bb3919212cd01920308b1d8ed5e3774bbad39650b6ecc7a72d97f0e785f1c"
)
NODE_HASH = "0x9bca7d9b186ee3b2d785ef6e212fd970fce37b082f48d98cfea7980a1d8de15c"
NODE_RSV = (
    "0xda7ff76772cc98c71017c5e61b2de5963e00436c5f6ddaeb4a2ecfbbf0014512"
    "15ae8fdcb4114e11e7dfdf194e2a532bd52675652c7ad95f1864f2e3f91d2ae21c"
)
SECOND_NODE_HASH = "0xce64a518e2723e8832863378783a9e459f3c7b614e8f67b792a15bed43a66fa9"
SECOND_NODE_RSV = (
    "0xa68163d7b685e4e87db564f5a96a408b312daa90e06b28b6a5d0330cb2afa736"
    "2d21c3b1c04d0ea7ba242b0dc771bbe2740745560bcbb41b3bef564e2f0d37b41c"
)
MSP_URL = (
    "https://api.prod.mobilityserviceprovider.io/ocpi/2.2/sender/commands/START_SESSION/"
    "1324f3f9-c4dc-4a80-bac3-aa7a4b22fdfe"
)
NODE_URL = (
    "https://node.ocn.thirdpartyprovider.net/ocpi/2.2/sender/commands/START_SESSION/"
    "1f5c7b28-8314-498b-937c-d43a5b6c79e1"
)
BODY = {
    "response_url": MSP_URL,
    "token": {
        "country_code": "CH",
        "party_id": "SNC",
        "uid": "135ff452-1497-49dd-b84f-1e44eb4a497e",
        "type": "APP_USER",
        "contract_id": "CH-SNC-7d44ada4f3d9",
        "issuer": "Share&Charge Foundation",
        "valid": True,
        "whitelist": "NEVER",
        "last_updated": "2020-01-08T12:35:53.380Z",
    },
    "location_id": "ae6d2483",
    "evse_uid": "fe16-429",
}
BODY_FIELDS = [
    "$['body']['response_url']",
    "$['body']['token']['country_code']",
    "$['body']['token']['party_id']",
    "$['body']['token']['uid']",
    "$['body']['token']['type']",
    "$['body']['token']['contract_id']",
    "$['body']['token']['issuer']",
    "$['body']['token']['valid']",
    "$['body']['token']['whitelist']",
    "$['body']['token']['last_updated']",
    "$['body']['location_id']",
    "$['body']['evse_uid']",
]
ROUTING = ["from-country-code", "from-party-id", "to-country-code", "to-party-id"]
SCN_FIELDS = ["$['headers']['x-correlation-id']"] + [f"$['headers']['scpi-{h}']" for h in ROUTING]
OCN_FIELDS = ["$['headers']['x-correlation-id']"] + [f"$['headers']['ocpi-{h}']" for h in ROUTING]
CORRELATION_ID = "32387c67-cf96-4c9d-83db-0ed9665b2f29"
SNC, XXX = PartyId("CH", "SNC"), PartyId("DE", "XXX")


def scn_request(body: object = BODY, sender: PartyId = SNC) -> dict[str, object]:
    return request_values(
        correlation_id=CORRELATION_ID, sender=sender, receiver=XXX, body=copy.deepcopy(body)
    )


def ocn_request(body: object) -> dict[str, object]:
    """The same values as the JVM Notary's ValuesToSign serializes them (OCPI header names)."""
    headers = scn_request()["headers"]
    assert isinstance(headers, dict)
    return {
        "headers": {name.replace("scpi-", "ocpi-"): value for name, value in headers.items()},
        "body": copy.deepcopy(body),
    }


def to_scn_names(notary: Notary) -> Notary:
    """Only the header names in the paths change; hashes and signatures stay as they are."""
    fields = tuple(path.replace("['ocpi-", "['scpi-") for path in notary.fields)
    rewrites = tuple(
        Rewrite(
            {
                path.replace("['ocpi-", "['scpi-"): value
                for path, value in r.rewritten_fields.items()
            },
            r.hash,
            r.rsv,
            r.signatory,
        )
        for r in notary.rewrites
    )
    return Notary(fields, notary.hash, notary.rsv, notary.signatory, rewrites)


def signer_of(private_key: str) -> tuple[Signer, str]:
    """A signer shaped like the node wallet: EIP-191 over bytes, 0x-hex r|s|v."""
    account = Account.from_key(private_key)

    def signer(data: bytes) -> str:
        return "0x" + bytes(account.sign_message(encode_defunct(primitive=data)).signature).hex()

    return signer, account.address


def with_response_url(values: dict[str, object], url: str) -> dict[str, object]:
    changed = copy.deepcopy(values)
    body = changed["body"]
    assert isinstance(body, dict)
    body["response_url"] = url
    return changed


def test_names_are_scn() -> None:
    assert (SIGNATURE_HEADER, RESPONSE_FIELD) == ("SCN-Signature", "scn_signature")


def test_interop_signing_the_ocn_vector_under_scn_names_gives_the_same_hash_and_rsv() -> None:
    notary = sign(scn_request(), USER_KEY)

    assert list(notary.fields) == SCN_FIELDS + BODY_FIELDS
    assert notary.hash == USER_HASH
    assert notary.rsv == USER_RSV
    assert notary.signatory == USER_ADDRESS
    assert notary.rewrites == ()
    notary.verify(scn_request())


def test_interop_the_ocn_serialized_signature_decodes_reencodes_and_verifies() -> None:
    notary = Notary.decode(OCN_SIGNATURE)

    assert list(notary.fields) == OCN_FIELDS + BODY_FIELDS
    assert (notary.hash, notary.rsv, notary.signatory) == (NODE_HASH, NODE_RSV, NODE_ADDRESS)
    assert notary.rewrites == (
        Rewrite({"$['body']['response_url']": MSP_URL}, USER_HASH, USER_RSV, USER_ADDRESS),
    )
    assert notary.encode() == OCN_SIGNATURE  # byte for byte: brotli quality 4, compact JSON
    notary.verify(ocn_request({**BODY, "response_url": NODE_URL}))
    assert notary.signatories() == [NODE_ADDRESS, USER_ADDRESS]


def test_interop_the_ocn_chain_under_scn_names_differs_only_in_the_names() -> None:
    ocn = Notary.decode(OCN_SIGNATURE)
    scn = to_scn_names(ocn)

    scn.verify(with_response_url(scn_request(), NODE_URL))
    assert (scn.hash, scn.rsv, scn.rewrites[0].hash, scn.rewrites[0].rsv) == (
        ocn.hash,
        ocn.rsv,
        ocn.rewrites[0].hash,
        ocn.rewrites[0].rsv,
    )
    assert list(scn.fields) == SCN_FIELDS + BODY_FIELDS


def test_interop_a_node_rewrite_of_response_url_reproduces_the_ocn_node_signature() -> None:
    party = sign(scn_request(), USER_KEY)
    node_signer, node_address = signer_of(NODE_KEY)

    node = party.resign(
        with_response_url(scn_request(), NODE_URL),
        {"$['body']['response_url']": MSP_URL},
        node_signer,
        node_address,
    )

    assert (node.hash, node.rsv, node.signatory) == (NODE_HASH, NODE_RSV, NODE_ADDRESS)
    assert node == to_scn_names(Notary.decode(OCN_SIGNATURE))
    assert Notary.decode(node.encode()) == node
    node.verify(with_response_url(scn_request(), NODE_URL))


def test_interop_two_node_rewrites_reproduce_the_ocn_vector() -> None:
    node_signer, node_address = signer_of(NODE_KEY)
    first = sign(scn_request(), USER_KEY).resign(
        with_response_url(scn_request(), NODE_URL),
        {"$['body']['response_url']": MSP_URL},
        node_signer,
        node_address,
    )
    final_values = with_response_url(scn_request(sender=PartyId("CH", "ABC")), NODE_URL)

    second = first.resign(
        final_values, {"$['headers']['scpi-from-party-id']": "SNC"}, node_signer, node_address
    )

    assert (second.hash, second.rsv) == (SECOND_NODE_HASH, SECOND_NODE_RSV)
    assert [r.hash for r in second.rewrites] == [USER_HASH, NODE_HASH]
    second.verify(final_values)


# --- round trips ---------------------------------------------------------------------------


def test_a_signed_request_with_params_and_body_round_trips() -> None:
    values = request_values(
        correlation_id="c-1",
        sender=PartyId("DE", "MSP"),
        receiver=PartyId("NL", "CPO"),
        params={"date_from": "2024-01-01T00:00:00Z", "limit": "10"},
        body={"data": [{"id": "A1", "kWh": 12.5}, {"id": "A2", "kWh": 1e-4}]},
    )

    notary = Notary.decode(sign(values, USER_KEY).encode())

    assert notary.fields == (
        "$['headers']['x-correlation-id']",
        "$['headers']['scpi-from-country-code']",
        "$['headers']['scpi-from-party-id']",
        "$['headers']['scpi-to-country-code']",
        "$['headers']['scpi-to-party-id']",
        "$['params']['date_from']",
        "$['params']['limit']",
        "$['body']['data'][0]['id']",
        "$['body']['data'][0]['kWh']",
        "$['body']['data'][1]['id']",
        "$['body']['data'][1]['kWh']",
    )
    notary.verify(json.loads(json.dumps(values)))  # as the receiver parses it


def test_a_signed_response_covers_the_headers_and_the_envelope_without_its_signature() -> None:
    envelope: dict[str, object] = {
        "status_code": 1000,
        "status_message": "Success",
        "data": [{"id": "LOC1", "publish": True}],
        "timestamp": "2024-01-01T00:00:00Z",
    }
    values = response_values(
        envelope=envelope,
        limit=1,
        total_count="5",
        link='<https://cpo/locations?offset=1>; rel="next"',
    )
    envelope[RESPONSE_FIELD] = sign(values, USER_KEY).encode()

    received = json.loads(json.dumps(envelope))
    notary = Notary.decode(received[RESPONSE_FIELD])
    notary.verify(
        response_values(
            envelope=received,
            limit="1",
            total_count="5",
            link='<https://cpo/locations?offset=1>; rel="next"',
        )
    )
    assert notary.fields[:3] == (
        "$['headers']['x-limit']",
        "$['headers']['x-total-count']",
        "$['headers']['link']",
    )
    assert "$['body']['scn_signature']" not in notary.fields
    assert notary.signatories() == [USER_ADDRESS]


# --- failures --------------------------------------------------------------------------------


def test_a_tampered_body_is_modified() -> None:
    notary = sign(scn_request(), USER_KEY)
    tampered = scn_request({**BODY, "evse_uid": "fe16-430"})

    with pytest.raises(NotaryError, match=r"^Request has been modified$"):
        notary.verify(tampered)


def test_a_removed_or_added_value_is_modified() -> None:
    notary = sign(scn_request(), USER_KEY)
    removed = {key: value for key, value in BODY.items() if key != "evse_uid"}

    with pytest.raises(NotaryError, match="modified"):
        notary.verify(scn_request(removed))
    with pytest.raises(NotaryError, match="modified"):
        notary.verify(scn_request({**BODY, "token": {"uid": {"nested": "object"}}}))


def test_a_signature_from_another_key_does_not_match_the_signatory() -> None:
    notary = sign(scn_request(), USER_KEY)
    someone_else = sign(scn_request(), NODE_KEY)
    forged = Notary(notary.fields, notary.hash, someone_else.rsv, notary.signatory)

    with pytest.raises(NotaryError, match=r"^Signatories do not match$"):
        forged.verify(scn_request())
    assert recover(notary.hash, someone_else.rsv) == NODE_ADDRESS


def test_a_malformed_rsv_is_an_error() -> None:
    notary = sign(scn_request(), USER_KEY)

    with pytest.raises(NotaryError, match="Malformed rsv"):
        Notary(notary.fields, notary.hash, "0x1234", notary.signatory).verify(scn_request())


def brotli_b64(raw: bytes) -> str:
    return base64.b64encode(brotli.compress(raw, quality=4)).decode()


def document(**changes: object) -> str:
    """A well-formed signature JSON with `changes` (None removes a key), brotli + base64."""
    valid: dict[str, object] = {"fields": [], "hash": "0x", "rsv": "0x", "signatory": "0x"}
    valid["rewrites"] = [{"rewrittenFields": {}, "hash": "0x", "rsv": "0x", "signatory": "0x"}]
    merged = {key: value for key, value in {**valid, **changes}.items() if value is not None}
    return brotli_b64(json.dumps(merged).encode())


BAD_PATH = "$['a"
REWRITE_WITH_BAD_PATH = [{"rewrittenFields": {BAD_PATH: 1}, "hash": "", "rsv": "", "signatory": ""}]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("not base64 at all!", "not base64", id="not-base64"),
        pytest.param(base64.b64encode(b"no brotli").decode(), "not brotli", id="not-brotli"),
        pytest.param(brotli_b64(b"\0" * 2_000_000), "larger than 1000000", id="brotli-bomb"),
        pytest.param(
            base64.b64encode(brotli.compress(b'{"a":1}' * 100)[:-4]).decode(),
            "truncated",
            id="truncated",
        ),
        pytest.param(brotli_b64(b"{not json"), "not JSON", id="not-json"),
        pytest.param(brotli_b64(b"[]"), "not a JSON object", id="not-an-object"),
        pytest.param(brotli_b64(b"{}"), "needs 'rewrites'", id="no-keys"),
        pytest.param(document(signatory=None), "needs 'signatory'", id="no-signatory"),
        pytest.param(document(hash=1), "needs 'hash' as a str", id="hash-not-a-string"),
        pytest.param(document(fields=[1]), "needs 'fields' as strings", id="field-not-a-string"),
        pytest.param(document(fields=["body.a"]), "Malformed field path", id="not-a-json-path"),
        pytest.param(document(rewrites=[1]), "each rewrite as an object", id="rewrite-not-object"),
        pytest.param(document(rewrites=[{}]), "needs 'rewrittenFields'", id="rewrite-no-keys"),
        pytest.param(
            document(rewrites=REWRITE_WITH_BAD_PATH), "Malformed field path", id="bad-rewrite-path"
        ),
    ],
)
def test_malformed_signatures_are_rejected_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(NotaryError, match=reason):
        Notary.decode(text)


# --- rewrite chains --------------------------------------------------------------------------


def test_a_chain_of_two_node_rewrites_names_every_signer() -> None:
    node_a_signer, node_a = signer_of(NODE_KEY)
    node_b_signer, node_b = signer_of("0x" + "42" * 32)
    party = sign(scn_request(), USER_KEY)
    at_node_a = with_response_url(scn_request(), NODE_URL)
    by_a = party.resign(at_node_a, {"$['body']['response_url']": MSP_URL}, node_a_signer, node_a)
    at_node_b = request_values(
        correlation_id=CORRELATION_ID,
        sender=SNC,
        receiver=PartyId("NL", "SVC"),
        body=at_node_a["body"],
    )

    by_b = Notary.decode(by_a.encode()).resign(
        at_node_b,
        {"$['headers']['scpi-to-country-code']": "DE", "$['headers']['scpi-to-party-id']": "XXX"},
        node_b_signer,
        node_b,
    )
    received = Notary.decode(by_b.encode())

    received.verify(at_node_b)
    assert received.signatories() == [node_b, node_a, USER_ADDRESS]
    assert [r.signatory for r in received.rewrites] == [USER_ADDRESS, node_a]
    tampered_original = Rewrite(
        {"$['body']['response_url']": "https://evil.example/cb"},
        party.hash,
        party.rsv,
        party.signatory,
    )
    tampered = Notary(
        received.fields,
        received.hash,
        received.rsv,
        received.signatory,
        (tampered_original, received.rewrites[1]),
    )
    with pytest.raises(NotaryError, match=r"^Rewrite 1 by 0x11b2.*: Request has been modified$"):
        tampered.verify(at_node_b)
    with pytest.raises(NotaryError, match=r"^Request has been modified$"):
        received.verify(with_response_url(at_node_b, "https://evil.example/cb"))


def test_a_rewrite_that_was_not_recorded_breaks_the_chain() -> None:
    node_signer, node_address = signer_of(NODE_KEY)
    party = sign(scn_request(), USER_KEY)
    changed = with_response_url(scn_request(), NODE_URL)

    unrecorded = party.resign(changed, {}, node_signer, node_address)

    with pytest.raises(NotaryError, match=r"^Rewrite 1 by .*modified"):
        unrecorded.verify(changed)


def test_stash_leaves_the_original_unchanged() -> None:
    party = sign(scn_request(), USER_KEY)

    stashed = party.stash({"$['body']['response_url']": MSP_URL})
    stashed_again = party.stash({"$['headers']['link']": "<x>"})

    assert party.rewrites == ()
    assert len(stashed.rewrites) == len(stashed_again.rewrites) == 1
    assert stashed.rewrites[0].rewritten_fields == {"$['body']['response_url']": MSP_URL}


def test_a_rewritten_path_that_does_not_exist_is_ignored() -> None:
    node_signer, node_address = signer_of(NODE_KEY)
    party = sign(scn_request(), USER_KEY)

    node = party.resign(
        scn_request(),
        {"$['body']['missing']['x']": "a", "$['body']['token']['absent']": "b"},
        node_signer,
        node_address,
    )

    node.verify(scn_request())


def test_a_pagination_link_rewrite_verifies_against_the_party() -> None:
    node_signer, node_address = signer_of(NODE_KEY)
    envelope = {"status_code": 1000, "data": [], "timestamp": "2024-01-01T00:00:00Z"}
    party_link = '<https://cpo.example/locations?offset=10>; rel="next"'
    node_link = '<https://node.example/scpi/sender/2.2/locations/page/7>; rel="next"'
    party = sign(response_values(envelope=envelope, link=party_link, limit="10"), USER_KEY)
    at_node = response_values(envelope=envelope, link=node_link, limit="10")

    node = party.resign(at_node, {"$['headers']['link']": party_link}, node_signer, node_address)

    Notary.decode(node.encode()).verify(at_node)
    assert node.signatories() == [NODE_ADDRESS, USER_ADDRESS]


# --- values and their text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2.0, "2.0"),
        (2.5, "2.5"),
        (1e-4, "1.0E-4"),
        (1.23456789e7, "1.23456789E7"),
        (0.001, "0.001"),
        (1e7, "1.0E7"),
        (-0.5, "-0.5"),
        (0.0, "0.0"),
        (9999999.0, "9999999.0"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (10**20, "100000000000000000000"),
        ("Grüße", "Grüße"),
    ],
)
def test_values_are_signed_as_the_jvm_prints_them(value: object, text: str) -> None:
    notary = sign({"body": {"v": value}}, USER_KEY)

    assert notary.hash == "0x" + keccak(text.encode()).hex()
    notary.verify({"body": {"v": value}})


def test_none_empty_strings_and_empty_containers_are_not_signed() -> None:
    values: dict[str, object] = {
        "headers": {},
        "params": {},
        "body": {"a": None, "b": "", "c": [], "d": {}, "e": [{}]},
    }

    notary = sign(values, USER_KEY)

    assert notary.fields == ()
    assert notary.hash == "0x" + keccak(b"").hex()
    notary.verify({"headers": {}})


def test_request_values_skip_absent_parts() -> None:
    values = request_values(correlation_id=None, sender=SNC, receiver=XXX)

    assert values == {
        "headers": {
            "scpi-from-country-code": "CH",
            "scpi-from-party-id": "SNC",
            "scpi-to-country-code": "DE",
            "scpi-to-party-id": "XXX",
        }
    }


def test_a_missing_value_reads_as_null_like_the_jvm_notary() -> None:
    notary = sign({"body": {"a": "null"}}, USER_KEY)

    notary.verify({"body": {}})  # OCN JVM compatibility: absent == the text "null"


def test_header_paths_are_case_insensitive_but_body_keys_are_not() -> None:
    notary = sign({"headers": {"x-correlation-id": "c"}, "body": {"countryCode": "CH"}}, USER_KEY)
    upper = Notary(
        ("$['headers']['X-Correlation-ID']", "$['body']['countryCode']"),
        notary.hash,
        notary.rsv,
        notary.signatory,
    )

    upper.verify({"headers": {"x-correlation-id": "c"}, "body": {"countryCode": "CH"}})
    with pytest.raises(NotaryError, match="modified"):
        upper.verify({"headers": {"x-correlation-id": "c"}, "body": {"countrycode": "CH"}})


def test_keys_with_quotes_and_brackets_round_trip() -> None:
    values = {"body": {"it's [0]": {"a\\b": "x"}, "list": [[1, 2]]}}

    notary = Notary.decode(sign(values, USER_KEY).encode())

    assert notary.fields[0] == "$['body']['it\\'s [0]']['a\\\\b']"
    assert notary.fields[1:] == ("$['body']['list'][0][0]", "$['body']['list'][0][1]")
    notary.verify(values)


def test_sign_with_a_wallet_signer_equals_sign_with_the_key() -> None:
    signer, address = signer_of(USER_KEY)

    assert sign_with(scn_request(), signer, address) == sign(scn_request(), USER_KEY)


def test_the_examples_in_the_signing_guide_run(capsys: pytest.CaptureFixture[str]) -> None:
    guide = Path(__file__).parents[2] / "docs" / "signing.md"
    code = "\n".join(re.findall(r"```python\n(.*?)```", guide.read_text(), re.DOTALL))

    exec(compile(code, str(guide), "exec"), {})  # noqa: S102 - our own documentation

    printed = capsys.readouterr().out
    assert "reject" not in printed
    assert f"['{NODE_ADDRESS}', '{USER_ADDRESS}']" in printed


# --- the strict check a backoffice should use: verify_exactly ------------------------------


def test_verify_exactly_refuses_a_value_the_signer_left_out() -> None:
    partial = {key: value for key, value in BODY.items() if key != "evse_uid"}
    notary = sign(scn_request(partial), USER_KEY)
    notary.verify(scn_request())  # OCN's check lets the added value through
    with pytest.raises(NotaryError, match=r"^Not signed: \$\['body'\]\['evse_uid'\]$"):
        notary.verify_exactly(scn_request())


def test_verify_exactly_refuses_signed_fields_in_another_order() -> None:
    notary = sign(scn_request(), USER_KEY)
    reordered = Notary(tuple(reversed(notary.fields)), notary.hash, notary.rsv, notary.signatory)
    with pytest.raises(NotaryError, match="not the message's values, in their order"):
        reordered.verify_exactly(scn_request())


def test_verify_exactly_passes_what_verify_passes_when_every_value_is_signed() -> None:
    notary = sign(scn_request(), USER_KEY)
    notary.verify_exactly(scn_request())
    with pytest.raises(NotaryError, match="modified"):
        notary.verify_exactly(scn_request({**BODY, "evse_uid": "other"}))
