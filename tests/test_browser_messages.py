"""A message round trip in a real browser (the fixtures of tests/test_browser.py): the buyer
writes, the seller sees the unread badge and answers, the buyer sees the answer."""

import re

from tests.test_browser import browser, expect, live_server, log_in  # noqa: F401 (fixtures)

import pytest

pytestmark = pytest.mark.browser


def test_a_buyer_and_the_shop_exchange_messages(browser, live_server):  # noqa: F811
    seller = browser.new_context().new_page()
    log_in(seller, live_server, "seller@example.com", "seller-demo", home="/seller/")
    seller.goto(f"{live_server}/seller/orders")
    row = seller.locator("tbody tr", has_text="buyer@example.com").first
    number = row.locator("a").first.text_content().strip()
    expect(row.locator(".unread-badge")).to_have_count(0)
    badge = seller.locator("#nav-unread")  # the demo's requests wrote to the shop already
    before = int(badge.inner_text().split()[0]) if badge.count() else 0

    buyer = browser.new_context().new_page()
    log_in(buyer, live_server)
    buyer.goto(f"{live_server}/orders/{number}")
    buyer.get_by_role("link", name="Contact the shop").click()
    buyer.evaluate("window.notReloaded = true")
    buyer.get_by_label("Your message").fill("Could you send it gift-wrapped? <b>Thanks</b>")
    buyer.get_by_role("button", name="Send to the shop").click()
    expect(buyer.locator("#messages .message")).to_have_count(1)
    expect(buyer.locator("#messages .message-body")).to_have_text(
        "Could you send it gift-wrapped? <b>Thanks</b>")
    expect(buyer.get_by_label("Your message")).to_have_value("")
    assert buyer.evaluate("window.notReloaded === true"), "the thread should swap in place"

    seller.goto(f"{live_server}/seller/")
    expect(seller.locator("#nav-unread")).to_have_text(re.compile(rf"^{before + 1}\b"))
    expect(seller.locator("#messages-h")).to_contain_text(str(before + 1))
    seller.get_by_role("link", name="Order Management").click()
    seller.locator("tbody tr", has_text=number).locator(".unread-badge").click()
    expect(seller.get_by_role("heading", name=f"Order {number}")).to_be_visible()
    expect(seller.locator("#messages")).to_contain_text("gift-wrapped")
    if before:  # read now: the badge counts only the others
        expect(seller.locator("#nav-unread")).to_have_text(re.compile(rf"^{before}\b"))
    else:
        expect(seller.locator("#nav-unread")).to_have_count(0)
    seller.get_by_label("Your message").fill("Of course. Tracking: https://example.com/t/1")
    seller.get_by_role("button", name="Send to the buyer").click()
    expect(seller.locator("#messages .message")).to_have_count(2)
    expect(seller.locator("#messages a[href='https://example.com/t/1']")).to_have_attribute(
        "rel", "nofollow noopener")

    buyer.goto(f"{live_server}/orders")
    expect(buyer.locator(".order-row", has_text=number).locator(".unread-badge")).to_contain_text("1")
    buyer_badge = buyer.locator("#nav-unread")
    unread = int(buyer_badge.inner_text().split()[0])
    buyer.goto(f"{live_server}/orders/{number}")
    expect(buyer.locator("#messages .message").last).to_contain_text("Of course.")
    if unread > 1:  # the demo's own conversation is still unread
        expect(buyer.locator("#nav-unread")).to_have_text(re.compile(rf"^{unread - 1}\b"))
    else:
        expect(buyer.locator("#nav-unread")).to_have_count(0)
