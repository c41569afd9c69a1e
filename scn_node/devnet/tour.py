"""The tutorial's steps, acted out against the running local network and checked: the registry
steps as real `scn-registry` commands (`registry_steps`, `run_tour`), then the node steps.

`scn-devnet tour` (and `up --tour`) narrates each step the tutorial asks a user to do by hand
with Postman, as the demo eMSP DE MSP: register with node 1, read the CPOs' locations and
tariffs (DE CPO on node 1, NL CPX over node 2), start and stop a session at each and watch the
async results and the CDR arrive. A step whose outcome is not what the tutorial says fails it.

Between them, the hub's own scenarios: a GET All of every CPO's locations TO the hub (DE SCN),
DE MSP's token broadcast TO the hub to both CPOs, each CPO's EVSE status change reaching DE MSP
as a broadcast PATCH FROM the hub, and open routing (no SCPI-to-*): LOC1, which both CPOs have,
is ambiguous (2002), while a token authorization finds its eMSP.
"""

from __future__ import annotations

import functools
import os
import shlex
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import click

from scn_node.devnet.chain import dev_account
from scn_node.devnet.cpo.server import DemoCpo
from scn_node.devnet.emsp import DemoEmsp
from scn_node.devnet.recorder import Event
from scn_node.scpi.credentials import NODE_PARTY
from scn_node.scpi.party import PartyId

TUTORIAL_NODE = "0x9bc1169ca09555bf2721a5c9ec6d69c8073bfeb4"
NODE_ONE_ACCOUNT = 14  # the tutorial's node 1, 0x9bC1…
EMSP_ACCOUNT = 19  # the tutorial's SIGNER for DE MSP


class TourFailed(click.ClickException):
    pass


class NodeTour:
    def __init__(self, node_url: str, admin_key: str, emsp: DemoEmsp, cpos: list[DemoCpo]) -> None:
        self.node_url = node_url
        self.admin_key = admin_key
        self.emsp = emsp
        self.cpos = cpos
        self.client = aiohttp.ClientSession(
            base_url=node_url, timeout=aiohttp.ClientTimeout(total=30)
        )
        self.number = 0

    def steps(self) -> list[tuple[str, Callable[[], Awaitable[str]]]]:
        """The tutorial's node steps, in order: numbered `[step n/total]` as they run."""
        steps: list[tuple[str, Callable[[], Awaitable[str]]]] = [
            ("GET Node Info", self._node_info),
            ("GET Generate Registration Token (admin)", self._token_a),
            ("GET versions and version details with TOKEN_A", self._versions),
            ("POST credentials: DE MSP registers, TOKEN_C saved", self._credentials),
            (
                "GET All locations via the hub (TO = DE SCN): both CPOs' LOC1, node 1 and node 2",
                self._get_all,
            ),
            (
                "broadcast: DE MSP PUTs its driver's token TO the hub; both CPOs receive it",
                self._token_broadcast,
            ),
        ]
        for cpo in self.cpos:
            where = "local, node 1" if cpo.node_url == self.node_url else "remote, via node 2"
            steps += [
                (
                    f"GET locations, LOC1, EVSE 1234, connector 1 from {cpo.party} ({where})",
                    functools.partial(self._locations, cpo),
                ),
                (f"GET tariffs from {cpo.party}", functools.partial(self._tariffs, cpo)),
                (
                    f"POST START_SESSION to {cpo.party}; the async result reaches DE MSP",
                    functools.partial(self._start, cpo),
                ),
                (
                    f"broadcast: {cpo.party}'s EVSE status change reached DE MSP (FROM = DE SCN)",
                    functools.partial(self._status_pushed, cpo),
                ),
                (
                    f"POST STOP_SESSION to {cpo.party}; its result and the CDR reach DE MSP",
                    functools.partial(self._stop, cpo),
                ),
            ]
        steps += [
            (
                "open routing: GET LOC1 without SCPI-to-*: both CPOs have a LOC1, so 2002",
                self._open_ambiguous,
            ),
            (
                f"open routing: {self.cpos[-1].party} asks for authorization of DE MSP's token "
                "without SCPI-to-*: the hub finds DE MSP",
                self._open_authorize,
            ),
            ("GET sessions: the CPO has not implemented it", self._sessions),
        ]
        return steps

    async def run(self, *, first: int = 1, total: int | None = None) -> None:
        """Run the steps, numbered from `first` out of `total` (when other steps come before)."""
        steps = self.steps()
        self.number = first - 1
        try:
            for title, action in steps:
                await self._step(title, action, total or len(steps))
            click.secho("tour complete: every step checked", fg="green")
        finally:
            await self.client.close()

    async def _step(self, title: str, action: Callable[[], Awaitable[str]], total: int) -> None:
        self.number += 1
        click.secho(f"[step {self.number}/{total}] {title}", bold=True)
        try:
            outcome = await action()
        except (aiohttp.ClientError, KeyError, TypeError, ValueError, TimeoutError) as error:
            raise TourFailed(
                f"step {self.number} failed: {type(error).__name__}: {error}"
            ) from None
        click.echo(f"    {outcome}")

    async def _call(self, method: str, path: str, **options: Any) -> tuple[int, Any]:
        """One request to the node: its HTTP status and its JSON body."""
        async with self.client.request(method, path, **options) as answer:
            return answer.status, await answer.json(content_type=None)

    def _check(self, condition: bool, what: str) -> None:
        if not condition:
            raise TourFailed(f"step {self.number}: {what}")

    async def _node_info(self) -> str:
        _, info = await self._call("GET", "/scn/registry/node-info")
        self._check(info["url"] == self.node_url, f"node info names {info['url']}")
        return f"url {info['url']}, address {info['address']}"

    async def _token_a(self) -> str:
        _, body = await self._call(
            "GET",
            "/admin/generate-registration-token",
            headers={"Authorization": f"Token {self.admin_key}"},
        )
        self._check(body["versions"] == f"{self.node_url}/scpi/versions", "versions URL")
        self.token_a: str = body["token"]
        return f"CREDENTIALS_TOKEN_A {self.token_a}, versions {body['versions']}"

    async def _versions(self) -> str:
        auth = {"Authorization": f"Token {self.token_a}"}
        _, versions = await self._call("GET", "/scpi/versions", headers=auth)
        offered = [v["version"] for v in versions["data"]]
        self._check(offered == ["2.2.1", "2.2"], "versions 2.2.1 and 2.2 offered")
        details = (await self._call("GET", "/scpi/2.2", headers=auth))[1]["data"]
        credentials = [e for e in details["endpoints"] if e["identifier"] == "credentials"]
        self._check(
            credentials[0]["url"] == f"{self.node_url}/scpi/2.2/credentials", "credentials URL"
        )
        return f"{len(details['endpoints'])} endpoints; credentials at {credentials[0]['url']}"

    async def _credentials(self) -> str:
        _, body = await self._call(
            "POST",
            "/scpi/2.2/credentials",
            headers={"Authorization": f"Token {self.token_a}"},
            # The tutorial's own body, with its localhost URL: a by-hand or Postman run of the
            # tutorial after the tour is then the same backoffice registering again, which takes
            # the connection over instead of being refused as "already connected".
            json={**self.emsp.credentials(), "url": self.emsp.tutorial_versions_url},
        )
        self._check(body.get("status_code") == 1000, f"credentials answered {body}")
        role = body["data"]["roles"][0]
        self._check((role["role"], role["party_id"]) == ("HUB", "SCN"), "the node is the HUB")
        self.emsp.token_c = body["data"]["token"]
        fetched = [e for e in self.emsp.record.of("request") if "versions" in str(e.data)]
        return f"CREDENTIALS_TOKEN_C {self.emsp.token_c}; node fetched DE MSP's versions: {bool(fetched)}"

    def _headers(self, to: PartyId) -> dict[str, str]:
        return self.emsp.routing_headers(to)

    async def _data(self, cpo: DemoCpo, path: str) -> Any:
        _, body = await self._call("GET", path, headers=self._headers(cpo.party))
        self._check(body.get("status_code") == 1000, f"{path} answered {body}")
        return body["data"]

    async def _locations(self, cpo: DemoCpo) -> str:
        base = "/scpi/sender/2.2/locations"
        listed = await self._data(cpo, base)
        self._check([loc["id"] for loc in listed] == ["LOC1"], "one location, LOC1")
        location = await self._data(cpo, f"{base}/LOC1")
        statuses = {e["uid"]: e["status"] for e in location["evses"]}
        self._check(statuses == {"1234": "AVAILABLE", "4567": "RESERVED"}, f"EVSEs {statuses}")
        evse = await self._data(cpo, f"{base}/LOC1/1234")
        connector = await self._data(cpo, f"{base}/LOC1/1234/1")
        return (
            f"LOC1 at {location['address']}, {location['city']}; EVSE {evse['uid']} "
            f"{evse['status']}; connector {connector['id']} tariffs {connector['tariff_ids']}"
        )

    async def _tariffs(self, cpo: DemoCpo) -> str:
        tariffs = await self._data(cpo, "/scpi/sender/2.2/tariffs")
        ids = sorted(t["id"] for t in tariffs)
        self._check(ids == ["xxx-123", "xyz-456"], f"tariffs {ids}")
        return f"tariffs {', '.join(ids)}: the ids on the connectors"

    async def _command(self, cpo: DemoCpo, command: str, body: dict[str, Any]) -> None:
        _, data = await self._call(
            "POST",
            f"/scpi/receiver/2.2/commands/{command}",
            headers=self._headers(cpo.party),
            json={"response_url": self.emsp.response_url(command), **body},
        )
        self._check(data.get("data", {}).get("result") == "ACCEPTED", f"{command}: {data}")

    async def _start(self, cpo: DemoCpo) -> str:
        results = len(self.emsp.command_results)
        start = {"token": self.emsp.token, "location_id": "LOC1"}  # the driver's RFID card
        await self._command(cpo, "START_SESSION", start)
        result = await self.emsp.wait_for("command-result", count=results + 1, within=60)
        return f"acknowledged; then DE MSP received the async result {result.data['result']}"

    async def _stop(self, cpo: DemoCpo) -> str:
        results = len(self.emsp.command_results)
        stored = len(self.emsp.record.of("cdr-stored"))
        acknowledged = len(cpo.record.of("cdr-acknowledged"))
        await self._command(cpo, "STOP_SESSION", {"session_id": "SESSION-1"})
        await self.emsp.wait_for("command-result", count=results + 1, within=60)
        await self.emsp.wait_for("cdr-stored", count=stored + 1, within=60)
        await cpo.wait_for("cdr-acknowledged", count=acknowledged + 1, within=60)
        return f"DE MSP received the result and a CDR; {cpo.party} fetched it back through its node"

    async def _get_all(self) -> str:
        synced = await self.emsp.sync(self.client, "locations")
        last = synced.pages[-1]
        self._check(synced.ok, f"GET All answered {last.status} {last.status_code}")
        senders = {page.sender for page in synced.pages}
        self._check(senders == {NODE_PARTY}, f"pages FROM {senders}, not only DE SCN")
        owners = sorted((loc["country_code"], loc["party_id"], loc["id"]) for loc in synced.objects)
        wanted = sorted((c.party.country_code, c.party.party_id, "LOC1") for c in self.cpos)
        self._check(owners == wanted, f"GET All gave {owners}")
        total = synced.pages[0].total
        self._check(total == len(wanted), f"X-Total-Count {total}")
        listed = ", ".join(f"{cc} {pid} {id_}" for cc, pid, id_ in owners)
        return (
            f"{listed} in {len(synced.pages)} page(s) FROM DE SCN, X-Total-Count {total}: "
            "one GET, every CPO on every node"
        )

    async def _token_broadcast(self) -> str:
        seen = [len(cpo.record.of("push")) for cpo in self.cpos]
        status, body, sender = await self.emsp.broadcast_token(self.client)
        self._check(
            status == 200 and body.get("status_code") == 1000 and sender == NODE_PARTY,
            f"the token broadcast answered {status} {body} FROM {sender}",
        )
        token = self.emsp.token
        path = f"{token['country_code']}/{token['party_id']}/{token['uid']}"
        for cpo, count in zip(self.cpos, seen, strict=True):
            push = await cpo.wait_for("push", count + 1, within=30)
            self._check(
                push.data["path"] == path and push.data["sender"] == NODE_PARTY,
                f"{cpo.party} received {push.data['method']} {push.data['path']} "
                f"FROM {push.data['sender']}",
            )
        parties = " and ".join(str(cpo.party) for cpo in self.cpos)
        return f"answered 1000 FROM DE SCN; {parties} received PUT tokens/{path} FROM DE SCN"

    async def _status_pushed(self, cpo: DemoCpo) -> str:
        """The start made an EVSE CHARGING: the CPO broadcast a PATCH that reached DE MSP."""
        wanted = f"{cpo.party.country_code}/{cpo.party.party_id}/LOC1/"

        def charging(event: Event) -> bool:
            data = event.data
            return bool(
                data["method"] == "PATCH"
                and data["path"].startswith(wanted)
                and data["body"].get("status") == "CHARGING"
            )

        push = await self.emsp.record.first("push", charging, within=30)
        self._check(
            (push.data["sender"], push.data["receiver"]) == (NODE_PARTY, self.emsp.party),
            f"the PATCH came FROM {push.data['sender']} TO {push.data['receiver']}",
        )
        return (
            f"DE MSP received PATCH locations/{push.data['path']} {push.data['body']} FROM DE SCN"
        )

    async def _open_ambiguous(self) -> str:
        headers = self.emsp.routing_headers(None)
        status, body = await self._call("GET", "/scpi/sender/2.2/locations/LOC1", headers=headers)
        self._check(body.get("status_code") == 2002, f"LOC1 without SCPI-to-* answered {body}")
        return f"HTTP {status}, 2002: {body.get('status_message')}"

    async def _open_authorize(self) -> str:
        cpo = self.cpos[-1]
        answer = await cpo.authorize(self.emsp.token["uid"])
        self._check(answer.ok, f"the authorization answered {answer.status} {answer.text}")
        self._check(answer.sender == self.emsp.party, f"answered FROM {answer.sender}")
        self._check(answer.body["data"]["allowed"] == "ALLOWED", f"{answer.body['data']}")
        return (
            f"{cpo.party} sent no SCPI-to-*; the hub found DE MSP, which answered ALLOWED "
            f"(FROM {answer.sender})"
        )

    async def _sessions(self) -> str:
        cpo = self.cpos[0]
        status, body = await self._call(
            "GET",
            "/scpi/sender/2.2/sessions?date_from=2019-01-01T00:00:00Z",
            headers=self._headers(cpo.party),
        )
        self._check(body.get("status_code") != 1000, f"sessions answered {body}")
        return f"HTTP {status}: {body.get('status_message')}"


def registry_steps() -> list[tuple[str, list[str], dict[str, str], str]]:
    """The tutorial's registry steps: title, scn-registry arguments, extra env, expected output."""
    node1 = dev_account(NODE_ONE_ACCOUNT).address
    emsp = dev_account(EMSP_ACCOUNT)
    return [
        ("Look up node 1 by its operator wallet", ["get-node", node1], {}, "http://localhost:"),
        (
            "List the eMSP DE MSP in the registry, linked to node 1",
            ["set-party", "-c", "DE", "MSP", "-r", "EMSP", "-o", node1.lower()],
            {"SIGNER": "0x" + emsp.key.hex().removeprefix("0x")},
            "mined in block",
        ),
        (
            "Look the party up by its SCPI credentials",
            ["get-party", "-c", "DE", "MSP"],
            {},
            emsp.address,
        ),
        ("Look the party up by its wallet", ["get-party", "-a", emsp.address], {}, "DE MSP"),
    ]


def run_tour(rpc_url: str, registry: str, *, total: int | None = None) -> None:
    """The tutorial's registry steps, each run as the real CLI command and checked; numbered
    out of `total` when the node steps follow."""
    steps = registry_steps()
    total = total or len(steps)
    env = {**os.environ, "SCN_RPC_URL": rpc_url, "SCN_REGISTRY_ADDRESS": registry}
    for number, (title, args, extra_env, expect) in enumerate(steps, 1):
        shown = " ".join(f"{k}={v[:10]}…" for k, v in extra_env.items())
        click.secho(f"[step {number}/{total}] {title}", bold=True)
        click.echo(f"  $ {shown + ' ' if shown else ''}scn-registry {shlex.join(args)}")
        result = subprocess.run(
            [sys.executable, "-m", "registry_cli", *args],
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            check=False,
        )
        for line in (result.stderr + result.stdout).splitlines():
            click.echo(f"    {line}")
        if result.returncode != 0 or expect not in result.stdout:
            raise click.ClickException(f"step {number} did not give the expected result")
    click.secho("tour complete: every step checked", fg="green")
