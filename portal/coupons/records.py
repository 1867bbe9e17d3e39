"""Coupons and their uses in the database (no Flask, no plugins).

A use is taken in the order's placing transaction (:func:`take`, called by
``portal.orders.placing``): the coupon's ``uses`` counter goes up only while it is
below the limit, in one conditional UPDATE, so however many checkouts race for
the last use, one gets it (SQLite: the write lock; PostgreSQL: the row lock, the
condition evaluated again on the row as committed). The per-buyer limit is
counted after that UPDATE, which every use of the coupon passes through first,
so it sees every use committed before. A cancel gives the use back
(:func:`release`, from ``lifecycle.transition``); a return keeps it.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime

from peewee import JOIN, IntegrityError, fn

from portal.coupons import codes, emails, rules
from portal.db import database, prepared
from portal.models import Coupon, CouponUse, Order, User, utcnow

MAX_COUPONS_PER_ORDER = 3


class CouponInvalid(ValueError):
    """A coupon the seller wrote that cannot be saved: ``errors`` maps field to message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Draft:
    """What a seller (or the one-off remedy) sets on a coupon. Times are naive UTC."""

    name: str
    plugin: str
    kind: str
    code: str = ""  # empty: the portal makes one
    settings: dict = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: str = "UTC"
    min_spend: int = 0
    usage_limit: int | None = None
    per_buyer_limit: int | None = 1
    combines: bool = False
    automatic: bool = False
    buyer_id: int | None = None
    offered_for: int | None = None


def _checked(draft: Draft) -> tuple[str, dict[str, str]]:
    errors = {}
    code = draft.code
    if code:
        code, error = codes.clean(code)
        if error:
            errors["code"] = error
    if not draft.name.strip():
        errors["name"] = "Give the coupon a name buyers will read."
    if draft.starts_at and draft.ends_at and draft.ends_at <= draft.starts_at:
        errors["ends_at"] = "The end must come after the start."
    for name in ("min_spend", "usage_limit", "per_buyer_limit"):
        value = getattr(draft, name)
        if value is not None and not 0 <= value <= 10**9:
            errors[name] = "A whole number from 0."
    return code, errors


def save(shop, draft: Draft, coupon: Coupon | None = None) -> Coupon:
    """Create a coupon for ``shop`` (or change ``coupon``); raises :class:`CouponInvalid`
    (nothing saved) for a bad field or a code the shop has already, by its key."""
    code, errors = _checked(draft)
    if errors:
        raise CouponInvalid(errors)
    values = dict(name=draft.name.strip()[:120], plugin=draft.plugin, kind=draft.kind,
                  settings=json.dumps(draft.settings, sort_keys=True, default=str),
                  starts_at=draft.starts_at, ends_at=draft.ends_at,
                  timezone=draft.timezone[:64], min_spend=draft.min_spend,
                  usage_limit=draft.usage_limit, per_buyer_limit=draft.per_buyer_limit,
                  combines=draft.combines, automatic=draft.automatic, buyer=draft.buyer_id,
                  offered_for=draft.offered_for, updated_at=utcnow())
    for attempt in range(5):
        text = code or (coupon.code if coupon else codes.new_code())
        try:
            with database.atomic():
                if coupon is None:
                    return Coupon.create(shop=shop.id, code=text, code_key=codes.key(text),
                                         **values)
                Coupon.update(code=text, code_key=codes.key(text), **values) \
                    .where((Coupon.id == coupon.id) & (Coupon.shop == shop.id)).execute()
                return Coupon.get_by_id(coupon.id)
        except IntegrityError:
            if code:  # the seller's own code: say so; a made-up one: make another
                raise CouponInvalid({"code": f"The shop has a coupon {code} (or one that "
                                             "reads the same) already."}) from None
    raise CouponInvalid({"code": "Could not make a unique code: try again."})


def set_status(shop, coupon_id: int, status: str) -> bool:
    """Pause, resume (active) or end one of the shop's coupons; an ended one stays ended."""
    if status not in rules.STATUSES:
        return False
    return (Coupon.update(status=status, updated_at=utcnow())
            .where((Coupon.id == coupon_id) & (Coupon.shop == shop.id)
                   & (Coupon.status != "ended")).execute()) == 1


def of_shop(shop_id: int, coupon_id: int) -> Coupon | None:
    if not 0 < coupon_id < 2**63:  # beyond any id (and any database integer)
        return None
    return Coupon.get_or_none((Coupon.id == coupon_id) & (Coupon.shop == shop_id))


def find(shop_id: int, code: str) -> Coupon | None:
    """The shop's coupon with this code, however it was typed (see ``codes.key``)."""
    wanted = codes.key(code)
    if not wanted:
        return None
    return Coupon.get_or_none((Coupon.shop == shop_id) & (Coupon.code_key == wanted))


def automatic(shop_id: int) -> list[Coupon]:
    """The shop's active coupons that apply without a code, oldest first."""
    return list(Coupon.select().where((Coupon.shop == shop_id) & (Coupon.status == "active")
                                      & Coupon.automatic).order_by(Coupon.id).limit(20))


def settings_of(coupon: Coupon) -> dict:
    try:
        value = json.loads(coupon.settings or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def usage(coupons: list[Coupon], buyer: User) -> dict[int, rules.Usage]:
    """How often each coupon was used, in all and by this buyer's account or mailbox
    (one query)."""
    if not coupons:
        return {}
    key = emails.mailbox(buyer.email)
    mine = dict(CouponUse.select(CouponUse.coupon, fn.COUNT(CouponUse.id))
                .where(CouponUse.coupon.in_([c.id for c in coupons])
                       & CouponUse.released_at.is_null()
                       & ((CouponUse.buyer == buyer.id) | (CouponUse.email_key == key)))
                .group_by(CouponUse.coupon).tuples())
    return {c.id: rules.Usage(c.uses, mine.get(c.id, 0)) for c in coupons}


@dataclass(frozen=True)
class Taking:
    """A coupon about to be used on an order, as the checkout worked it out."""

    coupon_id: int
    amount: int  # the discount it gives (free shipping: the shipping it waives)
    code: str = ""  # for the timeline: "coupon SUMMER-15"


def take(takings: list[Taking], *, order: Order, buyer: User, subtotal: int,
         now: datetime) -> None:
    """Record each coupon's use on ``order``; call it inside the placing transaction.

    The rules are checked again here, on the coupon as it is now (it may have been
    paused, or used up by another checkout, since the review). Raises
    :class:`rules.CouponRefused` (the caller rolls everything back).
    """
    key = emails.mailbox(buyer.email)
    for taking in sorted(takings, key=lambda t: t.coupon_id):  # one lock order: no deadlock
        took = (Coupon.update(uses=Coupon.uses + 1)
                .where((Coupon.id == taking.coupon_id) & (Coupon.shop == order.shop_id)
                       & (Coupon.usage_limit.is_null() | (Coupon.uses < Coupon.usage_limit)))
                .execute())
        coupon = Coupon.get_by_id(taking.coupon_id)
        if not took:
            raise rules.refused("coupon.used_up", code=coupon.code)
        mine = (CouponUse.select().where((CouponUse.coupon == coupon.id)
                                         & CouponUse.released_at.is_null()
                                         & ((CouponUse.buyer == buyer.id)
                                            | (CouponUse.email_key == key))).count())
        # uses - 1: the counter already holds this use, which the rules must not count.
        rules.check(coupon, now=now, subtotal=subtotal, currency=order.currency,
                    buyer_id=buyer.id, usage=rules.Usage(coupon.uses - 1, mine))
        CouponUse.create(coupon=coupon.id, order=order.id, buyer=buyer.id, email_key=key,
                         amount=taking.amount, created_at=now)


def release(order_id: int, now: datetime | None = None) -> int:
    """Give back the coupon uses of a cancelled order (each once); how many."""
    now = now or utcnow()
    released = 0
    for use in CouponUse.select().where((CouponUse.order == order_id)
                                        & CouponUse.released_at.is_null()):
        with database.atomic():
            if CouponUse.update(released_at=now).where(
                    (CouponUse.id == use.id) & CouponUse.released_at.is_null()).execute():
                Coupon.update(uses=Coupon.uses - 1).where(Coupon.id == use.coupon_id).execute()
                released += 1
    return released


def uses_of(order_id: int) -> list[tuple[CouponUse, Coupon]]:
    """The coupons used on an order, with their amounts (for the order pages)."""
    rows = (CouponUse.select(CouponUse, Coupon).join(Coupon)
            .where(CouponUse.order == order_id).order_by(CouponUse.id))
    return [(row, row.coupon) for row in rows]


@dataclass(frozen=True)
class Figures:
    coupon: Coupon
    uses: int  # orders holding a use now (cancelled ones gave theirs back)
    revenue: int  # those orders' totals, minor units
    discount: int  # the discount they got, minor units


def list_with_figures(shop_id: int, limit: int = 200) -> list[Figures]:
    """The shop's coupons, newest first, each with its uses, revenue and discount given:
    one query, however many coupons."""
    rows = (Coupon.select(Coupon, fn.COUNT(CouponUse.id).alias("n"),
                          fn.COALESCE(fn.SUM(CouponUse.amount), 0).alias("given"),
                          fn.COALESCE(fn.SUM(Order.total), 0).alias("revenue"))
            .join(CouponUse, JOIN.LEFT_OUTER,
                  on=(CouponUse.coupon == Coupon.id) & CouponUse.released_at.is_null())
            .join(Order, JOIN.LEFT_OUTER, on=(Order.id == CouponUse.order))
            .where(Coupon.shop == shop_id)
            .group_by(Coupon.id).order_by(Coupon.id.desc()).limit(limit))
    return [Figures(row, int(row.n), int(row.revenue), int(row.given)) for row in rows]


def offered_to(buyer_id: int, order_id: int) -> list[Coupon]:
    """The one-off coupons a shop offered this buyer for this order."""
    return list(Coupon.select().where((Coupon.offered_for == order_id)
                                      & (Coupon.buyer == buyer_id)).order_by(Coupon.id))


def usable(coupon: Coupon, now: datetime | None = None) -> bool:
    """Whether the coupon can still be used by someone (active, in its window, not used up)."""
    now = now or utcnow()
    return (coupon.status == "active" and (coupon.ends_at is None or now < coupon.ends_at)
            and (coupon.usage_limit is None or coupon.uses < coupon.usage_limit))


def of_order(order: Order) -> tuple[list[tuple[CouponUse, Coupon]], list[tuple[Coupon, bool]]]:
    """For an order's page, in one query: the coupons used on it (with their uses) and the
    one-off coupons its shop offered its buyer for it (each with whether it is usable)."""
    rows = _of_order(order.id, order.buyer_id)
    used, offered = [], []
    for row in rows:
        use = getattr(row, "couponuse", None)
        if use is not None and use.id is not None:
            used.append((use, row))
        if row.offered_for_id == order.id and row.buyer_id == order.buyer_id:
            offered.append((row, usable(row)))
    return used, offered


@prepared
def _of_order(order_id, buyer_id):
    return (Coupon.select(Coupon, CouponUse)
            .join(CouponUse, JOIN.LEFT_OUTER,
                  on=(CouponUse.coupon == Coupon.id) & (CouponUse.order == order_id))
            .where(CouponUse.id.is_null(False)
                   | ((Coupon.offered_for == order_id) & (Coupon.buyer == buyer_id)))
            .order_by(Coupon.id).limit(50))


@dataclass(frozen=True)
class Plan:
    """The coupons the checkout worked out for a cart, for ``placing.place_order`` to
    record: the uses to take, the lines (variant id -> quantity and unit price) it was
    worked out on, and each line's share of the discount."""

    takings: tuple[Taking, ...]
    lines: dict[int, tuple[int, int]]
    line_discounts: dict[int, int]

    @property
    def discount(self) -> int:
        return sum(self.line_discounts.values())
