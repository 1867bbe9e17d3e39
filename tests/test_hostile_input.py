"""Malformed input of any kind is a 4xx with a message, never a 500.

Known traps first (each once was a 500), then hypothesis throws generated query
strings, form values and URL parts at every route of the portal, on whichever
database the suite runs on (SQLite, or PostgreSQL in CI).
"""

import html
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import account_links, cart
from portal.models import Address, CartLine, Order, OrderRequest, utcnow
from portal.testing import enable
from tests.factories import make_order, make_shipment, make_user, make_variant

SELLER = "seller@example.com"
NUL_MESSAGE = "NUL character"


@pytest.fixture
def world(app, buyer, shop, shop2):
    """Orders in every status, a package with a label, an open request; logged-in clients."""
    enable(shop, "demo")
    variant = make_variant(shop)
    orders = {status: make_order(buyer, shop, status=status, variants=[variant])
              for status in ("pending", "processed", "shipped", "delivered", "cancelled")}
    shipment = make_shipment(orders["shipped"])
    request = OrderRequest.create(order=orders["processed"].id, shop=shop.id,
                                  kind="cancellation", created_by=buyer.id)
    other = make_order(make_user("x@example.com"), shop2)
    tote = make_variant(shop2, "Canvas tote", stock=500)
    cart.add(buyer, tote.id, 1)  # a cart line to change, with the shop's products to see
    from portal.coupons import records
    coupon = records.save(shop, records.Draft(name="Bundle", plugin="coupons", kind="bundle",
                                              settings={"products": [variant.product_id],
                                                        "quantity": 2, "percent": 10}))
    waiting = _wallet_payment(buyer, shop)  # a payment waiting on the wallet's page
    address = Address.create(user=buyer.id, full_name="Bea Buyer", line1="1 Main St",
                             city="Springfield", region="IL", postal_code="62701", country="US")
    tokens = [account_links.issue(buyer, account_links.PASSWORD_RESET),
              account_links.issue(buyer, account_links.EMAIL_CHANGE, new_email="new@example.com")]
    from portal.orders import reviews
    reviews.write(orders["delivered"], buyer=buyer, rating=4, text="Fits well.")  # to reply to
    app.config.update(LOGIN_RATE_LIMIT="100000 per minute",
                      REGISTER_RATE_LIMIT="100000 per minute",
                      PASSWORD_RESET_RATE_LIMIT="100000 per minute")
    clients = {"anonymous": app.test_client()}
    for who, email in (("buyer", "buyer@example.com"), ("seller", SELLER)):
        clients[who] = app.test_client()
        clients[who].post("/login", data={"email": email, "password": "password-123"})
    from portal.models import Notification
    from portal.notifications import preferences
    notification = Notification.create(user=buyer, order=orders["processed"], event_id=1,
                                       kind="processed", text="Processed",
                                       url=f"/orders/{orders['processed'].number}")
    unsubscribe = preferences.unsubscribe_token(app.config["SECRET_KEY"], buyer.id, "processed")
    return dict(orders=orders, shipment=shipment, request=request, other=other,
                clients=clients, app=app, variant=variant, line=CartLine.get(), coupon=coupon,
                waiting=waiting, address=address, tokens=tokens, notification=notification,
                unsubscribe=unsubscribe)


def _wallet_payment(buyer, shop):
    """An order placed with the wallet, its authorisation waiting for the buyer."""
    from portal import checkout
    from portal.orders.placing import PaymentChoice
    enable(shop, "wallet")
    cart.add(buyer, make_variant(shop, "Wool beanie", stock=50).id, 1)
    outcome = checkout.place_and_pay(
        buyer, shop.id, checkout_token="hostile-wallet", shipping_total=0,
        address=dict(name="Bea", line1="1 Main St", city="Springfield", region="IL",
                     postal_code="62701", country="US", phone=""),
        payment=PaymentChoice("wallet", "wallet", 0, "Demo Wallet"))
    assert outcome.redirect_url
    return outcome.authorisation


def _get(world, who, url, **kwargs):
    response = world["clients"][who].get(url, **kwargs)
    assert response.status_code < 500, (url, response.status_code)
    return response


# -- the known traps ----------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "/orders?q=a%00b", "/orders?status=%00", "/seller/orders?q=Bea%00",
    "/seller/orders?placed_from=2026-01-01%00", "/orders/%00", "/seller/orders/AB%00CD",
])
def test_a_nul_byte_in_a_query_or_path_is_a_400_with_a_message(world, url):
    who = "seller" if url.startswith("/seller") else "buyer"
    response = _get(world, who, url)
    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize("who, url, data", [
    ("anonymous", "/register", {"name": "N\x00", "email": "n@example.com",
                                "password": "long-enough-pw", "confirm": "long-enough-pw"}),
    ("anonymous", "/login", {"email": "buyer@example.com\x00", "password": "x"}),
    ("buyer", "/orders/{pending}/cancel", {"version": "1", "reason": "\x00"}),
    ("seller", "/seller/orders/{processed}/notes", {"version": "1", "note": "a\x00"}),
    ("seller", "/seller/settings", {"ship_from_name": "\x00"}),
])
def test_a_nul_byte_in_a_form_is_a_400_and_changes_nothing(world, who, url, data):
    orders = world["orders"]
    url = url.format(**{k: o.number for k, o in orders.items()})
    response = world["clients"][who].post(url, data=data)
    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)
    assert Order.get_by_id(orders["pending"].id).status == "pending"


@pytest.mark.parametrize("query", [
    "before=20260101000000000000.9999999999999999999999",
    "after=20260101000000000000.9999999999999999999999",
    "before=99999999999999999999999.1&sort=total_high",
    "after=1.99999999999999999999999&sort=total_low",
    "before=-99999999999999999999999.1&sort=total_high",
    "before=%C2%B2.1&sort=total_high",
])
def test_page_cursors_with_huge_or_strange_numbers_are_a_400(world, query):
    for who, url in (("seller", "/seller/orders?"), ("buyer", "/orders?")):
        response = _get(world, who, url + query)
        assert response.status_code == 400, (url + query)
        assert "That page link is not valid" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["placed_to=9999-12-31", "placed_from=0001-01-01",
                                   "placed_from=9999-12-31&placed_to=9999-12-31"])
def test_dates_at_the_ends_of_the_calendar_get_a_message(world, query):
    response = _get(world, "seller", "/seller/orders?" + query)
    assert response.status_code == 400
    assert "Choose a date between 1970 and 2999." in response.get_data(as_text=True)
    assert _get(world, "seller", "/seller/orders/export.csv?" + query).status_code == 400


def test_unicode_digits_in_quantity_and_variant_are_a_message(world):
    order = world["orders"]["pending"]
    line = order.lines[0]
    for field in ("qty", "variant"):
        values = {f"variant-{line.id}": str(line.variant_id), f"qty-{line.id}": "1"}
        values[f"{field}-{line.id}"] = "²"
        response = world["clients"]["seller"].post(
            f"/seller/orders/{order.number}/lines", data={"version": order.version, **values})
        assert 400 <= response.status_code < 500
        assert "whole quantity" in response.get_data(as_text=True)


def test_a_missing_optional_reason_is_no_reason(world):
    pending, processed = world["orders"]["pending"], world["orders"]["processed"]
    buyer = world["clients"]["buyer"]
    response = buyer.post(f"/orders/{pending.number}/cancel", data={"version": pending.version})
    assert response.status_code == 303
    assert Order.get_by_id(pending.id).status == "cancelled"
    line = processed.lines[0]
    response = buyer.post(f"/orders/{processed.number}/modification", data={
        "version": processed.version, f"variant-{line.id}": str(line.variant_id),
        f"qty-{line.id}": "2"})
    assert response.status_code < 500


@pytest.mark.parametrize("target", ["/orders\r\nSet-Cookie: x=1", "/orders\nX", "/\\evil.example",
                                    "/orders\x7f"])
def test_line_breaks_in_next_and_back_never_reach_a_header(world, target):
    client = world["app"].test_client()
    response = client.post("/login", query_string={"next": target},
                           data={"email": "buyer@example.com", "password": "password-123"})
    assert response.status_code == 303 and response.headers["Location"] == "/orders"
    response = world["clients"]["seller"].post("/seller/orders/bulk", data={
        "action": "process", "back": "/seller/orders" + target.removeprefix("/orders"),
        "order": [world["orders"]["pending"].number]})
    assert response.status_code < 500
    assert "\n" not in response.headers.get("Location", "")
    assert response.headers.get("Location", "/seller/orders").startswith("/seller/orders")


# -- everything else, generated -----------------------------------------------------

TRAPS = ["\x00", "a\x00b", "²", "٣", "１２", "-1", "0", "1e9", "NaN", " ", "",
         "99999999999999999999999", "-99999999999999999999999", "9999-12-31", "0001-01-01",
         "2026-02-30", "20260101000000000000.99999999999999999999999", "/orders\r\nX: y",
         "\r\n", "'; DROP TABLE orders; --", "<script>x</script>", "%00", "x" * 3000,
         "\ud7ff", "\U0001F600", "=1+1", "on", "y", "true"]
_TRAP = st.sampled_from(TRAPS)
VALUES = st.one_of(_TRAP, _TRAP, st.text(max_size=20),
                   st.builds("{}{}{}".format, st.text(max_size=5), _TRAP, st.text(max_size=5)),
                   st.integers(-(2**70), 2**70).map(str), st.dates().map(str))

# Every route, with who calls it. A new route must be added here (test below).
ROUTES = {
    "auth.login": "anonymous", "auth.register": "anonymous", "auth.logout": "buyer",
    "buyer.orders": "buyer", "buyer.order_detail": "buyer", "buyer.order_tracking": "buyer",
    "buyer.cancel": "buyer", "buyer.address": "buyer", "buyer.modification": "buyer",
    "buyer.return_order": "buyer", "buyer.balance_page": "buyer", "buyer.pay_balance": "buyer",
    "buyer.decline_change": "buyer", "seller.cancel_change": "seller",
    "seller.dashboard": "seller", "seller.order": "seller", "seller.checklist": "seller",
    "seller.process": "seller", "seller.ship": "seller", "seller.label": "seller",
    "seller.label_rates": "seller",
    "seller.address": "seller", "seller.lines": "seller", "seller.cancel": "seller",
    "seller.delivered": "seller", "seller.note": "seller", "seller.refund": "seller",
    "seller.decide": "seller",
    "seller.return_received": "seller", "seller.return_label": "seller",
    "buyer.return_tracking": "buyer", "seller.orders": "seller", "seller.bulk": "seller",
    "seller.packing_slips": "seller", "seller.export_csv": "seller", "seller.ship_csv": "seller",
    "seller.settings": "seller", "plugins.index": "seller", "plugins.set_enabled": "seller",
    "plugins.save_settings": "seller", "plugins.rotate_secret": "seller",
    "plugins.show_secret": "seller",
    "shipments.label": "seller", "shipments.void": "seller", "shipments.events": "seller",
    "webhooks.carrier_push": "anonymous", "index": "anonymous",
    "shop.shop": "anonymous", "shop.product": "anonymous", "shop.add_to_cart": "buyer",
    "shop.cart_page": "buyer", "shop.update_line": "buyer", "shop.remove_line": "buyer",
    "checkout.page": "buyer", "checkout.address": "buyer", "checkout.shipping": "buyer",
    "checkout.payment": "buyer", "checkout.coupon": "buyer", "checkout.place": "buyer",
    "seller.coupons": "seller", "seller.new_coupon": "seller", "seller.edit_coupon": "seller",
    "seller.coupon_status": "seller", "seller.offer_coupon": "seller",
    "seller.explain_delay": "seller",
    "payments.page": "buyer", "payments.returned": "buyer",
    "buyer.messages": "buyer", "buyer.post_message": "buyer",
    "seller.messages": "seller", "seller.post_message": "seller",
    "auth.forgot_password": "anonymous", "auth.reset_password": "anonymous",
    "account.page": "buyer", "account.name": "buyer", "account.password": "buyer",
    "account.email": "buyer", "account.confirm_email": "anonymous",
    "account.new_address": "buyer", "account.edit_address": "buyer",
    "account.delete_address": "buyer", "account.notifications": "buyer", "account.phone": "buyer",
    "notifications.index": "buyer", "notifications.open_one": "buyer",
    "notifications.read_one": "buyer", "notifications.read_all": "buyer",
    "notifications.unsubscribe": "anonymous",
    "buyer.review": "buyer", "seller.reviews_page": "seller", "seller.reply_review": "seller",
}
NOT_FUZZED = {"static"}


def test_every_route_is_fuzzed(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - NOT_FUZZED
    assert endpoints == set(ROUTES), "add the new route to ROUTES"


class _Forms(HTMLParser):
    """The forms of a page: (method, action, [(name, value), ...])."""

    def __init__(self):
        super().__init__()
        self.forms, self._current = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = (attrs.get("method", "get").upper(), attrs.get("action", ""), [])
            self.forms.append(self._current)
        elif self._current and tag in ("input", "select", "textarea", "button") \
                and attrs.get("name") and attrs.get("name") != "csrf_token":
            self._current[2].append((attrs["name"], attrs.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _pages(world) -> list[tuple[str, str]]:
    pages = [("buyer", "/orders"), ("seller", "/seller/orders"), ("seller", "/seller/settings"),
             ("seller", "/seller/plugins/"), ("anonymous", "/register"), ("anonymous", "/login"),
             ("seller", f"/seller/shipments/{world['shipment'].id}/events"), ("seller", "/seller/"),
             ("anonymous", "/"), ("buyer", "/cart"), ("anonymous", "/shops/northwind-threads"),
             ("buyer", f"/shops/northwind-threads/products/{world['variant'].product_id}"),
             ("buyer", "/checkout/northwind-threads"), ("seller", "/seller/coupons"),
             ("seller", "/seller/coupons/new?kind=coupons:bundle"),
             ("seller", f"/seller/coupons/{world['coupon'].id}"),
             ("buyer", f"/payments/{world['waiting'].id}/pay"), ("buyer", "/account"),
             ("anonymous", "/password/forgot"), ("buyer", "/account/addresses/new"),
             ("buyer", f"/account/addresses/{world['address'].id}"),
             ("anonymous", f"/password/reset/{world['tokens'][0]}"),
             ("anonymous", f"/account/email/{world['tokens'][1]}"),
             ("buyer", "/notifications"),
             ("anonymous", f"/notifications/unsubscribe/{world['unsubscribe']}"),
             ("seller", "/seller/reviews")]
    for order in world["orders"].values():
        pages += [("buyer", f"/orders/{order.number}"), ("seller", f"/seller/orders/{order.number}")]
    return pages


def _forms(world) -> dict[str, list[list[tuple[str, str]]]]:
    """Every form the portal's own pages render, by the path it goes to: the fields a
    real browser would send, which the generated examples then spoil."""
    found: dict[str, list] = {}
    for who, url in _pages(world):
        parser = _Forms()
        parser.feed(_get(world, who, url).get_data(as_text=True))
        for method, action, fields in parser.forms:
            path = urlsplit(html.unescape(action or url)).path
            found.setdefault(path, []).append(fields)
    return found


def _url_values(world, draw):
    numbers = [o.number for o in world["orders"].values()] + [world["other"].number]
    return {
        "number": draw(st.one_of(st.sampled_from(numbers), VALUES.filter(lambda v: "/" not in v))),
        "request_id": draw(st.one_of(st.just(world["request"].id), st.integers(0, 2**62))),
        "shipment_id": draw(st.one_of(st.just(world["shipment"].id), st.integers(0, 2**62))),
        "name": draw(st.sampled_from(["demo", "manual", "ups", "easypost", "nope", "²"])),
        "code": draw(st.sampled_from(["demo", "easypost", "ups", "nope"])),
        "filename": "css/portal.css",
        "slug": draw(st.one_of(st.just("northwind-threads"), VALUES.filter(lambda v: "/" not in v))),
        "product_id": draw(st.one_of(st.just(world["variant"].product_id), st.integers(0, 2**70))),
        "line_id": draw(st.one_of(st.just(world["line"].id), st.integers(0, 2**70))),
        "coupon_id": draw(st.one_of(st.just(world["coupon"].id), st.integers(0, 2**70))),
        "row_id": draw(st.one_of(st.just(world["waiting"].id), st.integers(0, 2**70))),
        "address_id": draw(st.one_of(st.just(world["address"].id), st.integers(0, 2**70))),
        "notification_id": draw(st.one_of(st.just(world["notification"].id),
                                          st.integers(0, 2**70))),
        "token": draw(st.one_of(st.sampled_from([*world["tokens"], world["unsubscribe"]]),
                                VALUES.filter(lambda v: "/" not in v))),
    }


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_generated_input_never_gives_a_500(world, endpoint):
    app = world["app"]
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    forms = _forms(world)
    names = sorted({name for fs in forms.values() for fields in fs for name, _ in fields}
                   | {"q", "status", "before", "after", "sort", "next", "back", "version"})

    @settings(max_examples=30, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data):
        draw = data.draw
        values = _url_values(world, draw)
        with app.test_request_context():
            from flask import url_for
            try:
                url = url_for(endpoint, **{k: values[k] for k in rule.arguments})
            except Exception:  # a drawn value the converter refuses (e.g. int for <int:>)
                return
        method = draw(st.sampled_from(methods))
        # Start from what the page's own form would send, then spoil one field of it
        # (what reaches the deepest code) or several, with stray fields and a query.
        fields = dict(draw(st.sampled_from(forms.get(url.split("?")[0]) or [[]])))
        query = {}
        if draw(st.booleans()):
            fields[draw(st.sampled_from(sorted(fields) or names))] = draw(VALUES)
        else:
            for name in draw(st.lists(st.sampled_from(sorted(fields) or names), max_size=3)):
                fields[name] = draw(VALUES)
            fields.update(draw(st.dictionaries(st.sampled_from(names), VALUES, max_size=2)))
            query = draw(st.dictionaries(st.sampled_from(names), VALUES, max_size=3))
        client = world["clients"][ROUTES[endpoint]]
        if endpoint == "auth.logout":
            client = app.test_client()  # keep the buyer's own session for the others
        if method == "GET":
            response = client.get(url, query_string={**query, **fields})
        else:
            response = client.post(url, query_string=query, data=fields)
        assert response.status_code < 500, (method, url, query, fields)

    run()
