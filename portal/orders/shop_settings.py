"""A shop's rules for its orders: where parcels ship from, the handling time, how long
buyers may ask for changes and returns, which products cannot be returned, the flat
shipping rate checkout offers when no carrier quotes one, the shop's time zone, and
whether the seller gets e-mails. The settings page asks :func:`update`."""

from dataclasses import dataclass, field
from functools import cache
from zoneinfo import available_timezones

from portal.addresses import check_address
from portal.db import database
from portal.models import Product, Shop
from portal.money import format_money
from portal.orders.errors import BadInput

SHIP_FROM = ("name", "line1", "line2", "city", "region", "postal_code", "country")
FLAT_RATE_MAX = 10_000_000  # minor units: a price for shipping, not a typing slip
FLAT_RATE_DAYS = (1, 60)


@dataclass(frozen=True)
class ShopSettings:
    """What the seller chose; ``ship_from`` maps the keys of :data:`SHIP_FROM` to text."""

    ship_from: dict[str, str]
    handling_days: int
    modification_window_hours: int
    return_window_days: int
    non_returnable: set[int] = field(default_factory=set)
    notify_by_email: bool = True
    flat_rate: int | None = None  # minor units of the shop's currency; None keeps it
    flat_rate_days: int | None = None  # the flat rate's delivery estimate; None keeps it
    timezone: str | None = None  # the shop's clock (an IANA zone); None keeps it
    # Where returns go (keys of SHIP_FROM); all empty: the ship-from address. None keeps it.
    return_to: dict[str, str] | None = None


class ShipFromRefused(BadInput):
    """The ship-from address does not hold together; ``errors`` maps its keys to why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("settings.bad_ship_from", " ".join(errors.values())
                         or "The ship-from address is not complete.")
        self.errors = errors


class ReturnAddressRefused(BadInput):
    """The return address does not hold together; ``errors`` maps its keys to why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("settings.bad_return_address", " ".join(errors.values())
                         or "The return address is not complete.")
        self.errors = errors


def _checked(address: dict[str, str], refused: type) -> dict[str, str]:
    """The address as its country's check cleaned it; an empty one (but its country) as is."""
    address = {key: address.get(key) or "" for key in SHIP_FROM}
    if any(value for key, value in address.items() if key != "country"):
        check = check_address(address)
        if not check.valid:
            raise refused({k: m for k, m in check.errors.items() if k in SHIP_FROM}
                          or {"line1": "The address is not complete."})
        address = {key: check.address[key] for key in SHIP_FROM}
    return address


class FlatRateRefused(BadInput):
    """The flat rate is out of bounds; ``errors`` maps ``flat_rate``/``flat_rate_days`` to why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("settings.bad_flat_rate", " ".join(errors.values()))
        self.errors = errors


def check_flat_rate(amount: int | None, days: int | None, currency: str) -> dict[str, str]:
    """Why the flat rate cannot be saved, per field ({} when it can; None is "keep")."""
    errors = {}
    if amount is not None and not 0 <= amount <= FLAT_RATE_MAX:
        errors["flat_rate"] = (f"From {format_money(0, currency)} to "
                               f"{format_money(FLAT_RATE_MAX, currency)}.")
    low, high = FLAT_RATE_DAYS
    if days is not None and not low <= days <= high:
        errors["flat_rate_days"] = f"From {low} to {high} days."
    return errors


@cache
def time_zones() -> tuple[str, ...]:
    """The zones a shop may keep its clock in (IANA names, sorted; "UTC" first)."""
    named = sorted(z for z in available_timezones() if "/" in z and not z.startswith(
        ("Etc/", "SystemV/", "US/", "posix/", "right/")))
    return ("UTC", *named)


def products_of(shop: Shop) -> list[Product]:
    """The shop's products (id, name, returnable), by name: the return policy's choices."""
    return list(Product.select(Product.id, Product.name, Product.returnable)
                .where(Product.shop == shop.id).order_by(Product.name))


def update(shop: Shop, settings: ShopSettings) -> None:
    """Save the settings in one transaction, or raise :class:`ShipFromRefused` (or
    :class:`FlatRateRefused`) and save nothing. A ship-from address left empty (but
    its country) is allowed; one that is filled in is checked for its country and
    stored as the check cleaned it."""
    refused = check_flat_rate(settings.flat_rate, settings.flat_rate_days, shop.currency)
    if settings.timezone is not None and settings.timezone not in time_zones():
        raise BadInput("settings.bad_timezone", "Choose a time zone from the list.")
    if refused:
        raise FlatRateRefused(refused)
    address = _checked(settings.ship_from, ShipFromRefused)
    back = None
    if settings.return_to is not None:
        back = {key: settings.return_to.get(key) or "" for key in SHIP_FROM}
        if any(value for key, value in back.items() if key != "country"):
            back = _checked({**back, "country": back["country"] or address["country"]},
                            ReturnAddressRefused)
        else:  # nothing typed: returns go to the ship-from address
            back = dict.fromkeys(SHIP_FROM, "")
    with database.atomic():
        for key in SHIP_FROM:
            setattr(shop, f"ship_from_{key}", address[key])
            if back is not None:
                setattr(shop, f"return_{key}", back[key])
        shop.handling_days = settings.handling_days
        shop.modification_window_hours = settings.modification_window_hours
        shop.return_window_days = settings.return_window_days
        shop.notify_by_email = settings.notify_by_email
        if settings.flat_rate is not None:
            shop.flat_rate_amount = settings.flat_rate
        if settings.flat_rate_days is not None:
            shop.flat_rate_days = settings.flat_rate_days
        if settings.timezone is not None:
            shop.timezone = settings.timezone
        shop.save()
        Product.update(returnable=~Product.id.in_(list(settings.non_returnable) or [0])) \
            .where(Product.shop == shop.id).execute()
