"""The one table of SCPI status codes (OCPI 2.2 status_codes, plus 2.2.1's 4000 and our 29xx/49xx)."""

from __future__ import annotations

from enum import IntEnum


class ScpiStatus(IntEnum):
    SUCCESS = 1000

    CLIENT_ERROR = 2000
    INVALID_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    # 2900-2999 are reserved for custom client errors; the hub's own:
    INVALID_HEADER = 2900
    BODY_TOO_LARGE = 2901
    SENDER_NOT_ALLOWED = 2902
    MISSING_SIGNATURE = 2903
    INVALID_SIGNATURE = 2904

    SERVER_ERROR = 3000
    UNABLE_TO_USE_CLIENT_API = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003

    HUB_ERROR = 4000
    UNKNOWN_RECEIVER = 4001
    RECEIVER_TIMEOUT = 4002
    CONNECTION_PROBLEM = 4003
    # 4900-4999 are reserved for custom hub errors; the hub's own:
    RECEIVER_MODULE_MISSING = 4900
    INVALID_NODE_SIGNATURE = 4901
    REPLAYED_MESSAGE = 4902
