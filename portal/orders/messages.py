"""An order's conversation between its buyer and its shop.

Only two people take part: the order's buyer and the owner of its shop; anyone else
is refused (``message.not_yours``) and nothing is written. Messages are plain text
of 1 to 2,000 characters once stripped (``message.empty``, ``message.too_long``);
the pages escape them and make their http(s) links clickable.

What each side has not read is counted on the order itself (``buyer_unread``,
``seller_unread``): a list row needs no query for it, and a person's total is one
read of a partial index that holds only orders with something unread. Posting adds
one to the other side's count and clears the poster's; reading clears the reader's.

A message is not a timeline event (a conversation would bury the order's history);
it is an outbox event of kind ``message``, so whoever notifies people hears of it
after the commit.
"""

from datetime import datetime

from peewee import JOIN, fn

from portal import outbox
from portal.db import database, prepared
from portal.models import Order, OrderMessage, Shop, User, utcnow
from portal.orders.errors import MessageRefused

BUYER, SELLER = "buyer", "seller"
MAX_LENGTH = 2000

# What the outbox event (and later a notification) says: never the body itself.
ANNOUNCED = {BUYER: "Message from the buyer", SELLER: "Message from the shop"}


def role_of(order: Order, user: User | None, shop: Shop | None = None) -> str | None:
    """``"buyer"`` or ``"seller"`` when ``user`` takes part in the order's conversation,
    else None. ``shop`` (the order's shop, if already loaded) saves a query."""
    if user is None or getattr(user, "id", None) is None:
        return None
    if order.buyer_id == user.id:
        return BUYER
    owner_id = (shop.owner_id if shop is not None and shop.id == order.shop_id
                else Shop.select(Shop.owner).where(Shop.id == order.shop_id).scalar())
    return SELLER if owner_id == user.id else None


def _role_or_refuse(order: Order, user: User | None, shop: Shop | None) -> str:
    role = role_of(order, user, shop)
    if role is None:
        raise MessageRefused("message.not_yours", "Only the order's buyer and its shop can "
                             "read and write its messages.")
    return role


def clean_body(body: str | None) -> str:
    """The message as it will be kept (stripped), or :class:`MessageRefused`."""
    text = (body or "").strip()
    if not text:
        raise MessageRefused("message.empty", "Write a message first.")
    if len(text) > MAX_LENGTH:
        raise MessageRefused("message.too_long",
                             f"A message can be at most {MAX_LENGTH:,} characters long "
                             f"(this one has {len(text):,}).")
    return text


def _unread_field(role: str):
    return Order.buyer_unread if role == BUYER else Order.seller_unread


def post(order: Order, author: User, body: str, *, shop: Shop | None = None,
         now: datetime | None = None) -> OrderMessage:
    """Add ``author``'s message to the order's conversation; the other side has one more
    unread, the author none. Refused (nothing written) for anyone but the order's buyer
    and its shop's owner, and for an empty or too long message."""
    role = _role_or_refuse(order, author, shop)
    return _write(order, author, role, clean_body(body), now=now, announce=True)


def from_request(order: Order, author: User, role: str, text: str) -> OrderMessage | None:
    """A buyer's request's reason, or the seller's answer to it, in the conversation too
    (``portal.orders.requests`` calls it inside its own transaction, for the person it
    already checked; ``portal.orders.delays`` the same way for the shop's word about a
    delay). Not announced again: the caller's own event is. Empty: nothing."""
    text = (text or "").strip()[:MAX_LENGTH]
    return _write(order, author, role, text, announce=False) if text else None


def _write(order: Order, author: User, role: str, text: str, *, now: datetime | None = None,
           announce: bool) -> OrderMessage:
    other = SELLER if role == BUYER else BUYER
    with database.atomic():
        message = OrderMessage.create(order=order.id, author=author.id, author_role=role,
                                      body=text, created_at=now or utcnow())
        # Counters, not the order's version: a message is no edit, so the seller's open
        # forms stay valid.
        Order.update({_unread_field(other): _unread_field(other) + 1,
                      _unread_field(role): 0}).where(Order.id == order.id).execute()
        if announce:
            outbox.record("message", order_id=order.id, shop_id=order.shop_id,
                          number=order.number, message_id=message.id, actor_role=role,
                          actor_id=author.id, message=ANNOUNCED[role])
    setattr(order, _unread_field(role).name, 0)
    return message


def thread(order: Order, reader: User, *, shop: Shop | None = None) -> list[OrderMessage]:
    """The order's messages, oldest first (the newest at the bottom), with their authors'
    names; refused for anyone but the two sides."""
    _role_or_refuse(order, reader, shop)
    return list(_thread(order.id))


@prepared
def _thread(order_id):
    return (OrderMessage.select(OrderMessage, User.id, User.name)
            .join(User, on=(OrderMessage.author == User.id), join_type=JOIN.LEFT_OUTER)
            .where(OrderMessage.order == order_id).order_by(OrderMessage.id))


def mark_read(order: Order, reader: User, *, shop: Shop | None = None) -> bool:
    """Everything in the conversation is read by ``reader``'s side. No query when the
    order (as loaded) had nothing unread for that side; True when something was."""
    role = _role_or_refuse(order, reader, shop)
    field = _unread_field(role)
    if not getattr(order, field.name):
        return False
    Order.update({field: 0}).where((Order.id == order.id) & (field > 0)).execute()
    setattr(order, field.name, 0)
    return True


def unread_for_buyer(buyer_id: int) -> int:
    """Messages from shops the buyer has not read, over all their orders (one index read)."""
    return (Order.select(fn.COALESCE(fn.SUM(Order.buyer_unread), 0))
            .where((Order.buyer == buyer_id) & (Order.buyer_unread > 0)).scalar()) or 0


def unread_for_shop(shop_id: int) -> int:
    """Messages from buyers the shop has not read, over all its orders (one index read)."""
    return (Order.select(fn.COALESCE(fn.SUM(Order.seller_unread), 0))
            .where((Order.shop == shop_id) & (Order.seller_unread > 0)).scalar()) or 0


def unread_for_user(user: User) -> int:
    """The nav badge: unread messages for a buyer, or for a seller's shops (one query)."""
    return unread_query(user).scalar() or 0


def unread_query(user: User):
    """:func:`unread_for_user` as a query not yet run (one value), for a page to ask
    it together with others in one statement."""
    if not user.is_seller:
        return (Order.select(fn.COALESCE(fn.SUM(Order.buyer_unread), 0))
                .where((Order.buyer == user.id) & (Order.buyer_unread > 0)))
    shops = Shop.select(Shop.id).where(Shop.owner == user.id)
    return (Order.select(fn.COALESCE(fn.SUM(Order.seller_unread), 0))
            .where(Order.shop.in_(shops) & (Order.seller_unread > 0)))


def unread_orders_for_shop(shop_id: int, limit: int = 5) -> list[Order]:
    """The shop's orders with messages it has not read (the partial index), newest
    first, with their buyers' names: the dashboard's list."""
    return list(Order.select(Order.id, Order.number, Order.seller_unread, User.id, User.name)
                .join(User, on=(Order.buyer == User.id))
                .where((Order.shop == shop_id) & (Order.seller_unread > 0))
                .order_by(Order.id.desc()).limit(limit))
