"""The module table and the signature policy: per-module facts and who asks for signatures are
data, read by the one pipeline."""

from __future__ import annotations

from scn_node.hub.modules import CUSTOM, STANDARD, Addressing, Combine, Family, SignedAs, spec_for
from scn_node.hub.signing import SignaturePolicy
from scn_node.scpi.versions import InterfaceRole


def test_today_every_module_is_direct_and_single() -> None:
    for spec in (STANDARD, CUSTOM, spec_for("commands", InterfaceRole.RECEIVER)):
        assert (spec.addressing, spec.combine) == (Addressing.DIRECT, Combine.SINGLE)


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
