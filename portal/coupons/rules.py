"""The rules every coupon keeps, whatever its kind, and the refusals that say why not.

A refusal is a :class:`CouponRefused` with a stable code (``coupon.*``, for tests
and machines) and a sentence for the buyer. Times are naive UTC in storage; the
seller gives them in the shop's time zone (:func:`to_utc`), and a coupon is valid
from ``starts_at`` (included) until ``ends_at`` (excluded): a coupon "until
30 June" ends at 1 July 00:00 in the shop's zone, wherever the buyer is.
"""

from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from portal.money import format_money

# Each refusal's code and the sentence the buyer reads ({code}, {name}, {...} filled in).
REASONS = {
    "coupon.unknown": "There is no coupon {code} in this shop: check the spelling.",
    "coupon.not_yet": "{code} is not valid yet: it starts {when}.",
    "coupon.expired": "{code} has expired: it ended {when}.",
    "coupon.paused": "{code} is paused by the shop for now.",
    "coupon.ended": "{code} has ended.",
    "coupon.min_spend": "{code} needs a subtotal of at least {minimum}: add {missing} more.",
    "coupon.used_up": "{code} has been used up.",
    "coupon.already_used": "You have used {code} already (as often as it allows per buyer).",
    "coupon.not_for_you": "{code} is not for you: {why}",
    "coupon.no_combine": "{code} does not combine with {other}: use one or the other.",
    "coupon.not_applicable": "{code} does not apply to anything in your cart.",
    "coupon.unavailable": "{code} can't be checked right now: try again in a moment.",
    "coupon.too_many": "Use at most {most} coupons on one order.",
}

STATUSES = ("active", "paused", "ended")
# What a seller may do with a coupon in each status: (the status it moves to, the button).
NEXT = {"active": (("paused", "Pause"), ("ended", "End")),
        "paused": (("active", "Resume"), ("ended", "End")), "ended": ()}


class CouponRefused(Exception):
    """A coupon that cannot be used on this cart now: ``code`` is stable, ``message``
    is the sentence the buyer reads."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def refused(reason: str, **words) -> CouponRefused:
    return CouponRefused(reason, REASONS[reason].format(**words))


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def to_utc(local: datetime | None, tz_name: str) -> datetime | None:
    """A wall-clock time in the zone ``tz_name`` as the naive UTC we store. A time that
    does not exist (the spring-forward gap) or exists twice (fall back) is read as
    the first of its meanings (``fold=0``)."""
    if local is None:
        return None
    aware = local.replace(tzinfo=zone(tz_name), fold=0)
    return aware.astimezone(timezone.utc).replace(tzinfo=None)


def to_local(utc: datetime | None, tz_name: str) -> datetime | None:
    """A stored naive UTC time as the wall clock of ``tz_name`` (naive)."""
    if utc is None:
        return None
    return utc.replace(tzinfo=timezone.utc).astimezone(zone(tz_name)).replace(tzinfo=None)


def when(utc: datetime, tz_name: str) -> str:
    local = utc.replace(tzinfo=timezone.utc).astimezone(zone(tz_name))
    return local.strftime("%-d %b %Y, %H:%M ") + (local.tzname() or tz_name)


@dataclass(frozen=True)
class Usage:
    """How often a coupon was used already, in all and by this buyer (account or mailbox)."""

    total: int = 0
    by_buyer: int = 0


def check(coupon, *, now: datetime, subtotal: int, currency: str, buyer_id: int,
          usage: Usage) -> None:
    """Raise :class:`CouponRefused` when ``coupon`` (a ``Coupon`` row, or anything with its
    fields) may not be used now by this buyer on a cart of ``subtotal``; checked in the
    order a buyer would want to hear it: status, window, who, limits, minimum."""
    code = coupon.code
    if coupon.status == "paused":
        raise refused("coupon.paused", code=code)
    if coupon.status != "active":
        raise refused("coupon.ended", code=code)
    if coupon.starts_at is not None and now < coupon.starts_at:
        raise refused("coupon.not_yet", code=code, when=when(coupon.starts_at, coupon.timezone))
    if coupon.ends_at is not None and now >= coupon.ends_at:
        raise refused("coupon.expired", code=code, when=when(coupon.ends_at, coupon.timezone))
    if coupon.buyer_id is not None and coupon.buyer_id != buyer_id:
        raise refused("coupon.not_for_you", code=code,
                      why="the shop made it for another buyer.")
    if coupon.usage_limit is not None and usage.total >= coupon.usage_limit:
        raise refused("coupon.used_up", code=code)
    if coupon.per_buyer_limit is not None and usage.by_buyer >= coupon.per_buyer_limit:
        raise refused("coupon.already_used", code=code)
    if subtotal < coupon.min_spend:
        raise refused("coupon.min_spend", code=code,
                      minimum=format_money(coupon.min_spend, currency),
                      missing=format_money(coupon.min_spend - subtotal, currency))


def combine_check(coupon, applied: list) -> None:
    """Raise ``coupon.no_combine`` when ``coupon`` may not join the ``applied`` ones."""
    for other in applied:
        if not (coupon.combines and other.combines):
            raise refused("coupon.no_combine", code=coupon.code,
                          other=other.code)
