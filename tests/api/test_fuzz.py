"""Schemathesis against a live node, from the node's own /openapi.json: no fuzzed request gets a
5xx, and every answer is an SCPI envelope (or, on success, the JSON its operation documents).

Bounded and reproducible: EXAMPLES cases per operation and generation mode (positive and
negative; fewer for the /ocpi and /ocn twins), derandomized, no deadline, no example database;
about 1,100 requests, 30-60 s on two cores. The node runs on SQLite only (see
conftest.py). Requests carry a connected party's TOKEN_C, or the admin key for /admin/*; routed
positive cases go from that party to a second connected one, so they reach its backoffice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Err, Ok

from scn_node.scpi.party import Role
from scn_node.web.openapi import canonical
from tests.node.conftest import ADMIN_KEY, Network

EXAMPLES = 10
TWIN_EXAMPLES = 3  # /ocpi and /ocn twins share their /scpi and /scn twin's handler
ENVELOPE_REF = {"$ref": "#/components/schemas/Envelope"}
NOT_JSON = ("/health", "/openapi.json")
# Run last: each may end the TOKEN_C every other operation uses.
ENDS_THE_TOKEN = {
    *(
        ("DELETE", f"/{dialect}/{version}/credentials")
        for dialect in ("scpi", "ocpi")
        for version in ("2.2.1", "2.2")
    ),
    ("DELETE", "/admin/platforms/{id}"),
    ("POST", "/admin/platforms/{id}/rotate"),
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
REFUSED = "http://127.0.0.1:9/"  # the discard port: nothing listens, the connection is refused


@dataclass
class Findings:
    """What went wrong, one reproducer per operation and kind of problem."""

    problems: dict[str, str] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)  # requests answered, per operation

    def add(self, label: str, problem: str, reproducer: str) -> None:
        self.problems.setdefault(f"{label}: {problem}", reproducer)


def loopback_only(value: Any) -> Any:
    """The body with every absolute URL that is not on loopback pointed at a refused port, so a
    fuzzed versions URL never sends the node off this machine."""
    if isinstance(value, dict):
        return {k: loopback_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [loopback_only(v) for v in value]
    if isinstance(value, str) and "://" in value:
        try:
            host = urlsplit(value.strip()).hostname
        except ValueError:
            return REFUSED
        return value if host in LOOPBACK else REFUSED
    return value


def problem_with(status: int, body: bytes, envelope_on_success: bool, path: str) -> str | None:
    if status >= 500:
        return f"HTTP {status}"
    if path in NOT_JSON:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return f"HTTP {status} with a body that is not JSON: {body[:80]!r}"
    if not isinstance(answer, dict):
        return f"HTTP {status} with JSON that is not an object"
    is_envelope = isinstance(answer.get("status_code"), int) and isinstance(
        answer.get("timestamp"), str
    )
    if (status != 200 or envelope_on_success) and not is_envelope:
        return f"HTTP {status} without an SCPI envelope: {body[:80]!r}"
    return None


def fuzz(
    document: dict[str, Any],
    base_url: str,
    credentials: dict[str, str],
    routing: dict[str, str],
) -> Findings:
    """Run every operation of `document` against the node at `base_url` (blocking)."""
    schema = schemathesis.openapi.from_dict(document)
    results = list(schema.get_all_operations())
    invalid = [str(result.err()) for result in results if isinstance(result, Err)]
    assert invalid == [], invalid
    operations = sorted(
        (result.ok() for result in results if isinstance(result, Ok)),
        key=lambda o: (o.method.upper(), o.path) in ENDS_THE_TOKEN,
    )
    findings = Findings()
    session = requests.Session()
    session.trust_env = False  # loopback only: no proxy from the environment
    for operation in operations:
        described = document["paths"][operation.path][operation.method.lower()]
        security = [name for scheme in described["security"] for name in scheme]
        fixed: dict[str, str] = {}
        if security in (["adminKey"], ["partyToken"]):
            fixed["Authorization"] = credentials[security[0]]
        ok = described["responses"]["200"]["content"]
        envelope_on_success = ok.get("application/json", {}).get("schema") == ENVELOPE_REF
        routed = any(p["name"] == "X-Request-ID" for p in described.get("parameters", []))
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            headers = {**fixed, **(routing if routed and mode is GenerationMode.POSITIVE else {})}
            strategy = operation.as_strategy(generation_mode=mode, headers=headers)
            examples = EXAMPLES if canonical(operation.path) == operation.path else TWIN_EXAMPLES
            run = _runner(
                strategy, examples, session, base_url, findings, envelope_on_success, operation.path
            )
            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label
                # nothing in this operation to get wrong (no parameters, no body)
    return findings


def _runner(
    strategy: Any,
    examples: int,
    session: requests.Session,
    base_url: str,
    findings: Findings,
    envelope_on_success: bool,
    path: str,
) -> Callable[[], None]:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: problems are kept, not raised
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=strategy)
    def run(case: schemathesis.Case[Any]) -> None:
        if case.body is not None and not isinstance(case.body, (bytes, str)):
            case.body = loopback_only(case.body)
        try:
            response = case.call(base_url=base_url, session=session, timeout=30)
        except (requests.exceptions.InvalidHeader, UnicodeEncodeError, ValueError):
            return  # the client refuses to send it (a header with a newline, say)
        except requests.RequestException as error:
            findings.add(case.operation.label, f"no answer ({type(error).__name__})", _curl(case))
            return
        label = case.operation.label
        findings.sent[label] = findings.sent.get(label, 0) + 1
        problem = problem_with(response.status_code, response.content, envelope_on_success, path)
        if problem is not None:
            findings.add(case.operation.label, problem, _curl(case))

    return run


def _curl(case: schemathesis.Case[Any]) -> str:
    return case.as_curl_command()


async def test_fuzzed_requests_get_scpi_answers_and_never_a_5xx(network: Network) -> None:
    sender = await network.connect("DE", "MSP", Role.EMSP)
    receiver = await network.connect("DE", "CPO", Role.CPO)
    response = await network.client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    credentials = {"adminKey": f"Token {ADMIN_KEY}", "partyToken": sender.authorization()}
    routing = {k: v for k, v in network.headers(sender, receiver).items() if k != "Authorization"}

    findings = await asyncio.to_thread(fuzz, document, network.url, credentials, routing)

    operations = [f"{m.upper()} {p}" for p, methods in document["paths"].items() for m in methods]
    assert [o for o in operations if findings.sent.get(o, 0) == 0] == []  # each was tried
    report = "\n".join(f"{problem}\n    {curl}" for problem, curl in findings.problems.items())
    assert report == ""
    assert receiver.module_requests() != []  # positive routed cases reached the backoffice
