"""A shop's rules for its orders: where parcels ship from, the handling time, how long
buyers may ask for changes and returns, which products cannot be returned, and
whether the seller gets e-mails. The settings page asks :func:`update`."""

from dataclasses import dataclass, field

from portal.addresses import check_address
from portal.db import database
from portal.models import Product, Shop
from portal.orders.errors import BadInput

SHIP_FROM = ("name", "line1", "line2", "city", "region", "postal_code", "country")


@dataclass(frozen=True)
class ShopSettings:
    """What the seller chose; ``ship_from`` maps the keys of :data:`SHIP_FROM` to text."""

    ship_from: dict[str, str]
    handling_days: int
    modification_window_hours: int
    return_window_days: int
    non_returnable: set[int] = field(default_factory=set)
    notify_by_email: bool = True


class ShipFromRefused(BadInput):
    """The ship-from address does not hold together; ``errors`` maps its keys to why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("settings.bad_ship_from", " ".join(errors.values())
                         or "The ship-from address is not complete.")
        self.errors = errors


def products_of(shop: Shop) -> list[Product]:
    """The shop's products (id, name, returnable), by name: the return policy's choices."""
    return list(Product.select(Product.id, Product.name, Product.returnable)
                .where(Product.shop == shop.id).order_by(Product.name))


def update(shop: Shop, settings: ShopSettings) -> None:
    """Save the settings in one transaction, or raise :class:`ShipFromRefused` and save
    nothing. A ship-from address left empty (but its country) is allowed; one that is
    filled in is checked for its country and stored as the check cleaned it."""
    address = {key: settings.ship_from.get(key) or "" for key in SHIP_FROM}
    if any(value for key, value in address.items() if key != "country"):
        check = check_address(address)
        if not check.valid:
            raise ShipFromRefused({k: m for k, m in check.errors.items() if k in SHIP_FROM}
                                  or {"line1": "The ship-from address is not complete."})
        address = {key: check.address[key] for key in SHIP_FROM}
    with database.atomic():
        for key in SHIP_FROM:
            setattr(shop, f"ship_from_{key}", address[key])
        shop.handling_days = settings.handling_days
        shop.modification_window_hours = settings.modification_window_hours
        shop.return_window_days = settings.return_window_days
        shop.notify_by_email = settings.notify_by_email
        shop.save()
        Product.update(returnable=~Product.id.in_(list(settings.non_returnable) or [0])) \
            .where(Product.shop == shop.id).execute()
