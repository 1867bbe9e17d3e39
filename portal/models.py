"""The data model: peewee tables for people, shops, catalogue and orders.

Money is stored as integer minor units (cents) with the order's ISO currency
code beside it; timestamps are naive UTC. Status columns hold the values of the
enums in ``portal.orders.lifecycle``; the rules live there, not here.
"""

from datetime import datetime, timezone

from peewee import (
    BooleanField,
    SQL,
    CharField,
    CompositeKey,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    SQL,
    TextField,
)

from portal.db import database


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class User(BaseModel):
    email = CharField(max_length=254, unique=True)
    name = CharField(max_length=120)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=10, default="buyer")  # "buyer" or "seller"
    created_at = DateTimeField(default=utcnow)
    # Part of every session and remember cookie (Flask-Login's alternative id):
    # log-out (and a password change) replaces it, so every copy of an old
    # cookie stops working at once. Set at the first log-in.
    session_token = CharField(max_length=64, null=True)
    # E.164 ("+14155550123") or "": for notification channels that need one (SMS).
    phone = CharField(max_length=16, default="", constraints=[SQL("DEFAULT ''")])

    # Flask-Login's user protocol, without making the data layer import Flask.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token or ''}"

    @property
    def is_seller(self) -> bool:
        return self.role == "seller"


class Shop(BaseModel):
    owner = ForeignKeyField(User, backref="shops", index=True)
    name = CharField(max_length=120)
    slug = CharField(max_length=80, unique=True)
    currency = CharField(max_length=3, default="USD")
    handling_days = IntegerField(default=2)  # days to ship; defines "Delayed"
    modification_window_hours = IntegerField(default=12)  # buyers may ask for changes
    return_window_days = IntegerField(default=30)
    notify_by_email = BooleanField(default=True)
    # What checkout charges when none of the shop's carriers quotes a rate. (Defaults in
    # the schema too: a column added to a table other tables point at must have one.)
    flat_rate_amount = IntegerField(default=500, constraints=[SQL("DEFAULT 500")])  # minor units
    flat_rate_days = IntegerField(default=7, constraints=[SQL("DEFAULT 7")])  # delivery estimate
    # The shop's own clock: coupons start and end at its midnight (an IANA zone name).
    timezone = CharField(max_length=64, default="UTC", constraints=[SQL("DEFAULT 'UTC'")])
    # Where parcels leave from (printed on packing slips and labels).
    ship_from_name = CharField(max_length=120, default="")
    ship_from_line1 = CharField(max_length=200, default="")
    ship_from_line2 = CharField(max_length=200, default="")
    ship_from_city = CharField(max_length=100, default="")
    ship_from_region = CharField(max_length=100, default="")
    ship_from_postal_code = CharField(max_length=20, default="")
    ship_from_country = CharField(max_length=2, default="US")
    # Where returns go (portal.orders.returns); an empty line1 means the ship-from address.
    return_name = CharField(max_length=120, default="", constraints=[SQL("DEFAULT ''")])
    return_line1 = CharField(max_length=200, default="", constraints=[SQL("DEFAULT ''")])
    return_line2 = CharField(max_length=200, default="", constraints=[SQL("DEFAULT ''")])
    return_city = CharField(max_length=100, default="", constraints=[SQL("DEFAULT ''")])
    return_region = CharField(max_length=100, default="", constraints=[SQL("DEFAULT ''")])
    return_postal_code = CharField(max_length=20, default="", constraints=[SQL("DEFAULT ''")])
    return_country = CharField(max_length=2, default="", constraints=[SQL("DEFAULT ''")])
    created_at = DateTimeField(default=utcnow)


class Product(BaseModel):
    # No single-column index on shop: the storefront's keyset index starts with it.
    shop = ForeignKeyField(Shop, backref="products", index=False)
    name = CharField(max_length=200)
    description = TextField(default="")
    returnable = BooleanField(default=True)  # the return policy's exceptions
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("shop", "id"), False),)  # a shop's products, page by page


class Variant(BaseModel):
    product = ForeignKeyField(Product, backref="variants", index=True)
    sku = CharField(max_length=64)
    size = CharField(max_length=32, default="")
    colour = CharField(max_length=32, default="")
    price = IntegerField()  # minor units, in the shop's currency
    stock = IntegerField(default=0)


class Address(BaseModel):
    user = ForeignKeyField(User, backref="addresses", index=True)
    full_name = CharField(max_length=120)
    line1 = CharField(max_length=200)
    line2 = CharField(max_length=200, default="")
    city = CharField(max_length=100)
    region = CharField(max_length=100, default="")
    postal_code = CharField(max_length=20, default="")
    country = CharField(max_length=2)  # ISO 3166-1 alpha-2
    phone = CharField(max_length=32, default="")
    is_default = BooleanField(default=False)


class Order(BaseModel):
    number = CharField(max_length=16, unique=True)
    # No single-column indexes on shop and buyer: the indexes below start with them.
    shop = ForeignKeyField(Shop, backref="orders", index=False)
    buyer = ForeignKeyField(User, backref="orders", index=False)
    status = CharField(max_length=12, default="pending")
    payment_status = CharField(max_length=20, default="authorised")
    payment_method = CharField(max_length=80, default="")  # e.g. "Visa •••• 4242"
    currency = CharField(max_length=3)
    subtotal = IntegerField()
    discount_total = IntegerField(default=0)
    shipping_total = IntegerField(default=0)
    fee_total = IntegerField(default=0)
    total = IntegerField()
    # Kept on the order so a list row needs no query of its own.
    item_summary = CharField(max_length=200)
    item_count = IntegerField()
    shipped_count = IntegerField(default=0)  # items in packages so far: "Partially shipped"
    address_verified = BooleanField(default=False)  # the fulfilment checklist's last tick
    # The shipping address as it was when the order was placed (or last edited).
    ship_name = CharField(max_length=120)
    ship_line1 = CharField(max_length=200)
    ship_line2 = CharField(max_length=200, default="")
    ship_city = CharField(max_length=100)
    ship_region = CharField(max_length=100, default="")
    ship_postal_code = CharField(max_length=20, default="")
    ship_country = CharField(max_length=2)
    ship_phone = CharField(max_length=32, default="")
    placed_at = DateTimeField(default=utcnow)
    estimated_delivery = DateField(null=True)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)  # optimistic locking: bumped by every write
    # The checkout that placed it (portal.orders.placing): one order per checkout.
    checkout_token = CharField(max_length=64, null=True, unique=True)
    # What the buyer must pay before the seller's waiting change applies (minor units;
    # 0: nothing waits). Kept on the order so lists and holds need no query for it.
    balance_due = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    # Messages each side has not read yet (portal.orders.messages): kept on the order so
    # list rows need no query for them, and the nav's total is one partial-index read.
    buyer_unread = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    seller_unread = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    # The shipping the buyer chose at checkout ("ups:ground", "flat:standard") and its name;
    # a delay's free upgrade changes them (portal.orders.delays), never what was paid.
    shipping_service = CharField(max_length=64, default="", constraints=[SQL("DEFAULT ''")])
    shipping_name = CharField(max_length=120, default="", constraints=[SQL("DEFAULT ''")])
    # Which lateness its people were told of ("", "handling", "transit"): each once.
    delay_noticed = CharField(max_length=12, default="", constraints=[SQL("DEFAULT ''")])
    # The shop's latest words about the delay, beside "Running late" (no query per row).
    delay_note = TextField(default="", constraints=[SQL("DEFAULT ''")])
    # Items the shop received back from returns (portal.orders.returns): "partly returned"
    # on list rows without a query per row.
    returned_count = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])

    class Meta:
        table_name = "orders"
        # One index per list filter, ending in the keyset (placed_at, id) so
        # that any page of any tab is an index range scan. The buyer's also
        # carries what the spending summary adds up, so that summary reads the
        # index alone: at 1,000 orders a year, 1,000 table lookups cost 7 ms.
        indexes = (
            (("buyer", "placed_at", "id", "status", "shop", "currency", "total"), False),
            (("buyer", "status", "placed_at", "id"), False),
            # status and total ride along so the dashboard's 30-day figures read the index alone
            (("shop", "placed_at", "id", "status", "total"), False),
            (("shop", "status", "placed_at", "id"), False),
            (("shop", "total", "id"), False),
            (("shop", "status", "total", "id"), False),
            (("shop", "status", "estimated_delivery"), False),  # Shipped and late
        )

    @property
    def partially_shipped(self) -> bool:
        return self.status == "processed" and 0 < self.shipped_count < self.item_count

    @property
    def partly_returned(self) -> bool:
        return self.status == "delivered" and (self.returned_count or 0) > 0


# The nav badges' one query each: only orders with something unread are in these indexes,
# so a shop with a million orders and three unread threads reads three entries.
Order.add_index(Order.index(Order.buyer, Order.buyer_unread, name="orders_buyer_unread")
                .where(Order.buyer_unread > 0))
Order.add_index(Order.index(Order.shop, Order.seller_unread, name="orders_seller_unread")
                .where(Order.seller_unread > 0))
# The delay-noticing task's two batches (portal.orders.delays): only orders that may still
# turn late and were not told so are in these, a few hundred in a million-order database.
Order.add_index(Order.index(Order.placed_at, name="orders_late_to_ship")
                .where(Order.status.in_(["pending", "processed"]) & (Order.delay_noticed == "")))
Order.add_index(Order.index(Order.estimated_delivery, name="orders_late_in_transit")
                .where((Order.status == "shipped") & (Order.delay_noticed != "transit")))


class OrderLine(BaseModel):
    order = ForeignKeyField(Order, backref="lines", on_delete="CASCADE", index=True)
    variant = ForeignKeyField(Variant, null=True, on_delete="SET NULL", index=False)
    # A snapshot of what was bought, so later catalogue edits never rewrite history.
    product_name = CharField(max_length=200)
    sku = CharField(max_length=64, default="")
    size = CharField(max_length=32, default="")
    colour = CharField(max_length=32, default="")
    unit_price = IntegerField()
    quantity = IntegerField()
    line_total = IntegerField()
    picked = BooleanField(default=False)  # ticked on the fulfilment checklist
    shipped_quantity = IntegerField(default=0)
    # This line's share of the order's coupon discounts (portal.coupons.allocation), so a
    # refund of the line gives back what the buyer paid for it: line_total - discount.
    discount = IntegerField(default=0)

    class Meta:
        # A product's orders (the seller's search) from the index alone, no line row.
        indexes = ((("variant", "order"), False),)


class Shipment(BaseModel):
    order = ForeignKeyField(Order, backref="shipments", on_delete="CASCADE", index=True)
    carrier_code = CharField(max_length=40)
    carrier_name = CharField(max_length=80)
    tracking_number = CharField(max_length=64, index=True)
    tracking_url = CharField(max_length=500, default="")
    status = CharField(max_length=24, default="pre_transit")
    shipped_at = DateTimeField(default=utcnow)
    estimated_delivery = DateField(null=True)
    delivered_at = DateTimeField(null=True)
    # When tracking last changed it (the tracking block's Last-Modified).
    updated_at = DateTimeField(null=True)
    # A label bought through the carrier's plugin ("platform shipping").
    label_id = CharField(max_length=120, null=True)
    label_service = CharField(max_length=80, null=True)
    label_amount = IntegerField(null=True)  # minor units
    label_currency = CharField(max_length=3, null=True)
    label_bought_at = DateTimeField(null=True)
    label_voided_at = DateTimeField(null=True)
    # "out" to the buyer, or "return" (a parcel the buyer sends back): only "out" ones
    # count for the order's shipping (shipped_count, Delivered, the seller's lists).
    direction = CharField(max_length=8, default="out", constraints=[SQL("DEFAULT 'out'")])


class ShipmentLine(BaseModel):
    """How many of one order line went into one package (split shipping)."""

    shipment = ForeignKeyField(Shipment, backref="contents", on_delete="CASCADE", index=True)
    order_line = ForeignKeyField(OrderLine, on_delete="CASCADE", index=True)
    quantity = IntegerField()


class TrackingEvent(BaseModel):
    shipment = ForeignKeyField(Shipment, backref="events", on_delete="CASCADE",
                               index=False)  # the indexes below start with it
    occurred_at = DateTimeField()
    status = CharField(max_length=24)
    description = CharField(max_length=300)
    location = CharField(max_length=120, default="")
    # The carrier's own id for the event: the same event sent twice is stored once.
    external_id = CharField(max_length=120, null=True)

    class Meta:
        indexes = (
            (("shipment", "occurred_at"), False),
            (("shipment", "external_id"), True),
        )


class OrderEvent(BaseModel):
    """One entry of an order's timeline: who did what, when, from what to what."""

    order = ForeignKeyField(Order, backref="events", on_delete="CASCADE",
                            index=False)  # the index below starts with it
    created_at = DateTimeField(default=utcnow)
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    actor_role = CharField(max_length=10, default="system")  # buyer, seller, system
    kind = CharField(max_length=32)  # placed, status_changed, note, ...
    message = CharField(max_length=500)
    before = TextField(null=True)
    after = TextField(null=True)
    internal = BooleanField(default=False)  # seller-only: notes, checklist ticks

    class Meta:
        indexes = ((("order", "created_at"), False),)


class OrderRequest(BaseModel):
    """Something the buyer asked of the seller about an order: a cancellation, a new
    address, a modification (size, colour, quantity) or a return. Open until the
    seller approves or refuses it; an approved return ends when the parcel is back."""

    order = ForeignKeyField(Order, backref="requests", on_delete="CASCADE", index=True)
    shop = ForeignKeyField(Shop, on_delete="CASCADE")  # kept here so a shop's open ones are one index range
    kind = CharField(max_length=20)  # cancellation, address_change, modification, return
    status = CharField(max_length=12, default="open")  # open, approved, refused, completed
    reason = CharField(max_length=500, default="")
    details = TextField(default="{}")  # JSON: the new address, or the line changes
    created_by = ForeignKeyField(User, on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    decided_at = DateTimeField(null=True)
    response = CharField(max_length=500, default="")
    # A return's parcel on its way back (a label the shop bought, or the buyer's number),
    # and what its receipt refunded (minor units): the lines' share and the shipping.
    return_shipment = ForeignKeyField(Shipment, null=True, on_delete="SET NULL", index=False)
    refunded = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    shipping_refunded = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])

    class Meta:
        indexes = ((("shop", "status", "created_at"), False),)


# At most one request of each kind waits for the seller per order (open, or an
# approved return not yet back): the database refuses a second one, even when two
# posts race (a partial unique index, on SQLite and PostgreSQL alike).
OrderRequest.add_index(
    OrderRequest.index(OrderRequest.order, OrderRequest.kind, unique=True,
                       name="order_request_one_waiting_per_kind")
    .where(OrderRequest.status.in_(["open", "approved"])))


class ReturnItem(BaseModel):
    """One line of a return: how many of it the buyer sends back and why, and how many
    the shop found in the parcel (None until it is received)."""

    request = ForeignKeyField(OrderRequest, on_delete="CASCADE", index=True)
    order_line = ForeignKeyField(OrderLine, on_delete="CASCADE", index=True)
    quantity = IntegerField()
    reason = CharField(max_length=20)  # too_small, not_as_described, damaged, changed_mind, other
    note = CharField(max_length=300, default="")  # the buyer's words ("other" needs them)
    received = IntegerField(null=True)


class ShopStatusCount(BaseModel):
    """How many of a shop's orders are in each status: Order Management's tabs read
    these rows instead of counting. Triggers on ``orders`` keep them in step in the
    writing transaction (migration 0020); nothing writes them otherwise."""

    shop = ForeignKeyField(Shop, on_delete="CASCADE", index=False, backref="+")
    status = CharField(max_length=12)
    n = IntegerField(default=0)

    class Meta:
        table_name = "shop_status_count"
        primary_key = CompositeKey("shop", "status")


class PluginConfig(BaseModel):
    """A plugin as one shop set it up: off until the shop turns it on (as in Saleor)."""

    shop = ForeignKeyField(Shop, backref="plugin_configs", on_delete="CASCADE")
    plugin = CharField(max_length=80)  # the plugin's registered name
    enabled = BooleanField(default=False)
    settings = TextField(default="{}")  # JSON, as the plugin's settings form validated it
    webhook_secret = CharField(max_length=80, default="")
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("shop", "plugin"), True),)


class LoginFailure(BaseModel):
    """A wrong password for an e-mail address (known or not): the per-account
    throttle counts these in the database, so it holds across workers and machines."""

    email = CharField(max_length=254)
    failed_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("email", "failed_at"), False),)


class AccountLink(BaseModel):
    """A single-use link e-mailed to a user: a password reset, or the confirmation of a
    new e-mail address. Only a hash of its token is kept, so a copy of this table opens
    nothing; it works once (``used_at``) and until ``expires_at``."""

    user = ForeignKeyField(User, backref="+", on_delete="CASCADE", index=False)
    purpose = CharField(max_length=20)  # "password_reset" or "email_change"
    token_hash = CharField(max_length=64, unique=True)  # sha256 hex of the token
    new_email = CharField(max_length=254, default="")  # for "email_change"
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)

    class Meta:
        # Counting a user's recent links (the per-address limit) starts with the user.
        indexes = ((("user", "purpose", "created_at"), False),)


class WebhookReceipt(BaseModel):
    """A carrier push taken in: the same event id is taken in once, its parsed reports
    kept here and applied after the answer (``portal.shipping.webhook_apply``)."""

    shop = ForeignKeyField(Shop, on_delete="CASCADE")
    carrier_code = CharField(max_length=40)
    event_id = CharField(max_length=120)  # "sha256:" + the hash of the carrier's whole id
    received_at = DateTimeField(default=utcnow)
    reports = TextField(default="[]", constraints=[SQL("DEFAULT '[]'")])  # JSON TrackingReports
    applied_at = DateTimeField(null=True)  # None while its reports wait to be applied
    error = TextField(default="", constraints=[SQL("DEFAULT ''")])  # why a report did not apply

    class Meta:
        # (applied_at, id): the receipts still to apply, in order, read from the index
        # alone however many applied ones pile up behind them.
        indexes = ((("shop", "carrier_code", "event_id"), True),
                   (("applied_at", "id"), False))


class OutboxEvent(BaseModel):
    """Something that happened to an order, written in the same transaction as the
    change and told to its consumers (plugins; later e-mail, notifications, webhooks)
    only after the commit, at least once (``portal.outbox``)."""

    kind = CharField(max_length=40)  # the timeline kind: status_changed, note, ...; tracking_updated
    order = ForeignKeyField(Order, null=True, on_delete="CASCADE")
    shop_id = IntegerField(null=True)
    payload = TextField(default="{}")  # JSON
    created_at = DateTimeField(default=utcnow)
    # Due for (another) delivery from this time; None once delivered or given up.
    next_attempt_at = DateTimeField(null=True, default=utcnow)
    attempts = IntegerField(default=0)
    delivered_at = DateTimeField(null=True)
    last_error = TextField(default="")


# The dispatcher's one query: the events still due, oldest first.
OutboxEvent.add_index(OutboxEvent.index(OutboxEvent.next_attempt_at, OutboxEvent.id,
                                        name="outbox_event_due")
                      .where(OutboxEvent.next_attempt_at.is_null(False)))


class OutboxDelivery(BaseModel):
    """One consumer's target (e.g. one plugin) took one event: it is not told twice."""

    event = ForeignKeyField(OutboxEvent, on_delete="CASCADE", index=False)
    target = CharField(max_length=120)  # "plugin:listener", later "email:...", ...
    delivered_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("event", "target"), True),)


class Cart(BaseModel):
    """A buyer's cart in one shop: a buyer holds at most one per shop (``portal.cart``)."""

    buyer = ForeignKeyField(User, on_delete="CASCADE", index=False)  # the index below starts with it
    shop = ForeignKeyField(Shop, on_delete="CASCADE", index=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("buyer", "shop"), True),)


class CartLine(BaseModel):
    """A variant and how many of it, in one cart (once per variant: adding again adds up)."""

    cart = ForeignKeyField(Cart, backref="lines", on_delete="CASCADE", index=False)
    variant = ForeignKeyField(Variant, on_delete="CASCADE", index=True)
    quantity = IntegerField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("cart", "variant"), True),)


class PaymentTransaction(BaseModel):
    """One call to a payment plugin, on the record (``portal.orders.ledger``): written
    ``pending`` before the plugin is asked, completed with its answer; a failure is a
    row too. Amounts are minor units of ``currency``. Card numbers never get here:
    ``display`` is what the plugin chose to show ("Visa •••• 4242")."""

    order = ForeignKeyField(Order, on_delete="CASCADE", index=False)
    kind = CharField(max_length=10)  # authorise, capture, refund, void
    amount = IntegerField()
    currency = CharField(max_length=3)
    method_code = CharField(max_length=40)
    plugin = CharField(max_length=80)
    idempotency_key = CharField(max_length=120, unique=True)
    state = CharField(max_length=10, default="pending")  # pending, succeeded, failed
    reference = CharField(max_length=120, default="")
    message = TextField(default="")
    display = CharField(max_length=80, default="")
    reason = CharField(max_length=200, default="")  # a refund's reason, as the seller gave it
    # On an authorisation: when its money is captured, "on_shipping" or "on_delivery" (the
    # plugin's PaymentOption.capture at checkout). In the schema too, as the flat rate's.
    capture = CharField(max_length=12, default="on_shipping",
                        constraints=[SQL("DEFAULT 'on_shipping'")])
    attempts = IntegerField(default=0)
    # A pending call is due (again) from this time; None once it is known.
    next_attempt_at = DateTimeField(null=True, default=utcnow)
    created_at = DateTimeField(default=utcnow)
    completed_at = DateTimeField(null=True)
    # The authorisation a capture, refund or void moves money of (an order may have
    # several: the checkout's, and one per balance paid). None on authorisations.
    authorisation = ForeignKeyField("self", null=True, on_delete="CASCADE", index=False)

    class Meta:
        indexes = ((("order", "id"), False),)


# The reconciler's one query: the calls whose outcome is still unknown.
PaymentTransaction.add_index(PaymentTransaction.index(
    PaymentTransaction.next_attempt_at, PaymentTransaction.id, name="payment_transaction_due")
    .where(PaymentTransaction.next_attempt_at.is_null(False)))


class PendingChange(BaseModel):
    """A seller's change of an order's items that raises what the buyer pays: it waits
    (``waiting``) until the buyer pays the difference (``applied``), or the seller or the
    buyer calls it off (``cancelled``). ``changes`` is the edit as the seller made it
    (JSON: line id -> [variant id, quantity]); ``lines_before`` the lines it was made
    against, so a change the order has moved away from is never applied."""

    order = ForeignKeyField(Order, on_delete="CASCADE", index=False)
    request = ForeignKeyField(OrderRequest, null=True, on_delete="SET NULL", index=False)
    changes = TextField()
    lines_before = TextField()
    description = CharField(max_length=500)
    total_before = IntegerField()
    total_after = IntegerField()
    amount_due = IntegerField()
    state = CharField(max_length=10, default="waiting")  # waiting, applied, cancelled
    created_by = ForeignKeyField(User, on_delete="CASCADE", index=False)
    created_at = DateTimeField(default=utcnow)
    decided_at = DateTimeField(null=True)
    reason = CharField(max_length=300, default="")

    class Meta:
        indexes = ((("order", "id"), False),)


# One change waits per order at most, even when two edits race.
PendingChange.add_index(
    PendingChange.index(PendingChange.order, unique=True, name="pending_change_one_waiting")
    .where(PendingChange.state == "waiting"))


class Coupon(BaseModel):
    """A seller's promotion (``portal.coupons``): a kind brought by a coupon plugin, its
    settings for that kind, and the rules every coupon keeps (window, minimum spend,
    limits, combining). ``uses`` counts the placed orders that hold a use (a cancel gives
    one back): the checkout takes a use with a conditional update of this counter."""

    shop = ForeignKeyField(Shop, on_delete="CASCADE", index=False)  # the indexes below start with it
    code = CharField(max_length=40)  # as the seller wrote it: "SUMMER-15"
    code_key = CharField(max_length=40)  # confusables folded (portal.coupons.codes): unique per shop
    name = CharField(max_length=120)  # what seller and buyer read: "Summer sale"
    plugin = CharField(max_length=80)  # the plugin that brings the kind
    kind = CharField(max_length=40)  # its CouponKind.code
    settings = TextField(default="{}")  # JSON: the kind's own settings (percent, products, ...)
    starts_at = DateTimeField(null=True)  # naive UTC; None: from now on
    ends_at = DateTimeField(null=True)  # naive UTC, exclusive; None: no end
    timezone = CharField(max_length=64, default="UTC")  # the zone the seller gave the times in
    min_spend = IntegerField(default=0)  # minor units of the shop's currency
    usage_limit = IntegerField(null=True)  # uses in all; None: no limit
    per_buyer_limit = IntegerField(null=True)  # uses per buyer (account or mailbox); None: no limit
    combines = BooleanField(default=False)  # may be used together with other discounts
    automatic = BooleanField(default=False)  # applies without a code (bundle, loyalty)
    buyer = ForeignKeyField(User, null=True, on_delete="CASCADE")  # a one-off for this buyer only
    offered_for = ForeignKeyField(Order, null=True, on_delete="SET NULL")  # the order it makes up for
    status = CharField(max_length=10, default="active")  # active, paused, ended
    uses = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("shop", "code_key"), True), (("shop", "status", "id"), False))


class CouponUse(BaseModel):
    """One coupon on one placed order: written in the placing transaction, released (not
    deleted: the history stays) when the order is cancelled; a return keeps it."""

    coupon = ForeignKeyField(Coupon, on_delete="CASCADE", index=False)  # the indexes below start with it
    order = ForeignKeyField(Order, on_delete="CASCADE", index=True)
    buyer = ForeignKeyField(User, on_delete="CASCADE", index=False)
    email_key = CharField(max_length=254)  # the buyer's mailbox (portal.coupons.emails)
    amount = IntegerField()  # the discount it gave, minor units (free shipping: the shipping)
    created_at = DateTimeField(default=utcnow)
    released_at = DateTimeField(null=True)  # the order was cancelled: the use counts no more

    class Meta:
        indexes = ((("coupon", "order"), True), (("coupon", "buyer"), False),
                   (("coupon", "email_key"), False))


class OrderMessage(BaseModel):
    """One message of an order's conversation between its buyer and its shop: plain
    text, shown escaped (links made clickable when drawn), oldest first."""

    order = ForeignKeyField(Order, on_delete="CASCADE", index=False)  # the index below starts with it
    author = ForeignKeyField(User, null=True, on_delete="SET NULL")
    author_role = CharField(max_length=10)  # buyer or seller
    body = TextField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("order", "id"), False),)


class Notification(BaseModel):
    """Something a user was told about one of their orders (``portal.notifications``):
    made from an outbox event, at most once per event and user."""

    user = ForeignKeyField(User, on_delete="CASCADE", index=False)  # the indexes below start with it
    order = ForeignKeyField(Order, null=True, on_delete="CASCADE", index=False)
    event_id = IntegerField()  # the outbox event it came from: delivered twice, kept once
    kind = CharField(max_length=40)  # processed, shipped, refund, placed, message, ...
    text = CharField(max_length=500)
    url = CharField(max_length=500)  # a path of the portal: where following it leads
    created_at = DateTimeField(default=utcnow)
    read_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "event_id"), True),  # once per event and user
                   (("user", "id"), False))  # the user's list, newest first, page by page


# The nav's badge and the "unread" list: a user's unread ones, newest first, without
# reading the ones already read (which grow forever).
Notification.add_index(Notification.index(Notification.user, Notification.id,
                                          name="notification_unread")
                       .where(Notification.read_at.is_null()))


class NotificationPreference(BaseModel):
    """A kind of notification a user turned off for a channel (an e-mail's unsubscribe
    link writes one); every kind is on until a row says otherwise."""

    user = ForeignKeyField(User, on_delete="CASCADE", index=False)
    kind = CharField(max_length=40)
    channel = CharField(max_length=20, default="email")
    enabled = BooleanField(default=False)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "channel", "kind"), True),)


class Review(BaseModel):
    """The buyer's rating (1-5) and words about one delivered order (``portal.orders.reviews``):
    one per order, editable for a while; the shop's one public reply beside it."""

    order = ForeignKeyField(Order, on_delete="CASCADE", unique=True)  # one review per order
    shop = ForeignKeyField(Shop, on_delete="CASCADE", index=False)  # the indexes below start with it
    buyer = ForeignKeyField(User, on_delete="CASCADE", index=False)
    rating = IntegerField()  # 1 to 5 stars
    text = TextField(default="")  # up to 2,000 characters; may be empty
    created_at = DateTimeField(default=utcnow)  # the edit window counts from here
    updated_at = DateTimeField(default=utcnow)
    reply = TextField(null=True)  # the shop's answer, once; None until it replies
    replied_at = DateTimeField(null=True)
    replied_by = ForeignKeyField(User, null=True, on_delete="SET NULL", index=False)

    class Meta:
        # (shop, rating): the shop's average and distribution are one GROUP BY read from the
        # index alone, at any number of reviews; (shop, id): /seller/reviews, page by page.
        indexes = ((("shop", "rating"), False), (("shop", "id"), False))


ALL_MODELS = [User, Shop, Product, Variant, Address, Order, OrderLine,
              Shipment, ShipmentLine, TrackingEvent, OrderEvent, OrderRequest, PluginConfig,
              WebhookReceipt, LoginFailure, OutboxEvent, OutboxDelivery, Cart, CartLine,
              PaymentTransaction, PendingChange, Coupon, CouponUse, OrderMessage,
              AccountLink, Notification, NotificationPreference, Review, ReturnItem,
              ShopStatusCount]

