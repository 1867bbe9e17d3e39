"""UPS, USPS, FedEx and DHL: tracking numbers and public tracking pages.

Formats, check digits and tracking URLs come from the ``tracking-numbers``
package (a maintained data set of every format these carriers use), never
from patterns written here. Events for these carriers arrive by webhook
(see ``portal.plugins.easypost``). Each carrier is its own plugin, so a shop
enables only the ones it uses.
"""

from tracking_numbers import DEFINITIONS

from portal.hooks.hookspecs import hookimpl
from portal.hooks.hooktypes import CarrierInfo, TrackingNumberCheck


class ParcelCarrier:
    """One carrier of the data set; ``couriers`` are the data set's courier codes."""

    def __init__(self, code: str, name: str, couriers: tuple[str, ...], suffix: str = ""):
        self.info = CarrierInfo(code=code, name=name, tracking="webhook")
        self.definitions = [d for d in DEFINITIONS if d.courier.code in couriers]
        self.suffix = suffix  # e.g. UPU S10 numbers belong to USPS only when they end in "US"

    def __repr__(self):
        return f"<ParcelCarrier {self.info.code}>"

    def check(self, number: str) -> TrackingNumberCheck:
        name, code = self.info.name, self.info.code
        matches = [m for d in self.definitions if (m := d.test(number))
                   and (m.courier.code != "s10" or number.endswith(self.suffix))]
        for match in matches:
            if match.valid:
                return TrackingNumberCheck(True, number, code, name,
                                           tracking_url=_https(match.tracking_url or ""))
        if any(kind == "checksum" for m in matches for kind, _ in m.validation_errors):
            return TrackingNumberCheck(False, number, code, name, message=(
                f"{number} has the shape of a {name} tracking number but its check digit "
                "is wrong: look for a mistyped digit."))
        if matches:
            return TrackingNumberCheck(False, number, code, name, message=(
                f"{number} is not a {name} tracking number that is in use."))
        return TrackingNumberCheck(False, number, code, name, message=(
            f"{number} is not a {name} tracking number (wrong length or characters)."))

    @hookimpl
    def carrier_info(self):
        return self.info

    @hookimpl
    def carrier_validate_tracking_number(self, carrier_code, tracking_number):
        return self.check(tracking_number) if carrier_code == self.info.code else None

    @hookimpl
    def carrier_tracking_url(self, carrier_code, tracking_number):
        if carrier_code != self.info.code:
            return None
        return self.check(tracking_number).tracking_url


def _https(url: str) -> str:
    return "https://" + url.removeprefix("http://") if url.startswith("http://") else url


ups = ParcelCarrier("ups", "UPS", ("ups",))
usps = ParcelCarrier("usps", "USPS", ("usps", "s10"), suffix="US")
fedex = ParcelCarrier("fedex", "FedEx", ("fedex",))
dhl = ParcelCarrier("dhl", "DHL Express", ("dhl",))
