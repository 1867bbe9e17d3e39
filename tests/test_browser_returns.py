"""A return end to end in a real browser (the fixtures of tests/test_browser.py): the buyer
asks to return an item, the seller approves, the buyer enters the return tracking number,
the seller receives and refunds, and the buyer sees Returned, the refund and a
notification."""

import re

import pytest

from portal.models import Shipment, Shop, User, utcnow
from tests.factories import make_order, make_shipment, make_variant
from tests.test_browser import browser, expect, live_server, log_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def delivered(live_server):  # noqa: F811
    """A delivered order of the demo buyer's at the demo seller's shop: one $42.00 item."""
    buyer = User.get(User.email == "buyer@example.com")
    shop = Shop.get(Shop.owner == User.get(User.email == "seller@example.com").id)
    variant = make_variant(shop, "Return test jacket", size="L", colour="Olive", price=4200)
    order = make_order(buyer, shop, status="delivered", variants=(variant,),
                       products=(("Return test jacket", 4200, 1),))
    make_shipment(order, tracking_number="DP0000000777")
    Shipment.update(status="delivered", delivered_at=utcnow()).where(
        Shipment.order == order.id).execute()
    return order


def test_a_return_from_request_to_refund(browser, live_server, delivered):  # noqa: F811
    number = delivered.number
    buyer = browser.new_context().new_page()
    log_in(buyer, live_server)
    buyer.goto(f"{live_server}/orders/{number}")
    buyer.get_by_text("Return this order").click()
    buyer.get_by_label("How many Return test jacket to return").select_option("1")
    buyer.get_by_label("Why you return Return test jacket").select_option(label="Too small")
    buyer.get_by_role("button", name="Request a return").click()
    expect(buyer.locator(".flash, .flashes, [role=status]").first).to_contain_text(
        "Return requested")

    seller = browser.new_context().new_page()
    log_in(seller, live_server, "seller@example.com", "seller-demo", home="/seller/")
    seller.goto(f"{live_server}/seller/orders/{number}")
    expect(seller.locator("#requests-h")).to_be_visible()
    expect(seller.get_by_text("Return test jacket (L, Olive) × 1: Too small")).to_be_visible()
    seller.get_by_role("button", name="Approve").click()
    expect(seller.get_by_role("button", name="Return received: refund and restock")).to_be_visible()

    buyer.goto(f"{live_server}/orders/{number}")
    expect(buyer.locator(".return-address")).to_be_visible()
    buyer.get_by_label("Tracking number of your parcel").fill("DP 1234567890")
    buyer.get_by_role("button", name="I sent it: save the tracking number").click()
    expect(buyer.locator(".tracking-number").first).to_have_text("DP1234567890")

    seller.goto(f"{live_server}/seller/orders/{number}")
    expect(seller.locator(".return-parcel")).to_contain_text("DP1234567890")
    seller.get_by_role("button", name="Return received: refund and restock").click()
    expect(seller.get_by_text(re.compile(r"Return received: \$42\.00 refunded"))).to_be_visible()

    buyer.goto(f"{live_server}/orders/{number}")
    expect(buyer.locator("#order-status")).to_contain_text("Returned")
    expect(buyer.locator(".return-refund")).to_contain_text("$42.00 refunded")
    buyer.goto(f"{live_server}/notifications")
    expect(buyer.get_by_text(re.compile(
        rf"Order {number}: Return received: 1 item back; refund of \$42\.00"))).to_be_visible()
