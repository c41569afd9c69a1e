"""The whole status table against OCPI 2.2.1's: on standard routes only OCPI's own codes, and an
HTTP error only where the spec names one; SCN's own codes only on the node's own routes."""

from __future__ import annotations

import json
import re

import pytest

from scn_node.scpi import errors
from scn_node.scpi.envelope import error_envelope
from scn_node.scpi.errors import Codes, ScpiError
from scn_node.web.middlewares import codes_of

# OCPI 2.2.1 status_codes.asciidoc (and the OpenAPI StatusCode enum).
SPEC_CODES = {1000, 2000, 2001, 2002, 2003, 2004, 3000, 3001, 3002, 3003, 4000, 4001, 4002, 4003}
# transport_and_format: 400 unparsable JSON, 401 no or unknown token, 404 unknown resource,
# 405 credentials in the wrong state / method; 500 is the node's own fault. Nothing else.
SPEC_HTTP_ERRORS = {
    errors.MalformedRequest: 400,
    errors.MalformedJson: 400,
    errors.Unauthorized: 401,
    errors.ResourceNotFound: 404,
    errors.RegistrationState: 405,
    errors.MethodNotAllowed: 405,
    errors.InternalError: 500,
}
SCN_ONLY = {errors.InvalidNodeSignature, errors.ReplayedMessage}  # /scn/message alone raises them

ERRORS = sorted(
    (c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, ScpiError)),
    key=lambda c: c.__name__,
)
ROUTED = [c for c in ERRORS if c is not ScpiError and c not in SCN_ONLY]


def _rendered(error_class: type[ScpiError], codes: Codes) -> tuple[int, int, str]:
    http_status, status, body = error_envelope(error_class("the detail"), codes)
    envelope = json.loads(body)
    assert envelope["status_code"] == int(status)
    return http_status, envelope["status_code"], envelope["status_message"]


@pytest.mark.parametrize("error_class", ROUTED, ids=lambda c: c.__name__)
def test_a_standard_route_answers_only_ocpi_codes(error_class: type[ScpiError]) -> None:
    http_status, code, message = _rendered(error_class, Codes.STANDARD)
    assert code in SPEC_CODES
    assert http_status == SPEC_HTTP_ERRORS.get(error_class, 200)
    assert message == "the detail"  # the detail stays, only the code is the spec's


@pytest.mark.parametrize("error_class", ERRORS, ids=lambda c: c.__name__)
def test_scn_routes_keep_scn_codes(error_class: type[ScpiError]) -> None:
    http_status, code, _ = _rendered(error_class, Codes.SCN)
    assert (http_status, code) == (error_class.http_status, int(error_class.status))


def test_the_table_in_the_errors_docstring_is_the_code() -> None:
    """scpi/errors.py's table is what the README's status table is made from: it must not lie."""
    assert errors.__doc__ is not None
    rows = re.findall(
        r"^\s+\+ (\w+)\s+(\d{3})\s+(\d{4})\s+(?:(\d{3})\s+(\d{4})|\(/scn/ only\))",
        errors.__doc__,
        re.MULTILINE,
    )
    table = {name: tuple(int(v) for v in values if v) for name, *values in rows}
    expected: dict[str, tuple[int, ...]] = {}
    for c in ERRORS:
        if c is ScpiError:
            continue
        scn = c("x").wire(Codes.SCN)
        standard = () if c in SCN_ONLY else c("x").wire(Codes.STANDARD)
        expected[c.__name__] = (*(int(v) for v in scn), *(int(v) for v in standard))
    assert table == expected


@pytest.mark.parametrize(
    ("path", "codes"),
    [
        ("/scpi/versions", Codes.STANDARD),
        ("/ocpi/2.2", Codes.STANDARD),
        ("/scpi/2.2.1/credentials", Codes.STANDARD),
        ("/scpi/2.2/hubclientinfo", Codes.STANDARD),
        ("/scpi/sender/2.2/locations/LOC1", Codes.STANDARD),
        ("/ocpi/receiver/2.2.1/commands/START_SESSION", Codes.STANDARD),
        ("/scpi/2.2/proxy/abc", Codes.STANDARD),
        ("/scpi/nothing/here", Codes.STANDARD),
        ("/scpi/custom/sender/lite-locations/1", Codes.SCN),
        ("/scpi/2.2/scnrules/whitelist", Codes.SCN),
        ("/ocpi/receiver/2.2/ocnrules", Codes.SCN),
        ("/scn/message", Codes.SCN),
        ("/ocn/registry/node-info", Codes.SCN),
        ("/admin/platforms", Codes.SCN),
        ("/health", Codes.SCN),
        ("/", Codes.SCN),
    ],
)
def test_which_routes_are_standard(path: str, codes: Codes) -> None:
    assert codes_of(path) is codes
