"""The module table and the signature policy: per-module facts and who asks for signatures are
data, read by the one pipeline."""

from __future__ import annotations

from scn_node.hub.modules import CUSTOM, STANDARD, Family, GetAll, SignedAs, spec_for
from scn_node.hub.signing import SignaturePolicy
from scn_node.scpi.versions import InterfaceRole

SENDER, RECEIVER = InterfaceRole.SENDER, InterfaceRole.RECEIVER
MODULES = ("cdrs", "chargingprofiles", "commands", "locations", "sessions", "tariffs", "tokens")


def test_only_locations_tariffs_and_tokens_are_broadcast() -> None:
    broadcast = {
        (module, interface): spec_for(module, interface).broadcast
        for module in MODULES
        for interface in (SENDER, RECEIVER)
        if spec_for(module, interface).broadcast
    }
    pushes = frozenset({"PUT", "PATCH", "POST"})
    assert broadcast == {
        ("locations", RECEIVER): pushes,
        ("tariffs", RECEIVER): pushes | {"DELETE"},
        ("tokens", RECEIVER): pushes,
    }
    assert not CUSTOM.broadcast and CUSTOM.get_all is GetAll.NONE


def test_get_all_is_for_sender_lists() -> None:
    assert {
        module: spec_for(module, SENDER).get_all
        for module in ("cdrs", "commands", "locations", "sessions", "tariffs", "tokens")
    } == {
        "cdrs": GetAll.SOURCES,
        "commands": GetAll.NONE,
        "locations": GetAll.STORED,
        "sessions": GetAll.SOURCES,
        "tariffs": GetAll.STORED,
        "tokens": GetAll.STORED,
    }
    assert all(spec_for(m, RECEIVER).get_all is GetAll.NONE for m in ("locations", "cdrs"))


def test_custom_modules_are_a_row_not_a_flag() -> None:
    spec = spec_for("lite-locations", InterfaceRole.SENDER, Family.CUSTOM)
    assert spec is CUSTOM
    assert (spec.json_body, spec.copies, spec.body_signed_as) == (False, False, SignedAs.TEXT)
    assert spec_for("lite-locations", InterfaceRole.SENDER) is STANDARD


def test_who_asks_for_signatures() -> None:
    nobody = SignaturePolicy()
    assert not nobody.request_required and not nobody.answer_required
    assert not nobody.signs_errors(request_signed=False)
    assert nobody.signs_errors(request_signed=True)
    receiver = nobody.with_receiver(True)
    assert receiver.request_required and not receiver.answer_required
    sender = SignaturePolicy(sender=True)
    assert sender.answer_required and not sender.request_required and sender.signs_errors(False)
    node = SignaturePolicy(node=True)
    assert node.request_required and node.answer_required and node.signs_errors(False)
