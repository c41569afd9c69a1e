"""The tutorial's data: the location LOC1, its two tariffs, a CDR of one hour on it and the
driver's token the eMSP issued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from scn_node.scpi.party import PartyId

LAST_UPDATED = "2019-08-13T14:44:25.561Z"  # the tutorial's timestamps


def demo_location(party: PartyId) -> dict[str, Any]:
    """The tutorial's LOC1, owned by `party`: EVSE 1234 AVAILABLE, EVSE 4567 RESERVED."""

    def evse(uid: str, status: str, tariff_id: str) -> dict[str, Any]:
        return {
            "uid": uid,
            "evse_id": f"{party.country_code}*{party.party_id}*E{uid}",
            "status": status,
            "connectors": [
                {
                    "id": "1",
                    "standard": "IEC_62196_T2",
                    "format": "SOCKET",
                    "power_type": "AC_3_PHASE",
                    "max_voltage": 400,
                    "max_amperage": 32,
                    "tariff_ids": [tariff_id],
                    "last_updated": LAST_UPDATED,
                }
            ],
            "last_updated": LAST_UPDATED,
        }

    return {
        "country_code": party.country_code,
        "party_id": party.party_id,
        "id": "LOC1",
        "publish": True,
        "address": "somestreet 1",
        "city": "Essen",
        "postal_code": "45127",
        "country": "DEU",
        "coordinates": {"latitude": "52.232", "longitude": "0.809"},
        "evses": [evse("1234", "AVAILABLE", "xxx-123"), evse("4567", "RESERVED", "xyz-456")],
        "time_zone": "Europe/Berlin",
        "last_updated": LAST_UPDATED,
    }


def demo_tariffs(party: PartyId) -> list[dict[str, Any]]:
    """The tariffs the connectors of LOC1 name: xxx-123 (energy) and xyz-456 (time)."""

    def tariff(
        tariff_id: str, kind: str, price: float, step_size: int, text: str
    ) -> dict[str, Any]:
        return {
            "country_code": party.country_code,
            "party_id": party.party_id,
            "id": tariff_id,
            "currency": "EUR",
            "tariff_alt_text": [{"language": "en", "text": text}],
            "elements": [
                {"price_components": [{"type": kind, "price": price, "step_size": step_size}]}
            ],
            "last_updated": LAST_UPDATED,
        }

    return [
        tariff("xxx-123", "ENERGY", 0.25, 1, "0.25 EUR per kWh"),
        tariff("xyz-456", "TIME", 2.00, 300, "2.00 EUR per hour, billed per 5 minutes"),
    ]


def demo_cdr(cpo: PartyId, cdr_id: str, session_id: str | None) -> dict[str, Any]:
    """A CDR of one hour on LOC1, EVSE 1234, connector 1 (tariff xxx-123), ending now."""
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(hours=1)
    start_text = start.isoformat().replace("+00:00", "Z")
    end_text = end.isoformat().replace("+00:00", "Z")
    location = demo_location(cpo)
    cdr: dict[str, Any] = {
        "country_code": cpo.country_code,
        "party_id": cpo.party_id,
        "id": cdr_id,
        "start_date_time": start_text,
        "end_date_time": end_text,
        "cdr_token": {"uid": "DEMO-TOKEN-1", "type": "RFID", "contract_id": "DE-MSP-C12345678-X"},
        "auth_method": "COMMAND",
        "cdr_location": {
            "id": location["id"],
            "address": location["address"],
            "city": location["city"],
            "postal_code": location["postal_code"],
            "country": location["country"],
            "coordinates": location["coordinates"],
            "evse_uid": "1234",
            "evse_id": location["evses"][0]["evse_id"],
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "tariffs": [demo_tariffs(cpo)[0]],
        "charging_periods": [
            {
                "start_date_time": start_text,
                "dimensions": [{"type": "ENERGY", "volume": 11.0}],
                "tariff_id": "xxx-123",
            }
        ],
        "total_cost": {"excl_vat": 2.75, "incl_vat": 3.27},
        "total_energy": 11.0,
        "total_energy_cost": {"excl_vat": 2.75, "incl_vat": 3.27},
        "total_time": 1.0,
        "last_updated": end_text,
    }
    if session_id:
        cdr["session_id"] = session_id
    return cdr


def demo_token(emsp: PartyId) -> dict[str, Any]:
    """The driver's RFID card of the tutorial's START_SESSION, issued by `emsp`."""
    return {
        "country_code": emsp.country_code,
        "party_id": emsp.party_id,
        "uid": "012345678",
        "type": "RFID",
        "contract_id": "DE8ACC12E46L89",
        "issuer": "Demo eMSP",
        "valid": True,
        "whitelist": "ALWAYS",
        "last_updated": LAST_UPDATED,
    }
