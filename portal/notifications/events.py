"""What an order event means to its people: which buyer or seller is told what.

:func:`notices` reads one outbox event (kinds written by ``lifecycle.record``,
``outbox.record`` and ``tracking.record``) and returns the notices it makes, each for
one user: the buyer hears of what happens to their order, the shop's owner of new
orders, requests and messages. An event nobody needs to hear of makes none. The
event's own actor is never told of what they did.
"""

from dataclasses import dataclass

from portal import outbox
from portal.models import Order, OutboxEvent, Shipment, Shop

# The kinds, in the words of a preferences page; a user may turn e-mail off per kind.
KINDS = {
    "processed": "Order processed", "shipped": "Package shipped",
    "out_for_delivery": "Out for delivery", "delivered": "Delivered",
    "cancelled": "Order cancelled", "request_answered": "Your request answered",
    "refund": "Refunds", "balance_due": "Balance due", "message": "New messages",
    "placed": "New orders", "request": "New requests",
}
# Returns (portal.orders.returns): the buyer's label and receipt, the seller's parcel back.
KINDS.update({"return_label": "Return labels", "return_received": "Returns received",
              "return_delivered": "Return parcels delivered"})

# The outbox kinds that can make a notice (the consumers ask for these only).
EVENT_KINDS = frozenset({"placed", "status_changed", "shipped", "tracking_updated", "request",
                         "payment", "balance_due", "message", "return_parcel",
                         "return_received"})

# Delays (portal.orders.delays): the noticing task's "delayed" event tells both sides; the
# shop's words about it ("delay_explained") tell the buyer.
KINDS.update({"delayed": "Your order is running late", "order_delayed": "Orders turning Delayed",
              "delay_explained": "The shop's word on a delay"})
EVENT_KINDS = EVENT_KINDS | {"delayed", "delay_explained"}


@dataclass(frozen=True)
class Notice:
    """One user told one thing about one order. ``to_seller`` says which page of the
    order it leads to; ``link`` is an outside page to follow (a carrier's tracking)."""

    user_id: int
    kind: str
    text: str
    order_id: int
    number: str
    shop_id: int
    to_seller: bool = False
    link: str = ""
    shop_name: str = ""
    shop_emails: bool = True  # the shop's "notification e-mails" setting (sellers' e-mail)


def notices(event: OutboxEvent) -> list[Notice]:
    """The notices ``event`` makes (none for an event no one needs to hear of). Kept on
    the event: one delivery pass asks for them once per consumer and target."""
    kept = getattr(event, "_notices", None)
    if kept is None:
        kept = event._notices = _notices(event)
    return kept


def _notices(event: OutboxEvent) -> list[Notice]:
    if event.kind not in EVENT_KINDS or event.order_id is None:
        return []
    order = (Order.select(Order.id, Order.number, Order.buyer, Order.shop,
                          Shop.owner.alias("owner_id"), Shop.name.alias("shop_name"),
                          Shop.notify_by_email)
             .join(Shop).where(Order.id == event.order_id).objects().first())
    if order is None:
        return []
    data = outbox.payload(event)
    if event.kind == "delayed":  # the one event both sides hear of
        return [n for said in _delayed(data, order) for n in _notice(order, data, said)]
    said = _what(event, data, order)
    if said is None:
        return []
    return _notice(order, data, said)


def _notice(order, data: dict, said: tuple[str, str, bool, str]) -> list[Notice]:
    kind, text, to_seller, link = said
    user_id = order.owner_id if to_seller else order.buyer_id
    if data.get("actor_id") == user_id:
        return []  # nobody is told of what they did themselves
    return [Notice(user_id=user_id, kind=kind, text=text[:500], order_id=order.id,
                   number=order.number, shop_id=order.shop_id, to_seller=to_seller, link=link,
                   shop_name=order.shop_name, shop_emails=bool(order.notify_by_email))]


def _delayed(data: dict, order) -> list[tuple[str, str, bool, str]]:
    """The buyer's "running late" and the seller's "delayed" of a ``delayed`` event."""
    number, expected = order.number, data.get("expected_words") or ""
    if data.get("lateness") == "transit":
        buyer = f"Your order {number} is running late: it was expected by {expected}."
        seller = f"Order {number} is delayed: past its estimated delivery ({expected})."
    else:
        buyer = f"Your order {number} is running late: the shop expected to ship it by " \
                f"{expected}."
        seller = f"Order {number} is delayed: not shipped within your handling time " \
                 f"(by {expected})."
    return [("delayed", buyer, False, ""), ("order_delayed", seller, True, "")]


def _what(event, data: dict, order) -> tuple[str, str, bool, str] | None:
    """(kind, text, to the seller?, outside link) of an event, or None."""
    number, role = order.number, data.get("actor_role")
    message = (data.get("message") or "").strip()
    if event.kind == "placed":
        return "placed", f"New order {number}. {message}", True, ""
    if event.kind == "status_changed":
        after = data.get("after")
        if after == "processed":
            return "processed", f"Order {number} is processed: the shop is getting it ready " \
                                "to ship.", False, ""
        if after == "delivered":
            # The guide's "ask for feedback after delivery": the order page has the review form.
            return "delivered", (f"Order {number} was delivered. How was it? Rate it and tell "
                                 "the shop on the order page."), False, ""
        if after == "cancelled" and role != "buyer":
            reason = data.get("reason") or ""
            return "cancelled", f"Order {number} was cancelled" + \
                (f": {reason}" if reason else "."), False, ""
        return None  # Shipped is told per package ("shipped"); the rest by the buyer
    if event.kind == "shipped":
        return "shipped", f"Order {number}: {message}.", False, _tracking_link(event, data)
    if event.kind == "tracking_updated" and data.get("direction") == "return":
        if data.get("status") != "delivered":
            return None  # the buyer sent it; the shop hears when it arrives
        return "return_delivered", f"Order {number}: the return parcel " \
            f"{data.get('tracking_number', '')} was delivered to you; mark what came back " \
            "and refund it.", True, ""
    if event.kind == "return_parcel":
        if not data.get("label"):
            return None  # the buyer typed the number: the shop sees it on the order
        return "return_label", f"Order {number}: {message}. Print it from the link, " \
            "pack the items and drop the parcel off.", False, _safe(data.get("tracking_url"))
    if event.kind == "return_received":
        return "return_received", f"Order {number}: {message}.", False, ""
    if event.kind == "tracking_updated":
        statuses = {u.get("status") for u in data.get("updates") or []}
        if "out_for_delivery" not in statuses or data.get("status") == "delivered":
            return None  # delivered: the order's own Delivered says it, once for all parcels
        return "out_for_delivery", f"Order {number}: the package " \
            f"{data.get('tracking_number', '')} is out for delivery today.", False, \
            _tracking_link(event, data)
    if event.kind == "request":
        if data.get("opened"):  # a new request (not one the buyer's own change closed)
            return "request", f"Order {number}: {message}", True, ""
        if role != "buyer":  # answered, or closed by the shop's change
            return "request_answered", f"Order {number}: {message}", False, ""
        return None
    if event.kind == "payment":
        if data.get("payment_kind") == "refund" and data.get("payment_state") == "succeeded":
            return "refund", f"Order {number}: {message}", False, ""
        return None
    if event.kind == "balance_due":
        return "balance_due", f"Order {number}: {message}", False, ""
    if event.kind == "delay_explained":
        remedy = data.get("remedy") or ""
        return "delay_explained", f"Order {number} is running late. {order.shop_name} says: " \
            f"“{data.get('words') or ''}”" + (f" {remedy}" if remedy else ""), False, ""
    if event.kind == "message":
        text = (data.get("text") or data.get("body") or message)[:200]
        if role == "buyer":
            return "message", f"New message from the buyer of order {number}: {text}", True, ""
        if role == "seller":
            return "message", f"New message from the shop about order {number}: {text}", \
                False, ""
    return None


def _tracking_link(event, data: dict) -> str:
    """The carrier's tracking page of the package the event is about (or "")."""
    query = Shipment.select(Shipment.tracking_url).where(Shipment.order == event.order_id)
    if data.get("shipment_id"):
        query = query.where(Shipment.id == data["shipment_id"])
    elif data.get("tracking_number"):
        query = query.where(Shipment.tracking_number == data["tracking_number"])
    url = query.order_by(Shipment.id.desc()).scalar() or ""
    return _safe(url)


def _safe(url: str | None) -> str:
    """An outside link only when it is a web page's."""
    url = url or ""
    return url if url.startswith(("https://", "http://")) else ""


# The kinds told to a shop's owner; the others are told to buyers ("message" to both).
SELLER_KINDS = ("placed", "request", "message", "order_delayed", "return_delivered")


def kinds_for(is_seller: bool) -> list[str]:
    """The kinds a seller (or a buyer) can be told of, in KINDS order: the rows of their
    preferences on /account."""
    if is_seller:
        return [kind for kind in KINDS if kind in SELLER_KINDS]
    return [kind for kind in KINDS if kind not in SELLER_KINDS or kind == "message"]
