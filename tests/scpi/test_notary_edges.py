"""Notary edges: doubles Java prints by name, values that are not JSON, malformed field paths,
and rewrites of array items."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest
from eth_hash.auto import keccak

from scn_node.scpi.notary import Notary, NotaryError, sign
from tests.scpi.test_notary import NODE_KEY, USER_ADDRESS, USER_KEY, signer_of


@pytest.mark.parametrize(
    ("value", "text"),
    [(float("nan"), "NaN"), (float("inf"), "Infinity"), (float("-inf"), "-Infinity")],
)
def test_doubles_without_digits_are_signed_by_their_java_names(value: float, text: str) -> None:
    notary = sign({"body": {"v": value}}, USER_KEY)

    assert notary.hash == "0x" + keccak(text.encode()).hex()
    notary.verify({"body": {"v": value}})


def test_a_value_that_is_not_json_cannot_be_signed() -> None:
    with pytest.raises(TypeError, match=r"^cannot sign a bytes; pass JSON values$"):
        sign({"body": {"v": b"raw"}}, USER_KEY)


@pytest.mark.parametrize("path", ["$x", "$['body'", "$[", "$['body'][a]", "$['body'][1"])
def test_a_malformed_field_path_is_refused(path: str) -> None:
    notary = sign({"body": {"v": "1"}}, USER_KEY)

    with pytest.raises(NotaryError, match=r"^Malformed field path"):
        notary.stash({path: "original"})


def test_a_node_rewrite_of_an_array_item_verifies_back_to_the_party() -> None:
    node_signer, node_address = signer_of(NODE_KEY)
    party = sign({"body": {"urls": ["https://party.example/a", "b"]}}, USER_KEY)
    at_node = {"body": {"urls": ["https://node.example/a", "b"]}}

    node = party.resign(
        at_node, {"$['body']['urls'][0]": "https://party.example/a"}, node_signer, node_address
    )

    node.verify(at_node)
    assert node.signatories() == [node_address, USER_ADDRESS]
    with pytest.raises(NotaryError, match=r"^Rewrite 1 by 0x11b2.*modified$"):
        Notary(
            node.fields,
            node.hash,
            node.rsv,
            node.signatory,
            (party.stash({"$['body']['urls'][0]": "https://evil.example/a"}).rewrites[0],),
        ).verify(at_node)


def test_an_index_into_an_object_or_past_an_array_reads_as_missing() -> None:
    notary = sign({"body": {"a": "null", "b": "null"}}, USER_KEY)
    indexed = Notary(
        ("$['body'][0]", "$['body']['list'][3]"), notary.hash, notary.rsv, notary.signatory
    )

    indexed.verify({"body": {"list": ["x"]}})  # both absent: read as "null", as the JVM does
    with pytest.raises(NotaryError, match="modified"):
        indexed.verify({"body": {"list": ["x", "y", "z", "w"]}})


class Frozen(Mapping[str, object]):
    """A read-only mapping: values a caller passes without a dict."""

    def __init__(self, items: dict[str, object]) -> None:
        self._items = items

    def __getitem__(self, key: str) -> object:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def test_a_rewrite_inside_a_read_only_mapping_is_not_rolled_back() -> None:
    node_signer, node_address = signer_of(NODE_KEY)
    party = sign({"body": {"url": "https://party.example"}}, USER_KEY)
    node = party.resign(
        {"body": {"url": "https://node.example"}},
        {"$['body']['url']": "https://party.example"},
        node_signer,
        node_address,
    )

    node.verify({"body": {"url": "https://node.example"}})
    with pytest.raises(NotaryError, match=r"^Rewrite 1 by 0x11b2.*modified$"):
        node.verify({"body": Frozen({"url": "https://node.example"})})
