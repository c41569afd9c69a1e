"""Fakes for testing the hub as a core: no chain, no socket, no database server; milliseconds.

* `InMemoryRegistry` (registry.py): the SCN Registry as the hub's ports see it. `set_node`,
  `list_party`, `unlist`, `add_service`, `revoke`; `listing(operator)` for one node's view.
* `FakeNetwork` / `FunctionTransport` (transport.py): HTTP without sockets. A FakeNetwork routes
  every OutboundRequest by its scheme and host to whoever `serve`s that base URL, and keeps
  them all in `sent`; an unserved host is unreachable (ConnectionProblem, as the real client).
* `FakeBackoffice` (backoffice.py): an SCPI backoffice in memory, the FakeParty of tests/node
  without a socket: versions, version details, every module endpoint, `received`, `on()`
  responders (`answer(data, headers=…)` builds an answer), `module_requests()`.
* `MovingClock` (clock.py): the wall clock, moved on when the test says (the `clock` fixture).
* `HubUnderTest` (hub.py): ONE node's real hub services (`scn_node.hub.node.Hub`) and real store
  (SQLite in tmp_path) over those fakes. `connect()` lists a party and runs the real credentials
  handshake; `send()` is a party's routed request and returns the `Answer` the party would see
  (HTTP status, headers, bytes: errors rendered as the web adapter renders them). Two nodes
  started on one registry and one network talk to each other through the real peer protocol.

Example (tests/hub/conftest.py has the `node` and `two_nodes` fixtures)::

    async def test_a_party_reaches_another(node: HubUnderTest) -> None:
        emsp = await node.connect("DE", "MSP", Role.EMSP)
        cpo = await node.connect("NL", "CPO", Role.CPO)
        answer = await node.send(emsp, "GET", "/scpi/sender/2.2/locations/LOC1", to=cpo)
        assert (answer.status, answer.status_code) == (200, 1000)
        assert cpo.module_requests()[-1].path == "/scpi/cpo/2.2/locations/sender/LOC1"

Moving a tests/node test here (what each piece of `tests/node/conftest.py` becomes):

    network / peers fixtures          node / two_nodes (tests/hub/conftest.py)
    Network.connect(cc, pid, role)    HubUnderTest.connect(cc, pid, role, **FakeBackoffice fields)
    start_party + list_party          new_party(cc, pid, role) + list_party(party, operator=…)
    token_a(roles) / post_credentials token_a(body) / register(party, token_a, body=…) -> Answer
    Network.send(… to=, body=, headers=)  HubUnderTest.send(same arguments) -> Answer
    response.status_code              answer.status (HTTP); answer.status_code is SCPI's
    FakeParty.on(m, prefix, f(request, received))
                                      FakeBackoffice.on(m, prefix, f(received)) returning
                                      `answer(data, headers=…)` or `response(status, body, headers)`
    polling with `eventually`         await node.drain() (copies and ClientInfo pushes)
    stopping a party or a node        node.network.drop(base_url)
    admin API                         node.platforms (the operator's view), node.hub.handshake
    a party's rules (scnrules)        await node.set_rules(party, PartyRules(…))
    POST /scn/message by hand         await node.serve_peer(OutboundRequest(…))
"""
