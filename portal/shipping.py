"""Carriers as the order domain sees them: which a shop can use, and whether a
tracking number is valid for one.

The seller's ship form and the CSV bulk shipping call only these two functions.
Today they know the built-in manual carrier; the carrier plugins (issue 4)
answer through them without the callers changing.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CarrierInfo:
    code: str
    name: str


@dataclass(frozen=True)
class TrackingNumberCheck:
    """The verdict on one tracking number; ``message`` says why when not valid."""

    valid: bool
    tracking_number: str  # normalised: upper case, no spaces
    carrier_code: str
    carrier_name: str = ""
    tracking_url: str = ""
    message: str = ""


MANUAL = CarrierInfo(code="manual", name="Other carrier (manual tracking)")
_MANUAL_FORMAT = re.compile(r"^[A-Z0-9-]{6,40}$")


def carriers_for_shop(shop) -> list[CarrierInfo]:
    """The carriers the shop can ship with, in the order the ship form lists them."""
    return [MANUAL]


def check_tracking_number(shop, carrier_code: str | None, tracking_number: str) -> TrackingNumberCheck:
    """Validate ``tracking_number`` for the carrier (or detect it when ``carrier_code`` is empty)."""
    number = re.sub(r"\s+", "", tracking_number or "").upper()
    code = carrier_code or MANUAL.code
    known = {c.code: c for c in carriers_for_shop(shop)}
    if code not in known:
        return TrackingNumberCheck(False, number, code, message=f"Unknown carrier {code!r}.")
    if not _MANUAL_FORMAT.match(number):
        return TrackingNumberCheck(
            False, number, code, known[code].name,
            message="A tracking number has 6 to 40 letters, digits or dashes.")
    return TrackingNumberCheck(True, number, code, known[code].name)
