"""Each platform's `scnrules`, as the directory keeps them (on SQLite and PostgreSQL): saved
only under the platform's current TOKEN_C, read with the platform, never stale in the cache,
kept across a credentials update, and applied to the HubClientInfo list."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from scn_node.hub.ports import Platform, TokenKind
from scn_node.hub.rules import MAX_ENTRIES, NO_RULES, ListKind, PartyRules, RuleEntry
from scn_node.scpi.hubclientinfo import ClientInfo, ConnectionStatus
from scn_node.scpi.pagination import Page
from scn_node.scpi.party import PartyId, Role
from scn_node.store import Database, SqlDirectory
from scn_node.store.database import head
from scn_node.store.records import digest
from tests.store.values import CPO, MSP, registration

CPB = PartyId("CH", "CPB")
REMOTE = PartyId("NL", "REM")
EVERYTHING = Page(None, None, 0, 100)
WHITELIST, BLACKLIST = ListKind.WHITELIST, ListKind.BLACKLIST
RULES = PartyRules(
    signatures=True,
    active=BLACKLIST,
    entries=(RuleEntry(MSP, frozenset({"locations", "lite-locations"})), RuleEntry(REMOTE)),
)


async def connect(store: SqlDirectory, party: PartyId, role: Role = Role.CPO) -> tuple[int, str]:
    """A connected platform with `party`: its id and TOKEN_C."""
    token_a = f"token-a-{uuid.uuid4()}"
    platform = await store.issue_token_a(token_a, None)
    handshake = registration((party, role))
    assert await store.register(platform.id, token_a, handshake) is not None
    return platform.id, handshake.token_c


async def rules_of(store: SqlDirectory, party: PartyId) -> PartyRules:
    found = await store.platform_of(party)
    assert found is not None
    return found.rules


async def rules_platform(store: SqlDirectory, token: str) -> Platform:
    found = await store.authenticate(token)
    assert found is not None and found[1] is TokenKind.C
    return found[0]


async def test_rules_are_kept_per_platform_and_come_with_it(store: SqlDirectory) -> None:
    cpo_id, cpo_token = await connect(store, CPO)
    msp_id, msp_token = await connect(store, MSP, Role.EMSP)
    assert await rules_of(store, CPO) == NO_RULES

    saved = await store.set_rules(cpo_id, cpo_token, RULES)
    assert saved is not None and saved.rules == RULES and [r.party for r in saved.roles] == [CPO]
    assert await rules_of(store, CPO) == RULES
    assert await rules_of(store, MSP) == NO_RULES
    authenticated = await store.authenticate(cpo_token)
    assert authenticated is not None and authenticated[0].rules == RULES
    by_id: dict[int, Platform] = {p.id: p for p in await store.connected_platforms()}
    assert (by_id[cpo_id].rules, by_id[msp_id].rules) == (RULES, NO_RULES)
    assert [p.rules for p in await store.live_platforms() if p.id == cpo_id] == [RULES]

    # A fresh directory on the same database reads them back as they were saved.
    again = SqlDirectory(store.database)
    assert await rules_of(again, CPO) == RULES
    assert await store.set_rules(msp_id, msp_token, NO_RULES) is not None
    assert await rules_of(store, MSP) == NO_RULES
    assert await store.set_rules(cpo_id, cpo_token, NO_RULES) is not None
    assert await rules_of(SqlDirectory(store.database), CPO) == NO_RULES


async def test_regression_block_all_by_one_platform_leaves_the_others_lists(
    store: SqlDirectory,
) -> None:
    """OCN's block-all deleted every row of its rules list table, of all platforms."""
    cpo_id, cpo_token = await connect(store, CPO)
    _, msp_token = await connect(store, MSP, Role.EMSP)
    msp_id = (await rules_platform(store, msp_token)).id
    theirs = NO_RULES.add(WHITELIST, RuleEntry(CPO))
    await store.set_rules(msp_id, msp_token, theirs)
    await store.set_rules(cpo_id, cpo_token, NO_RULES.add(WHITELIST, RuleEntry(MSP)))
    blocked = await store.set_rules(cpo_id, cpo_token, (await rules_of(store, CPO)).block_all())
    assert blocked is not None and blocked.rules == PartyRules(active=WHITELIST)
    assert await rules_of(store, MSP) == theirs


async def test_only_the_current_token_c_changes_rules(store: SqlDirectory) -> None:
    platform_id, token_c = await connect(store, CPO)
    other_id, _ = await connect(store, MSP, Role.EMSP)
    assert await store.set_rules(platform_id, "not-a-token", RULES) is None
    assert await store.set_rules(other_id, token_c, RULES) is None  # another platform's token
    assert await store.set_rules(10_000, token_c, RULES) is None
    assert await rules_of(store, CPO) == NO_RULES
    assert await rules_of(store, MSP) == NO_RULES

    # A credentials update replaces TOKEN_C and keeps the rules.
    await store.set_rules(platform_id, token_c, RULES)
    update = registration((CPO, Role.CPO))
    assert await store.register(platform_id, token_c, update) is not None
    assert await store.set_rules(platform_id, token_c, NO_RULES) is None  # the old token
    assert await rules_of(store, CPO) == RULES
    assert await store.set_rules(platform_id, update.token_c, NO_RULES) is not None

    # A platform that left has no TOKEN_C: its rules cannot change.
    await store.unregister(platform_id)
    assert await store.set_rules(platform_id, update.token_c, RULES) is None


async def test_a_token_a_does_not_change_rules(store: SqlDirectory) -> None:
    token_a = f"token-a-{uuid.uuid4()}"
    platform = await store.issue_token_a(token_a, None)
    assert await store.set_rules(platform.id, token_a, RULES) is None


async def test_saving_rules_drops_the_cached_platform(store: SqlDirectory) -> None:
    platform_id, token_c = await connect(store, CPO)
    # Both lookups of the forward path are cached now ...
    assert (await rules_platform(store, token_c)).rules == NO_RULES
    assert await rules_of(store, CPO) == NO_RULES
    generation = store.cache.generation
    await store.set_rules(platform_id, token_c, RULES)
    assert store.cache.generation > generation
    # ... and read afresh after the write.
    assert (await rules_platform(store, token_c)).rules == RULES
    assert await rules_of(store, CPO) == RULES


async def test_a_database_made_before_rules_gets_the_column(made_by_create_tables: str) -> None:
    old = Database(made_by_create_tables)
    now = datetime.now(UTC).replace(tzinfo=None)
    async with old.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE platforms DROP COLUMN rules"))
        await connection.execute(
            text(
                "INSERT INTO platforms (id, status, token_form, token_c_digest, last_updated, "
                "created_at) VALUES (1, 'CONNECTED', 'plain', :digest, :now, :now)"
            ),
            {"digest": digest("old-token-c"), "now": now},
        )
        await connection.execute(
            text(
                "INSERT INTO roles (platform_id, role, country_code, party_id, business_details, "
                "active) VALUES (1, 'CPO', 'DE', 'CPO', '{}', TRUE)"
            )
        )
    await old.close()

    database = Database(made_by_create_tables)
    try:
        assert await database.migrate() == (None, head())
        assert await database.migrate() == (head(), head())  # and again: nothing left to do
        store = SqlDirectory(database)
        assert await rules_of(store, CPO) == NO_RULES
        assert await store.set_rules(1, "old-token-c", RULES) is not None
        assert await rules_of(SqlDirectory(database), CPO) == RULES
    finally:
        await database.close()


# ---------------------------------------------------------------- HubClientInfo list


async def listed(store: SqlDirectory, rules: PartyRules, page: Page = EVERYTHING) -> list[str]:
    infos, total = await store.client_infos(page, rules)
    if page == EVERYTHING:
        assert total == len(infos)
    return [i.party.party_id for i in infos]


async def test_the_list_holds_only_the_parties_the_rules_see(store: SqlDirectory) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    await store.save_network_client_info(
        ClientInfo(REMOTE, Role.CPO, ConnectionStatus.CONNECTED, start)
    )
    await connect(store, CPO)
    await connect(store, CPB)
    await connect(store, MSP, Role.EMSP)
    everyone = ["REM", "CPO", "CPB", "MSP"]
    assert await listed(store, NO_RULES) == everyone
    assert await listed(store, NO_RULES.add(WHITELIST, RuleEntry(MSP))) == ["MSP"]
    assert await listed(store, NO_RULES.add(WHITELIST, RuleEntry(REMOTE))) == ["REM"]
    # OCN scenario 14: blacklisted with every module, CPO is gone; CPB stays.
    assert await listed(store, NO_RULES.add(BLACKLIST, RuleEntry(CPO))) == ["REM", "CPB", "MSP"]
    # Blacklisted for one module only, CPO still reaches the party: it stays listed.
    one_module = NO_RULES.add(BLACKLIST, RuleEntry(CPO, frozenset({"locations"})))
    assert await listed(store, one_module) == everyone
    assert await listed(store, NO_RULES.block_all()) == []


async def test_filtered_pages_count_only_what_is_seen(store: SqlDirectory) -> None:
    for party in (CPO, MSP, CPB, REMOTE):
        await connect(store, party)
    rules = NO_RULES.add(BLACKLIST, RuleEntry(MSP)).add(BLACKLIST, RuleEntry(REMOTE))
    first, total = await store.client_infos(Page(None, None, 0, 1), rules)
    assert total == 2 and [i.party for i in first] == [CPO]
    second, total = await store.client_infos(Page(None, None, 1, 1), rules)
    assert total == 2 and [i.party for i in second] == [CPB]
    third, total = await store.client_infos(Page(None, None, 2, 1), rules)
    assert total == 2 and third == []


async def test_the_longest_rule_list_still_filters_the_list(store: SqlDirectory) -> None:
    # SQLite refuses expressions over 1000 deep: the cap on a list keeps the filter under it.
    await connect(store, CPO)
    await connect(store, MSP, Role.EMSP)
    many = tuple(RuleEntry(PartyId("NL", f"{n:03d}")) for n in range(MAX_ENTRIES - 1))
    whitelist = NO_RULES.replace_list(WHITELIST, (*many, RuleEntry(MSP)))
    assert await listed(store, whitelist) == ["MSP"]
    blacklist = NO_RULES.replace_list(BLACKLIST, (*many, RuleEntry(MSP)))
    assert await listed(store, blacklist) == ["CPO"]


async def test_unreadable_stored_rules_block_all_and_are_logged(
    store: SqlDirectory, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    platform_id, token_c = await connect(store, CPO)
    async with database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE platforms SET rules = :rules WHERE id = :id"),
            {"rules": '{"signatures": true}', "id": platform_id},
        )
    fresh = SqlDirectory(database)  # no cached platform
    assert (await rules_platform(fresh, token_c)).rules == NO_RULES.block_all()
    assert "unreadable scnrules" in caplog.text
