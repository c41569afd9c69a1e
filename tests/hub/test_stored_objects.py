"""Broadcast pushes applied to the objects the hub keeps (`hub/objects.py`): pure, no store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from scn_node.hub.message import ScpiRequest
from scn_node.hub.objects import Deleted, HubObject, ObjectKey, Push, Unusable, apply
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.headers import RoutingHeaders
from scn_node.scpi.party import PartyId
from scn_node.scpi.versions import InterfaceRole

CPO = PartyId("DE", "CPO")
MSP = PartyId("DE", "MSP")
T0 = "2026-01-01T10:00:00Z"
T1 = "2026-01-01T11:00:00Z"
T2 = "2026-01-01T12:00:00Z"

# Spacing, key order, escapes and number forms a parse-and-dump would change.
LOCATION_BYTES = (
    '{ "country_code":"DE", "party_id":"CPO", "id":"LOC1", "name":"M\\u00fcnchen ⚡",'
    ' "power":1.0e3,\n "evses":[{"uid":"E1","status":"AVAILABLE","last_updated":"' + T0 + '",'
    ' "connectors":[{"id":"1","standard":"IEC_62196_T2","last_updated":"' + T0 + '"}]}],'
    ' "last_updated":"' + T0 + '" }\n'
).encode()


def push(
    method: str, module: str, tail: str, body: object = b"", query: str = "", owner: PartyId = CPO
) -> Push:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = RoutingHeaders("r1", "c1", owner, NODE_PARTY)
    return Push.of(ScpiRequest(method, module, InterfaceRole.RECEIVER, headers, tail, query, raw))


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.rstrip("Z")).replace(tzinfo=UTC)


def kept_location() -> HubObject:
    result = apply(push("PUT", "locations", "/DE/CPO/LOC1", LOCATION_BYTES), None)
    assert isinstance(result, HubObject)
    return result


def data(kept: HubObject | Deleted) -> Any:
    assert isinstance(kept, HubObject)
    return json.loads(kept.body)


def test_a_put_is_kept_as_the_exact_bytes_received_keyed_by_the_url() -> None:
    kept = kept_location()
    assert kept.body == LOCATION_BYTES
    assert kept.key == ObjectKey("locations", CPO, "LOC1", "")
    assert kept.last_updated == at(T0)


def test_a_put_replaces_the_kept_object_whole() -> None:
    new = b'{"id":"LOC1","name":"Neu","last_updated":"' + T1.encode() + b'"}'
    kept = apply(push("PUT", "locations", "/DE/CPO/LOC1", new), kept_location())
    assert isinstance(kept, HubObject) and kept.body == new and kept.last_updated == at(T1)


def test_a_patch_merges_top_level_fields_and_replaces_lists() -> None:
    change = {"name": "Neu", "facilities": ["CAFE"], "evses": [], "last_updated": T1}
    kept = apply(push("PATCH", "locations", "/DE/CPO/LOC1", change), kept_location())
    location = data(kept)
    assert location["name"] == "Neu" and location["facilities"] == ["CAFE"]
    assert location["evses"] == []  # a list in a PATCH replaces the kept one
    assert location["power"] == 1000.0 and location["last_updated"] == T1
    assert isinstance(kept, HubObject) and kept.last_updated == at(T1)
    # Written anew, compactly: only a PATCH makes the node serialise the object.
    assert kept.body == json.dumps(location, separators=(",", ":"), ensure_ascii=False).encode()


def test_a_patch_of_an_evse_moves_the_locations_last_updated_to_the_patchs() -> None:
    change = {"status": "CHARGING", "last_updated": T1}
    location = data(apply(push("PATCH", "locations", "/DE/CPO/LOC1/E1", change), kept_location()))
    evse = location["evses"][0]
    assert evse["status"] == "CHARGING" and evse["last_updated"] == T1
    assert evse["connectors"][0]["id"] == "1"  # the rest of the EVSE stays
    assert location["last_updated"] == T1


def test_a_patch_of_a_connector_moves_its_evses_and_locations_last_updated() -> None:
    change = {"max_amperage": 32, "last_updated": T1}
    location = data(apply(push("PATCH", "locations", "/DE/CPO/LOC1/E1/1", change), kept_location()))
    evse = location["evses"][0]
    connector = evse["connectors"][0]
    assert connector == {
        "id": "1",
        "standard": "IEC_62196_T2",
        "max_amperage": 32,
        "last_updated": T1,
    }
    assert evse["last_updated"] == T1 and location["last_updated"] == T1


def test_a_put_of_an_evse_replaces_it_or_adds_it() -> None:
    replaced = {"uid": "E1", "status": "REMOVED", "connectors": [], "last_updated": T1}
    location = data(apply(push("PUT", "locations", "/DE/CPO/LOC1/E1", replaced), kept_location()))
    assert location["evses"] == [replaced]  # REMOVED stays: a GET All is a full sync
    assert location["last_updated"] == T1
    added = {"uid": "E2", "status": "AVAILABLE", "connectors": [], "last_updated": T1}
    location = data(apply(push("PUT", "locations", "/DE/CPO/LOC1/E2", added), kept_location()))
    assert [e["uid"] for e in location["evses"]] == ["E1", "E2"]


def test_a_put_of_a_connector_replaces_it_or_adds_it_in_its_evse() -> None:
    connector = {"id": "2", "standard": "CHADEMO", "last_updated": T1}
    location = data(
        apply(push("PUT", "locations", "/DE/CPO/LOC1/E1/2", connector), kept_location())
    )
    evse = location["evses"][0]
    assert [c["id"] for c in evse["connectors"]] == ["1", "2"]
    assert evse["last_updated"] == T1 and location["last_updated"] == T1
    replaced = {"id": "1", "standard": "CHADEMO", "last_updated": T1}
    location = data(apply(push("PUT", "locations", "/DE/CPO/LOC1/E1/1", replaced), kept_location()))
    assert location["evses"][0]["connectors"] == [replaced]


@pytest.mark.parametrize(
    ("method", "tail"),
    [
        ("PATCH", "/DE/CPO/LOC2"),  # no such location
        ("PUT", "/DE/CPO/LOC2/E1"),
        ("PATCH", "/DE/CPO/LOC1/E9"),  # no such EVSE
        ("PUT", "/DE/CPO/LOC1/E9/1"),  # a connector of no EVSE
        ("PATCH", "/DE/CPO/LOC1/E1/9"),  # no such connector
    ],
)
def test_a_change_to_what_is_not_kept_is_not_applied(method: str, tail: str) -> None:
    kept = kept_location() if "LOC1" in tail else None
    with pytest.raises(Unusable):
        apply(push(method, "locations", tail, {"status": "X", "last_updated": T1}), kept)


def test_a_tariff_delete_deletes_and_a_location_delete_is_not_a_push() -> None:
    key = ObjectKey("tariffs", CPO, "T1", "")
    assert apply(push("DELETE", "tariffs", "/DE/CPO/T1"), None) == Deleted(key)
    with pytest.raises(Unusable):
        apply(push("DELETE", "locations", "/DE/CPO/LOC1"), kept_location())


def test_a_token_is_keyed_by_uid_and_type_rfid_when_omitted() -> None:
    token = {"uid": "U1", "valid": False, "last_updated": T0}
    rfid = push("PUT", "tokens", "/DE/MSP/U1", token, owner=MSP)
    assert rfid.key == ObjectKey("tokens", MSP, "U1", "RFID")
    app = push("PUT", "tokens", "/DE/MSP/U1", token, query="type=APP_USER", owner=MSP)
    assert app.key == ObjectKey("tokens", MSP, "U1", "APP_USER")
    kept = apply(app, None)  # valid: false is kept as pushed
    assert data(kept)["valid"] is False


def test_an_older_last_updated_loses_to_the_kept_one() -> None:
    kept = apply(push("PUT", "locations", "/DE/CPO/LOC1", {"id": "LOC1", "last_updated": T2}), None)
    assert isinstance(kept, HubObject)
    late = {"id": "LOC1", "name": "old", "last_updated": T1}
    for method, tail in (("PUT", "/DE/CPO/LOC1"), ("PATCH", "/DE/CPO/LOC1")):
        with pytest.raises(Unusable, match="later last_updated"):
            apply(push(method, "locations", tail, late), kept)
    same = {"id": "LOC1", "name": "same time", "last_updated": T2}
    assert data(apply(push("PATCH", "locations", "/DE/CPO/LOC1", same), kept))["name"] == (
        "same time"
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"id": ', "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        ('{"id":"\u00e9"}'.encode("utf-16"), "not valid JSON"),  # UTF-8 only
        (b'{"id":"LOC1"}', "no last_updated"),
        (b'{"id":"LOC1","last_updated":"yesterday"}', "last_updated must be"),
    ],
)
def test_an_unusable_body_is_not_applied(body: bytes, problem: str) -> None:
    with pytest.raises(Unusable, match=problem):
        apply(push("PUT", "locations", "/DE/CPO/LOC1", body), None)
    with pytest.raises(Unusable, match=problem):
        apply(push("PATCH", "locations", "/DE/CPO/LOC1", body), kept_location())


@pytest.mark.parametrize(
    ("module", "tail"),
    [("locations", "/DE/CPO"), ("locations", "/DE/CPO/L/E/C/X"), ("tariffs", "/DE/CPO/T1/x")],
)
def test_a_path_that_names_no_object_is_not_a_push(module: str, tail: str) -> None:
    with pytest.raises(Unusable):
        push("PUT", module, tail, {"last_updated": T0})


def test_a_post_changes_nothing_kept() -> None:
    with pytest.raises(Unusable):
        apply(push("POST", "locations", "/DE/CPO/LOC1", LOCATION_BYTES), None)
