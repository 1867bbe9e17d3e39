"""Real-browser smoke tests: headless Debian Chromium driven by Playwright.

They need /usr/bin/chromium (Debian's ``chromium`` package; .ci/run installs it).
On a machine without it they are skipped, except in CI, where they must run.
"""

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal.demo import seed

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.browser

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture
def live_server(app):
    with app.app_context():
        seed(80)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def log_in(page, base, email="buyer@example.com", password="buyer-demo", home="/orders"):
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}{home}")


def test_buyer_logs_in_switches_tab_in_place_and_opens_an_order(browser, live_server):
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    log_in(page, live_server)
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()

    page.evaluate("window.notReloaded = true")
    page.get_by_role("navigation", name="Order status").get_by_role("link", name=re.compile("^Shipped")).click()
    expect(page).to_have_url(f"{live_server}/orders?status=shipped")
    expect(page.locator(".order-row .badge").first).to_have_text("Shipped")
    badges = page.locator(".order-row .badge").all_text_contents()
    assert badges and set(badges) == {"Shipped"}
    assert page.evaluate("window.notReloaded === true"), "the tab should swap in place"

    page.locator(".order-row").first.click()
    expect(page).to_have_url(re.compile(r"/orders/[0-9A-Z]{5}-[0-9A-Z]{5}$"))
    expect(page.get_by_role("heading", name=re.compile("^Order "))).to_be_visible()
    expect(page.locator("#tracking")).to_contain_text("Demo Parcel")
    assert errors == []  # no CSP violations or script errors

    page.go_back()
    expect(page).to_have_url(f"{live_server}/orders?status=shipped")
    expect(page.locator(".order-row").first).to_be_visible()


def test_search_as_you_type_keeps_focus(browser, live_server):
    page = browser.new_page()
    log_in(page, live_server)
    number = page.locator(".order-row .muted").first.text_content().split()[1]
    box = page.get_by_label("Search orders")
    box.press_sequentially(number[:5], delay=20)
    expect(page).to_have_url(re.compile(rf"q={number[:5]}"))
    expect(page.locator(".order-row").first).to_contain_text(number)
    assert page.evaluate("document.activeElement.id") == "order-search"


def test_everything_works_with_javascript_off(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server)
    page.get_by_role("link", name=re.compile("^Delivered")).click()
    expect(page).to_have_url(f"{live_server}/orders?status=delivered")
    assert set(page.locator(".order-row .badge").all_text_contents()) == {"Delivered"}
    page.get_by_label("Search orders").fill("zzzz-nothing")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No orders match")).to_be_visible()
    page.goto(f"{live_server}/orders")
    page.get_by_role("link", name="Older orders →").click()
    expect(page).to_have_url(re.compile(r"before="))
    page.locator(".order-row").first.click()
    expect(page.get_by_role("heading", name=re.compile("^Order "))).to_be_visible()
    page.get_by_role("button", name=re.compile("^Log out")).click()
    expect(page).to_have_url(f"{live_server}/login")
    context.close()


def test_second_buyer_cannot_open_the_first_buyers_order(browser, live_server):
    first = browser.new_context().new_page()
    log_in(first, live_server)
    first.locator(".order-row").first.click()
    url = first.url
    second = browser.new_context().new_page()
    log_in(second, live_server, "buyer2@example.com")
    response = second.goto(url)
    assert response.status == 404
    expect(second.get_by_role("heading", name="Not Found")).to_be_visible()


def test_seller_processes_and_ships_and_the_buyer_sees_the_tracking(browser, live_server):
    seller = browser.new_context().new_page()
    log_in(seller, live_server, "seller@example.com", "seller-demo", home="/seller/")
    seller.get_by_role("link", name="Order Management").click()
    seller.evaluate("window.notReloaded = true")
    seller.get_by_role("navigation", name="Order status").get_by_role(
        "link", name=re.compile("^Pending")).click()
    expect(seller).to_have_url(f"{live_server}/seller/orders?status=pending")
    assert seller.evaluate("window.notReloaded === true"), "the tab should swap in place"
    row = seller.locator("tbody tr", has_text="buyer@example.com").first
    number = row.locator("a").first.text_content()
    row.get_by_role("link", name=number).click()
    expect(seller.get_by_role("heading", name=f"Order {number}")).to_be_visible()

    for box in seller.locator("ul.checklist input[name=picked]").all():
        box.check()
    seller.get_by_label("Shipping address verified").check()
    seller.get_by_role("button", name="Save checklist").click()
    expect(seller.get_by_text("Checklist saved.")).to_be_visible()
    seller.get_by_role("button", name="Mark as processed").click()
    expect(seller.get_by_text(f"Order {number} is Processed and ready to ship.")).to_be_visible()
    seller.get_by_label("Carrier", exact=True).select_option(label="Other carrier (manual tracking)")
    seller.get_by_label("Tracking number", exact=True).fill("BROWSER-000042")
    seller.get_by_role("button", name="Ship package").click()
    expect(seller.get_by_text(f"Order {number} is Shipped.")).to_be_visible()
    expect(seller.locator(".order-head .badge")).to_have_text("Shipped")

    buyer = browser.new_context().new_page()
    log_in(buyer, live_server)
    buyer.goto(f"{live_server}/orders/{number}")
    expect(buyer.locator(".order-head .badge")).to_have_text("Shipped")
    expect(buyer.locator("#tracking")).to_contain_text("BROWSER-000042")
    expect(buyer.locator(".timeline")).to_contain_text("Processed → Shipped")


def test_seller_ticks_everything_and_marks_processed_in_one_step(browser, live_server):
    """The checklist trap: ticks and "Mark as processed" are one action, not two."""
    errors = []
    seller = browser.new_context().new_page()
    seller.on("pageerror", lambda e: errors.append(str(e)))
    seller.on("console", lambda m: m.type == "error" and errors.append(m.text))
    log_in(seller, live_server, "seller@example.com", "seller-demo", home="/seller/")
    seller.goto(f"{live_server}/seller/orders?status=pending")
    row = seller.locator("tbody tr", has_text="buyer@example.com").first
    number = row.locator("a").first.text_content()
    row.get_by_role("link", name=number).click()
    expect(seller.get_by_role("heading", name=f"Order {number}")).to_be_visible()
    boxes = seller.locator("ul.checklist input[name=picked]").all()
    assert boxes
    for box in boxes:
        box.check()
    seller.get_by_label("Shipping address verified").check()
    seller.get_by_role("button", name="Mark as processed").click()  # no "Save checklist" first
    expect(seller.get_by_text(f"Order {number} is Processed and ready to ship.")).to_be_visible()
    expect(seller.locator(".order-head .badge")).to_have_text("Processed")
    expect(seller.get_by_role("heading", name="Ship", exact=True)).to_be_visible()
    assert errors == []


def test_open_order_page_picks_up_a_webhook_event_without_reload(app, browser, live_server):
    from portal.models import Order, Shipment, User
    from portal.testing import easypost_event, enable, signed_post

    app.config["TRACKING_POLL_SECONDS"] = 1
    buyer = User.get(User.email == "buyer@example.com")
    order = (Order.select().where((Order.buyer == buyer.id) & (Order.status == "shipped"))
             .order_by(Order.id).first())
    shipment = Shipment.get(Shipment.order == order.id)
    enable(order.shop, "easypost")

    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    log_in(page, live_server)
    page.goto(f"{live_server}/orders/{order.number}")
    expect(page.locator("#order-status")).to_have_text("Shipped")
    page.evaluate("window.notReloaded = true")

    event = easypost_event(shipment.tracking_number, [
        ("out_for_delivery", "Out for delivery"), ("delivered", "Delivered, in the mailbox")],
        event_id="evt_browser")
    response = signed_post(app.test_client(), "easypost", order.shop, event)
    assert response.status_code == 200, response.json

    expect(page.locator("#tracking")).to_contain_text("Delivered, in the mailbox", timeout=10_000)
    expect(page.locator("#order-status")).to_have_text("Delivered")
    assert page.evaluate("window.notReloaded === true"), "the block should refresh in place"
    assert errors == []


def _type_with_a_pause(page, box, first, then):
    """Type ``first``, wait until its search has come back, then type ``then``."""
    box.press_sequentially(first, delay=30)
    expect(page).to_have_url(re.compile(r"q=" + re.escape(first.strip().split()[0])))
    page.wait_for_load_state("networkidle")
    box.press_sequentially(then, delay=30)


def test_live_search_keeps_the_space_typed_before_a_pause(browser, live_server):
    page = browser.new_page()
    log_in(page, live_server)
    box = page.get_by_label("Search orders")
    _type_with_a_pause(page, box, "Linen ", "shirt")
    expect(box).to_have_value("Linen shirt")
    expect(page).to_have_url(re.compile(r"q=Linen(\+|%20)shirt"))
    expect(page.locator(".order-row").first).to_contain_text("Linen shirt")
    assert page.evaluate("document.activeElement.id") == "order-search"
    # The tabs now carry the new search, and "Clear the search" still empties the box.
    expect(page.get_by_role("navigation", name="Order status").get_by_role(
        "link", name=re.compile("^All"))).to_have_attribute("href", re.compile(r"q=Linen"))
    box.fill("")
    box.press_sequentially("zzzz nothing", delay=30)
    page.get_by_role("link", name="Clear the search").click()
    expect(box).to_have_value("")
    expect(page.locator(".order-row").first).to_be_visible()


def test_seller_live_search_keeps_the_space_typed_before_a_pause(browser, live_server):
    page = browser.new_page()
    log_in(page, live_server, "seller@example.com", "seller-demo", home="/seller/")
    page.goto(f"{live_server}/seller/orders")
    box = page.get_by_label("Search", exact=True)
    _type_with_a_pause(page, box, "Bea ", "Buyer")
    expect(box).to_have_value("Bea Buyer")
    expect(page).to_have_url(re.compile(r"q=Bea(\+|%20)Buyer"))
    expect(page.locator("tbody tr").first).to_contain_text("Bea Buyer")
    assert page.evaluate("document.activeElement.id") == "seller-search"
    rows = page.locator("tbody tr").all_text_contents()
    assert rows and all("Bea Buyer" in row for row in rows)
    expect(page.locator("#export-csv")).to_have_attribute("href", re.compile(r"q=Bea(\+|%20)Buyer"))
    # The form is not swapped, yet its errors still come and go beside their fields.
    page.get_by_label("Placed from").fill("2026-05-10")
    page.get_by_label("Placed to").fill("2026-05-01")
    expect(page.get_by_text("The end date is before the start date.")).to_be_visible()
    page.get_by_label("Placed to").fill("2026-05-20")
    expect(page.get_by_text("The end date is before the start date.")).to_have_count(0)
    expect(box).to_have_value("Bea Buyer")


def _labelled_shipment(shop):
    """A demo-shop order shipped with a bought label, as the ship form does it."""
    from portal import shipping
    from portal.models import Order
    from portal.orders import fulfilment
    for order in (Order.select().where((Order.shop == shop.id) & (Order.status == "processed"))
                  .order_by(Order.id.desc())):
        label = shipping.buy_label(shop, order, "demo", "ground")
        package = fulfilment.Package(fulfilment.remaining(order), label.carrier_code,
                                     "Demo Parcel", label.tracking_number, label.tracking_url,
                                     shipping.label_shipment_fields(label))
        try:
            return fulfilment.ship(order, package, version=order.version, actor=shop.owner)
        except fulfilment.FulfilmentError:  # a buyer's request waits for an answer
            continue
    raise AssertionError("no processed demo order can ship")


def _too_wide(page, url, width) -> list[str]:
    """What makes the page at ``url`` wider than ``width`` (nothing, if it fits)."""
    response = page.goto(url)
    assert response.ok, url
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true })")
    if page.evaluate("document.documentElement.scrollWidth") <= width:
        return []
    return [url + ": " + ", ".join(page.evaluate(f"""[...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > {width} + 0.5
                  && e.parentElement.getBoundingClientRect().right <= {width} + 0.5).slice(0, 4)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""))]


def test_no_page_is_wider_than_a_phone(app, browser, live_server):
    from portal.models import Order, Shop, User
    seller = User.get(User.email == "seller@example.com")
    shop = Shop.get(Shop.owner == seller.id)
    shipment = _labelled_shipment(shop)
    buyer = User.get(User.email == "buyer@example.com")
    number = Order.select().where(Order.buyer == buyer.id).order_by(Order.id).first().number
    shop_orders = [o.number for o in Order.select().where(Order.shop == shop.id).limit(3)]
    phone = {"viewport": {"width": 390, "height": 844}}

    too_wide = []
    anonymous = browser.new_context(**phone).new_page()
    for path in ("/login", "/register"):
        too_wide += _too_wide(anonymous, live_server + path, 390)

    page = browser.new_context(**phone).new_page()
    log_in(page, live_server)
    for path in ("/orders", f"/orders/{number}", "/orders?status=shipped"):
        too_wide += _too_wide(page, live_server + path, 390)

    page = browser.new_context(**phone).new_page()
    log_in(page, live_server, "seller@example.com", "seller-demo", home="/seller/")
    slips = "&".join(f"order={n}" for n in shop_orders)
    for path in ("/seller/", "/seller/orders", "/seller/orders?status=delayed",
                 f"/seller/orders/{shipment.order.number}", f"/seller/orders/{number}",
                 "/seller/settings", "/seller/plugins/",
                 f"/seller/shipments/{shipment.id}/label", f"/seller/shipments/{shipment.id}/events",
                 f"/seller/orders/packing-slips?{slips}"):
        too_wide += _too_wide(page, live_server + path, 390)
    assert not too_wide, "\n".join(too_wide)


def test_every_seller_tab_is_visible_on_a_laptop(browser, live_server):
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in(page, live_server, "seller@example.com", "seller-demo", home="/seller/")
    page.goto(f"{live_server}/seller/orders")
    tabs = page.get_by_role("navigation", name="Order status").get_by_role("link")
    assert tabs.count() >= 8
    for tab in tabs.all():
        box = tab.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1280, tab.text_content()
        expect(tab).to_be_in_viewport(ratio=1)

    page.goto(f"{live_server}/seller/")
    cards = page.get_by_role("navigation", name="Orders per status").get_by_role("link").all()
    assert len(cards) == 8
    assert len({round(card.bounding_box()["y"]) for card in cards}) == 1, "the counts fit one row"


def test_label_and_tracking_pages_lead_back_to_the_order_and_pills_have_colour(browser, live_server):
    from portal.hooktypes import TrackingStatus
    from portal.models import Shop, User
    shop = Shop.get(Shop.owner == User.get(User.email == "seller@example.com").id)
    shipment = _labelled_shipment(shop)
    number = shipment.order.number
    page = browser.new_page()
    log_in(page, live_server, "seller@example.com", "seller-demo", home="/seller/")
    for path in ("label", "events"):
        page.goto(f"{live_server}/seller/shipments/{shipment.id}/{path}")
        page.get_by_role("link", name=f"← Order {number}").click()
        expect(page.get_by_role("heading", name=f"Order {number}")).to_be_visible()

    # Every tracking status has a pill of its own colour, as the order statuses do.
    page.goto(f"{live_server}/seller/shipments/{shipment.id}/events")
    pill = page.locator(".badge[class*=tracking-]").first
    expect(pill).to_be_visible()
    colours = set()
    for status in TrackingStatus:
        pill.evaluate("(e, s) => { e.className = 'badge tracking-' + s }", status.value)
        colour = pill.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), status
        colours.add(colour)
    assert len(colours) >= 4


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_seller_applies_a_bulk_action_to_every_order_on_the_page(browser, live_server, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, live_server, "seller@example.com", "seller-demo", home="/seller/")
    page.goto(f"{live_server}/seller/orders?status=pending")
    numbers = page.locator("tbody tr td:nth-child(2) a").all_text_contents()
    assert len(numbers) >= 2
    page.get_by_label("With the ticked orders").select_option(label="Print packing slips")
    page.get_by_role("button", name=f"Apply to all {len(numbers)} on this page").click()
    expect(page).to_have_url(re.compile(r"/seller/orders/packing-slips\?"))
    slips = page.locator("article.slip strong").all_text_contents()
    assert sorted(slips) == sorted(numbers)
    context.close()


def _a_processed_order(seller, base) -> str:
    log_in(seller, base, "seller@example.com", "seller-demo", home="/seller/")
    seller.goto(f"{base}/seller/orders?status=pending")
    row = seller.locator("tbody tr", has_text="buyer@example.com").first
    number = row.locator("a").first.text_content()
    row.get_by_role("link", name=number).click()
    for box in seller.locator("ul.checklist input[name=picked]").all():
        box.check()
    seller.get_by_label("Shipping address verified").check()
    seller.get_by_role("button", name="Mark as processed").click()
    expect(seller.get_by_text(f"Order {number} is Processed and ready to ship.")).to_be_visible()
    return number


def test_label_rates_load_as_a_fragment_and_a_label_is_bought(browser, live_server):
    errors = []
    seller = browser.new_context().new_page()
    seller.on("pageerror", lambda e: errors.append(str(e)))
    _a_processed_order(seller, live_server)
    # htmx asks for the rates once the page is there; the link it replaces is gone.
    expect(seller.get_by_label(re.compile("Demo Ground"))).to_be_visible()
    expect(seller.get_by_role("link", name="See your carriers’ label prices")).to_have_count(0)
    seller.get_by_label(re.compile("Demo Ground")).check()
    seller.get_by_role("button", name="Buy label").click()
    expect(seller).to_have_url(re.compile(r"/seller/shipments/\d+/label$"))
    expect(seller.get_by_text("Label bought: Demo Parcel")).to_be_visible()
    assert errors == []


def test_label_rates_without_javascript_are_a_link_away(browser, live_server):
    seller = browser.new_context(java_script_enabled=False).new_page()
    number = _a_processed_order(seller, live_server)
    seller.get_by_role("link", name="See your carriers’ label prices").click()
    expect(seller).to_have_url(f"{live_server}/seller/orders/{number}/label#label-h")
    seller.get_by_label(re.compile("Demo Express")).check()
    seller.get_by_role("button", name="Buy label").click()
    expect(seller.get_by_text("Label bought: Demo Parcel")).to_be_visible()


def test_a_visitor_browses_logs_in_fills_a_cart_and_changes_a_quantity_in_place(browser,
                                                                              live_server):
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="Shops")).to_be_visible()
    page.get_by_role("link", name=re.compile("Northwind Threads")).click()
    expect(page).to_have_url(f"{live_server}/shops/shop-1")
    page.locator(".product-card a").first.click()
    expect(page).to_have_url(re.compile(r"/shops/shop-1/products/\d+$"))
    product_url = page.url
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/login\?next="))  # a visitor logs in first...
    page.get_by_label("E-mail").fill("buyer@example.com")
    page.get_by_label("Password").fill("buyer-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(product_url) + r"\?variant=\d+"))  # ...and is back
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text(re.compile("^Added to your cart"))).to_be_visible()
    expect(page.locator("#cart-badge")).to_contain_text("2")

    page.get_by_role("link", name=re.compile("^Cart")).click()
    expect(page).to_have_url(f"{live_server}/cart")
    subtotal = page.locator(".cart-subtotal").first
    before = subtotal.text_content()
    unit = int(re.sub(r"\D", "", before)) // 2
    page.evaluate("window.notReloaded = true")
    quantity = page.locator(".qty-form input[name=quantity]").first
    quantity.fill("3")
    quantity.press("Tab")  # a change event: htmx posts the form and swaps the shop's cart
    expect(subtotal).not_to_have_text(before)
    assert int(re.sub(r"\D", "", subtotal.text_content())) == unit * 3
    expect(page.locator("#cart-badge")).to_contain_text("3")
    assert page.evaluate("window.notReloaded === true"), "the cart should change in place"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []  # no CSP violations or script errors


def test_the_storefront_and_cart_fit_a_phone(browser, live_server):
    from portal import cart
    from portal.models import Product, Shop, User, Variant
    buyer = User.get(User.email == "buyer@example.com")
    shop = Shop.get(Shop.slug == "shop-2")
    product = Product.select().where(Product.shop == shop.id).order_by(Product.id).first()
    variant = Variant.select().where(Variant.product == product.id).first()
    cart.add(buyer, variant.id, 2)
    Variant.update(stock=1).where(Variant.id == variant.id).execute()  # a line with a problem
    phone = {"viewport": {"width": 390, "height": 844}}
    too_wide = []
    anonymous = browser.new_context(**phone).new_page()
    for path in ("/", "/shops/shop-2", f"/shops/shop-2/products/{product.id}"):
        too_wide += _too_wide(anonymous, live_server + path, 390)
    page = browser.new_context(**phone).new_page()
    log_in(page, live_server)
    for path in ("/", "/cart", f"/shops/shop-2/products/{product.id}"):
        too_wide += _too_wide(page, live_server + path, 390)
    assert not too_wide, "\n".join(too_wide)
    expect(page.locator("#cart-badge")).to_be_visible()
    page.goto(live_server + "/cart")
    expect(page.get_by_text("Only 1 left: lower the quantity to check out.")).to_be_visible()


def test_a_buyer_checks_out_with_a_card_and_the_seller_sees_the_order(browser, live_server):
    page = browser.new_page()  # the demo shops take the test card
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    log_in(page, live_server)
    page.goto(f"{live_server}/shops/shop-1")
    page.locator(".product-card a").first.click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text(re.compile("^Added to your cart"))).to_be_visible()
    page.goto(f"{live_server}/cart")
    page.get_by_role("link", name=re.compile("^Check out")).first.click()
    expect(page).to_have_url(re.compile(r"/checkout/shop-1$"))
    form = page.locator("form.address-form")
    form.get_by_label("Full name").fill("Bea Buyer")
    form.get_by_label("Address", exact=True).fill("1 Main St")
    form.get_by_label("City").fill("Springfield")
    form.get_by_label("State / region").fill("IL")
    form.get_by_label("Postal code").fill("62701")
    form.get_by_label("Country").select_option("US")
    form.get_by_label("Phone (for the carrier)").fill("217 555 0100")
    form.get_by_role("button", name="Use this address").click()
    page.get_by_role("button", name="Ship this way").click()
    page.locator("input[name=method][value='card:card']").check()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/40")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay this way").click()
    total = page.locator("#review-total").text_content().strip()
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/orders/[0-9A-Z]{5}-[0-9A-Z]{5}$"))
    number = page.url.rsplit("/", 1)[1]
    expect(page.locator("main")).to_contain_text("Pending")
    expect(page.locator("main")).to_contain_text(total)
    assert errors == []

    seller = browser.new_page()
    log_in(seller, live_server, "seller@example.com", "seller-demo", home="/seller/")
    seller.goto(f"{live_server}/seller/orders?q={number}")
    expect(seller.locator("main")).to_contain_text(number)
    expect(seller.locator("main")).to_contain_text(total)


def test_a_buyer_checks_out_with_the_demo_coupon_and_sees_the_discount(browser, live_server):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, live_server)
    page.goto(f"{live_server}/shops/shop-1")
    page.locator(".product-card a").first.click()
    page.get_by_role("button", name="Add to cart").click()
    page.goto(f"{live_server}/checkout/shop-1")
    form = page.locator("form.address-form")
    form.get_by_label("Full name").fill("Bea Buyer")
    form.get_by_label("Address", exact=True).fill("1 Main St")
    form.get_by_label("City").fill("Springfield")
    form.get_by_label("State / region").fill("IL")
    form.get_by_label("Postal code").fill("62701")
    form.get_by_label("Country").select_option("US")
    form.get_by_role("button", name="Use this address").click()
    page.get_by_role("button", name="Ship this way").click()
    page.locator("input[name=method][value='card:card']").check()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/40")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay this way").click()
    page.get_by_label("Coupon code").fill("NOPE")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#coupon-error")).to_contain_text("There is no coupon NOPE")
    page.get_by_label("Coupon code").fill("summer-15")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".applied-coupons")).to_contain_text("SUMMER-15")
    discount = page.locator("#review-discount").text_content().strip()
    assert discount.startswith("−$") and discount != "$0.00"
    expect(page.locator(".checkout-lines .line-discount").first).to_be_visible()
    total = page.locator("#review-total").text_content().strip()
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/orders/[0-9A-Z]{5}-[0-9A-Z]{5}$"))
    expect(page.locator("main")).to_contain_text("Coupon SUMMER-15")
    expect(page.locator("main")).to_contain_text(total)
    assert errors == []


def test_a_buyer_checks_out_with_the_wallet_and_lands_on_the_authorised_order(browser,
                                                                             live_server):
    page = browser.new_page()  # the demo shops take the Demo Wallet too
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    log_in(page, live_server)
    page.goto(f"{live_server}/shops/shop-1")
    page.locator(".product-card a").first.click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text(re.compile("^Added to your cart"))).to_be_visible()
    page.goto(f"{live_server}/checkout/shop-1")
    form = page.locator("form.address-form")
    form.get_by_label("Full name").fill("Bea Buyer")
    form.get_by_label("Address", exact=True).fill("1 Main St")
    form.get_by_label("City").fill("Springfield")
    form.get_by_label("State / region").fill("IL")
    form.get_by_label("Postal code").fill("62701")
    form.get_by_label("Country").select_option("US")
    form.get_by_label("Phone (for the carrier)").fill("217 555 0100")
    form.get_by_role("button", name="Use this address").click()
    page.get_by_role("button", name="Ship this way").click()
    page.locator("input[name=method][value='wallet:wallet']").check()
    page.get_by_role("button", name="Pay this way").click()
    total = page.locator("#review-total").text_content().strip()
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/payments/\d+/pay$"))
    expect(page.get_by_role("heading", name="Demo Wallet")).to_be_visible()
    expect(page.locator("#payment-amount")).to_have_text(total)
    page.get_by_role("button", name="Approve").click()
    expect(page).to_have_url(re.compile(r"/orders/[0-9A-Z]{5}-[0-9A-Z]{5}$"))
    expect(page.locator("main")).to_contain_text("Your payment is authorised")
    expect(page.locator("main")).to_contain_text("Pending")
    expect(page.locator("main")).to_contain_text("Authorised")
    expect(page.locator("main")).to_contain_text("Demo Wallet")
    expect(page.locator("main")).to_contain_text(total)
    assert errors == []
