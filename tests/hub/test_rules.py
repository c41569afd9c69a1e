"""PartyRules: who may reach a party (check, sees), how a party changes its rules, how entries
parse, and regressions for OCN's ocnrules bugs (ocn-node.md §2.9, §6.2)."""

from __future__ import annotations

import pytest

from scn_node.hub.rules import (
    NO_RULES,
    ListKind,
    PartyRules,
    RuleEntry,
    parse_entries,
    parse_entry,
    parse_signatures,
)
from scn_node.scpi.errors import InvalidParameters, ResourceNotFound, SenderBlocked
from scn_node.scpi.party import PartyId

ME = PartyId("CH", "CPA")
MSP = PartyId("DE", "MSP")
OTHER = PartyId("NL", "OTH")
WHITELIST, BLACKLIST = ListKind.WHITELIST, ListKind.BLACKLIST


def allowed(rules: PartyRules, sender: PartyId, module: str) -> bool:
    try:
        rules.check(sender, module, ME)
    except SenderBlocked:
        return False
    return True


def whitelist(*entries: RuleEntry) -> PartyRules:
    return PartyRules(active=WHITELIST, entries=entries)


def blacklist(*entries: RuleEntry) -> PartyRules:
    return PartyRules(active=BLACKLIST, entries=entries)


LOCATIONS_ONLY = RuleEntry(MSP, frozenset({"locations"}))

# rules, sender, module -> allowed; the sender is MSP or OTHER (never on a list)
TRUTH_TABLE = [
    ("no rules", NO_RULES, MSP, "locations", True),
    ("whitelist listed", whitelist(RuleEntry(MSP)), MSP, "sessions", True),
    ("whitelist unlisted", whitelist(RuleEntry(MSP)), OTHER, "locations", False),
    ("whitelist module listed", whitelist(LOCATIONS_ONLY), MSP, "locations", True),
    ("whitelist module unlisted", whitelist(LOCATIONS_ONLY), MSP, "sessions", False),
    ("whitelist module, custom", whitelist(LOCATIONS_ONLY), MSP, "lite-locations", False),
    ("blacklist listed", blacklist(RuleEntry(MSP)), MSP, "locations", False),
    ("blacklist unlisted", blacklist(RuleEntry(MSP)), OTHER, "locations", True),
    ("blacklist module listed", blacklist(LOCATIONS_ONLY), MSP, "locations", False),
    # OCN blocked every module of a party blacklisted for one (§6.2 BUG).
    ("blacklist module unlisted", blacklist(LOCATIONS_ONLY), MSP, "sessions", True),
    ("blacklist module, other party", blacklist(LOCATIONS_ONLY), OTHER, "locations", True),
    ("block all", NO_RULES.block_all(), MSP, "locations", False),
    ("block all, anyone", NO_RULES.block_all(), OTHER, "sessions", False),
]


@pytest.mark.parametrize(
    ("rules", "sender", "module", "expected"),
    [case[1:] for case in TRUTH_TABLE],
    ids=[case[0] for case in TRUTH_TABLE],
)
def test_truth_table(rules: PartyRules, sender: PartyId, module: str, expected: bool) -> None:
    assert allowed(rules, sender, module) is expected


def test_a_blocked_sender_is_told_who_refused_what() -> None:
    with pytest.raises(SenderBlocked) as refused:
        whitelist(LOCATIONS_ONLY).check(MSP, "sessions", ME)
    assert str(refused.value) == (
        "Receiver CH CPA does not accept sessions requests from DE MSP: "
        "the sender is not on its whitelist for that module"
    )
    assert refused.value.status == 2000 and refused.value.http_status == 200
    with pytest.raises(SenderBlocked, match="on its blacklist for that module"):
        blacklist(LOCATIONS_ONLY).check(MSP, "locations", ME)


def test_modules_compare_without_case() -> None:
    rules = whitelist(parse_entry({"country_code": "DE", "party_id": "MSP", "modules": ["CDRs"]}))
    assert allowed(rules, MSP, "cdrs")


# ---------------------------------------------------------------- HubClientInfo visibility

SEES = [
    ("no rules", NO_RULES, {MSP: True, OTHER: True}),
    ("whitelist", whitelist(LOCATIONS_ONLY), {MSP: True, OTHER: False}),
    ("blacklist all modules", blacklist(RuleEntry(MSP)), {MSP: False, OTHER: True}),
    # MSP still reaches the party with every other module: it is still listed.
    ("blacklist one module", blacklist(LOCATIONS_ONLY), {MSP: True, OTHER: True}),
    ("block all", NO_RULES.block_all(), {MSP: False, OTHER: False}),
]


@pytest.mark.parametrize(("rules", "expected"), [c[1:] for c in SEES], ids=[c[0] for c in SEES])
def test_sees_and_visibility_agree(rules: PartyRules, expected: dict[PartyId, bool]) -> None:
    only, hidden = rules.visibility()
    for party, seen in expected.items():
        assert rules.sees(party) is seen, party
        assert ((only is None or party in only) and party not in hidden) is seen, party


# ---------------------------------------------------------------- changes


def test_adding_switches_the_list_on_and_keeps_earlier_entries() -> None:
    rules = NO_RULES.add(WHITELIST, RuleEntry(MSP)).add(WHITELIST, RuleEntry(OTHER))
    assert rules.active is WHITELIST
    assert [e.party for e in rules.entries] == [MSP, OTHER]
    with pytest.raises(InvalidParameters, match="DE MSP is already on your whitelist"):
        rules.add(WHITELIST, LOCATIONS_ONLY)


def test_the_two_lists_are_never_active_at_once() -> None:
    rules = NO_RULES.add(BLACKLIST, RuleEntry(MSP))
    with pytest.raises(InvalidParameters, match="cannot be active at the same time"):
        rules.add(WHITELIST, RuleEntry(OTHER))
    with pytest.raises(InvalidParameters, match="cannot be active at the same time"):
        rules.replace_list(WHITELIST, (RuleEntry(OTHER),))
    # An empty whitelist changes nothing (it is off already); an empty blacklist switches off.
    assert rules.replace_list(WHITELIST, ()) == rules
    assert rules.replace_list(BLACKLIST, ()) == NO_RULES
    assert rules.replace_list(BLACKLIST, ()).add(WHITELIST, RuleEntry(OTHER)).active is WHITELIST


def test_replacing_a_list_drops_what_was_there() -> None:
    rules = NO_RULES.add(WHITELIST, RuleEntry(MSP))
    assert rules.replace_list(WHITELIST, (LOCATIONS_ONLY,)).entries == (LOCATIONS_ONLY,)


def test_removing_the_last_whitelist_entry_keeps_the_party_closed() -> None:
    rules = NO_RULES.add(WHITELIST, RuleEntry(MSP)).remove(WHITELIST, MSP)
    assert (rules.active, rules.entries) == (WHITELIST, ())
    assert not allowed(rules, MSP, "locations")  # OCN switched the whitelist off here
    assert NO_RULES.add(BLACKLIST, RuleEntry(MSP)).remove(BLACKLIST, MSP).active is BLACKLIST


def test_removing_needs_the_list_active_and_the_party_on_it() -> None:
    with pytest.raises(InvalidParameters, match="Your whitelist is not active"):
        NO_RULES.remove(WHITELIST, MSP)
    with pytest.raises(InvalidParameters, match="Your blacklist is not active"):
        NO_RULES.add(WHITELIST, RuleEntry(MSP)).remove(BLACKLIST, MSP)
    with pytest.raises(ResourceNotFound, match="NL OTH is not on your whitelist"):
        NO_RULES.add(WHITELIST, RuleEntry(MSP)).remove(WHITELIST, OTHER)


def test_block_all_replaces_either_list_and_keeps_signatures() -> None:
    for kind in ListKind:
        rules = NO_RULES.with_signatures(True).add(kind, RuleEntry(MSP)).block_all()
        assert rules == PartyRules(signatures=True, active=WHITELIST, entries=())


def test_signatures_set_or_toggle() -> None:
    assert NO_RULES.with_signatures(True).signatures
    assert not NO_RULES.with_signatures(True).with_signatures(False).signatures
    assert NO_RULES.with_signatures(None).signatures
    assert not NO_RULES.with_signatures(None).with_signatures(None).signatures


def test_to_json_shows_the_entries_under_the_active_list() -> None:
    rules = NO_RULES.add(BLACKLIST, LOCATIONS_ONLY).add(BLACKLIST, RuleEntry(OTHER))
    assert rules.to_json() == {
        "signatures": False,
        "whitelist": {"active": False, "list": []},
        "blacklist": {
            "active": True,
            "list": [
                {"country_code": "DE", "party_id": "MSP", "modules": ["locations"]},
                {"country_code": "NL", "party_id": "OTH", "modules": []},
            ],
        },
    }
    assert NO_RULES.to_json() == {
        "signatures": False,
        "whitelist": {"active": False, "list": []},
        "blacklist": {"active": False, "list": []},
    }


# ---------------------------------------------------------------- OCN's bugs


def test_regression_block_all_changes_only_the_callers_rules() -> None:
    """OCN's block-all ran ocnRulesListRepo.deleteAll(): every party's lists were wiped. Rules
    are values of one party; blocking all makes a new value and touches no other."""
    mine = NO_RULES.add(WHITELIST, RuleEntry(MSP))
    theirs = NO_RULES.add(BLACKLIST, RuleEntry(OTHER))
    assert mine.block_all().entries == ()
    assert mine.entries == (RuleEntry(MSP),)
    assert theirs == PartyRules(active=BLACKLIST, entries=(RuleEntry(OTHER),))
    assert not allowed(theirs, OTHER, "locations") and allowed(theirs, MSP, "locations")


def test_regression_blacklisting_one_module_blocks_only_that_module() -> None:
    """OCN answered 'Message receiver not in sender's whitelist' for every other module."""
    rules = NO_RULES.add(BLACKLIST, parse_entry({**_msp(), "modules": ["lite-locations"]}))
    assert not allowed(rules, MSP, "lite-locations")
    assert all(allowed(rules, MSP, m) for m in ("locations", "sessions", "cdrs", "tokens"))


def test_regression_already_listed_is_per_party_not_across_platforms() -> None:
    """OCN checked 'Party already on OCN Rules whitelist' against every platform's entries, so
    a second party could not whitelist a sender the first one had."""
    first = NO_RULES.add(WHITELIST, RuleEntry(MSP))
    second = NO_RULES.add(WHITELIST, RuleEntry(MSP))  # no error: its own list is empty
    assert first.entries == second.entries == (RuleEntry(MSP),)


def test_regression_an_empty_module_list_means_every_module() -> None:
    """In OCN a whitelist entry with `modules: []` blocked everything; here it allows all."""
    rules = NO_RULES.add(WHITELIST, parse_entry({**_msp(), "modules": []}))
    assert allowed(rules, MSP, "locations") and allowed(rules, MSP, "lite-locations")


# ---------------------------------------------------------------- parsing


def _msp() -> dict[str, object]:
    return {"country_code": "DE", "party_id": "MSP"}


def test_an_entry_is_upper_cased_and_its_modules_lower_cased() -> None:
    entry = parse_entry({"country_code": "de", "party_id": "msp", "modules": [" Locations "]})
    assert entry == RuleEntry(MSP, frozenset({"locations"}))
    assert parse_entry(_msp()) == RuleEntry(MSP)
    assert parse_entry({**_msp(), "modules": None}) == RuleEntry(MSP)
    assert parse_entry({**_msp(), "extra": 1}) == RuleEntry(MSP)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "A rule entry is an object"),
        ("DE MSP", "A rule entry is an object"),
        ({"country_code": "DE"}, "needs country_code and party_id strings"),
        ({"country_code": 49, "party_id": "MSP"}, "needs country_code and party_id strings"),
        ({"country_code": "DEU", "party_id": "MSP"}, "Rule entry: country code 'DEU'"),
        ({"country_code": "DE", "party_id": "MS"}, "Rule entry: party id 'MS'"),
        ({**_msp(), "modules": "locations"}, "modules must be a list of module identifiers"),
        ({**_msp(), "modules": [""]}, "modules must be a list of module identifiers"),
        ({**_msp(), "modules": ["  "]}, "modules must be a list of module identifiers"),
        ({**_msp(), "modules": [1]}, "modules must be a list of module identifiers"),
    ],
)
def test_bad_entries_are_invalid_parameters(data: object, message: str) -> None:
    with pytest.raises(InvalidParameters, match=message) as error:
        parse_entry(data)
    assert error.value.status == 2001


def test_a_list_is_an_array_of_distinct_parties() -> None:
    assert parse_entries([_msp(), {"country_code": "NL", "party_id": "OTH"}]) == (
        RuleEntry(MSP),
        RuleEntry(OTHER),
    )
    assert parse_entries([]) == ()
    with pytest.raises(InvalidParameters, match="A rule list is a JSON array"):
        parse_entries(_msp())
    with pytest.raises(InvalidParameters, match="DE MSP is listed twice"):
        parse_entries([_msp(), {"country_code": "de", "party_id": "msp", "modules": ["cdrs"]}])


def test_signatures_body() -> None:
    assert parse_signatures({"signatures": True}) is True
    assert parse_signatures({"signatures": False}) is False
    assert parse_signatures(None) is None
    for bad in ({}, {"signatures": "yes"}, {"signatures": 1}, [True]):
        with pytest.raises(InvalidParameters, match="PUT signatures takes"):
            parse_signatures(bad)
