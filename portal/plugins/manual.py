"""Any other carrier: the seller types the tracking number and, by hand, the events.

On for every shop until the shop turns it off, so that a seller can always ship.
"""

import re

from portal.hooks.hookspecs import hookimpl
from portal.hooks.hooktypes import CarrierInfo, TrackingNumberCheck

INFO = CarrierInfo(code="manual", name="Other carrier (manual tracking)", tracking="manual",
                   detects=False, always_on=True)
_FORMAT = re.compile(r"^[A-Z0-9-]{6,40}$")


@hookimpl
def carrier_info():
    return INFO


@hookimpl(trylast=True)
def carrier_validate_tracking_number(carrier_code, tracking_number):
    if carrier_code != INFO.code:
        return None
    if not _FORMAT.match(tracking_number):
        return TrackingNumberCheck(False, tracking_number, INFO.code, INFO.name,
                                   message="A tracking number has 6 to 40 letters, digits or dashes.")
    return TrackingNumberCheck(True, tracking_number, INFO.code, INFO.name)


@hookimpl(trylast=True)
def carrier_tracking_url(carrier_code):
    return "" if carrier_code == INFO.code else None
