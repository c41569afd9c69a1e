"""The node's log: JSON lines with the message ids, and never a token or key."""

from __future__ import annotations

import json
import logging

import pytest

from scn_node.log import (
    QUIET_LOGGERS,
    JsonFormatter,
    TextFormatter,
    configure,
    drain,
    request_ids,
)
from scn_node.scpi.party import PartyId, Role
from tests.node.conftest import ADMIN_KEY, Network


def test_json_lines_carry_the_request_and_correlation_ids() -> None:
    token = request_ids.set(("req-9", "corr-9"))
    try:
        record = logging.LogRecord(
            "scn_node.requests", logging.INFO, "", 0, "GET %s", ("/x",), None
        )
        record.status = 200
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_ids.reset(token)
    assert line["message"] == "GET /x"
    assert (line["request_id"], line["correlation_id"], line["status"]) == ("req-9", "corr-9", 200)
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")


async def test_no_token_or_key_reaches_the_log(
    network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="scn_node")
    cpo = await network.connect("DE", "CPO", Role.CPO)
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
    await network.client.get("/scpi/versions", headers={"Authorization": "Token wrong-token"})
    assert network.node is not None
    secrets = [
        cpo.token_b,
        cpo.token_c,
        emsp.token_b,
        emsp.token_c,
        ADMIN_KEY,
        str(network.node.settings.private_key)[2:],
        "wrong-token",
    ]
    formatter = JsonFormatter()
    text = "\n".join(formatter.format(r) for r in caplog.records)
    assert "/scpi/sender/2.2/locations" in text  # the request was logged
    for secret in secrets:
        assert secret not in text


def test_configure_keeps_chatty_libraries_at_warning_even_in_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure("DEBUG", "json")
        assert root.level == logging.DEBUG
        for name in QUIET_LOGGERS:
            assert logging.getLogger(name).level == logging.WARNING
        # Lines are written by a thread, with the ids of the request they were made under.
        token = request_ids.set(("req-9", "corr-9"))
        try:
            logging.getLogger("scn_node.test").info("queued")
        finally:
            request_ids.reset(token)
        logging.getLogger("scn_node.test").info("outside")
        drain()
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        queued, outside = (
            next(entry for entry in lines if entry["message"] == text)
            for text in ("queued", "outside")
        )
        assert (queued["request_id"], queued["correlation_id"]) == ("req-9", "corr-9")
        assert "request_id" not in outside and queued["level"] == "INFO"
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_text_lines_show_the_scpi_status_the_parties_the_ids_and_the_duration() -> None:
    token = request_ids.set(("req-9", "corr-9"))
    try:
        record = logging.LogRecord(
            "scn_node.requests", logging.INFO, "", 0, "%s %s %s", ("GET", "/x", 200), None
        )
        record.scpi_status = 2001
        record.sender, record.receiver = "DE MSP", "DE CPO"
        record.duration_ms = 12.5
        line = TextFormatter("%(levelname)s %(message)s").format(record)
    finally:
        request_ids.reset(token)
    assert line == (
        "INFO GET /x 200 SCPI 2001 DE MSP -> DE CPO 12.5 ms [request req-9, correlation corr-9]"
    )


def test_text_lines_without_request_fields_are_the_plain_message() -> None:
    record = logging.LogRecord("scn_node", logging.INFO, "", 0, "node started", (), None)
    assert TextFormatter("%(levelname)s %(message)s").format(record) == "INFO node started"


class JsonLines(logging.Handler):
    """The JSON lines as the node writes them: formatted while the request's ids are set."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


async def test_the_request_log_names_the_scpi_status_and_the_parties(network: Network) -> None:
    cpo = await network.connect("DE", "CPO", Role.CPO)
    emsp = await network.connect("DE", "MSP", Role.EMSP)
    requests = logging.getLogger("scn_node.requests")
    captured, level = JsonLines(), requests.level
    requests.addHandler(captured)
    requests.setLevel(logging.INFO)
    try:
        await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=cpo)
        await network.send(emsp, "GET", "/scpi/sender/2.2/locations", to=PartyId("NL", "ZZZ"))
    finally:
        requests.removeHandler(captured)
        requests.setLevel(level)
    relayed, refused = captured.lines
    assert (relayed["status"], relayed["sender"], relayed["receiver"]) == (200, "DE MSP", "DE CPO")
    assert "scpi_status" not in relayed  # the receiver's answer is relayed, not read
    assert (refused["scpi_status"], refused["receiver"]) == (4001, "NL ZZZ")
    assert (refused["request_id"], refused["correlation_id"]) == ("req-1", "corr-1")
    assert isinstance(refused["duration_ms"], float)
