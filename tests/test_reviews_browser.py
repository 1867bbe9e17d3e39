"""Reviews in a real browser (see tests/test_browser.py): the buyer reviews a delivered
order and the shop replies from /seller/reviews, with htmx (in place) and without
JavaScript (plain forms and 303s); the shop's page shows both."""

import re

import pytest

from tests.test_browser import _too_wide, browser, expect, live_server, log_in  # noqa: F401

pytestmark = pytest.mark.browser


def _unreviewed_delivered_order() -> tuple[str, str]:
    """A delivered order of the demo buyer's at the demo seller's shop, not yet reviewed;
    and the shop's slug."""
    from portal.models import Order, Review, Shop, User
    bea = User.get(User.email == "buyer@example.com")
    shop = Shop.get(Shop.owner == User.get(User.email == "seller@example.com").id)
    return shop.slug, (Order.select().where((Order.buyer == bea.id) & (Order.shop == shop.id)
                                 & (Order.status == "delivered")
                                 & Order.id.not_in(Review.select(Review.order)))
            .order_by(Order.id).first().number)


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_buyer_reviews_and_the_shop_replies(browser, live_server, javascript):  # noqa: F811
    slug, number = _unreviewed_delivered_order()
    errors = []
    buyer = browser.new_context(java_script_enabled=javascript).new_page()
    buyer.on("pageerror", lambda e: errors.append(str(e)))
    # The form's 422 (a refused form, swapped in by htmx) is logged too; it is no error here.
    buyer.on("console", lambda m: m.type == "error" and " 422 " not in m.text
             and errors.append(m.text))
    log_in(buyer, live_server)
    buyer.goto(f"{live_server}/orders/{number}")
    if javascript:
        buyer.evaluate("window.notReloaded = true")
    review = buyer.locator("#review")
    review.get_by_role("button", name="Post the review").click()  # no rating chosen
    expect(review.get_by_text("Choose a rating from 1 to 5 stars.")).to_be_visible()
    buyer.locator("#review").get_by_label("4 stars").check()
    buyer.locator("#review").get_by_label("Your review (optional)").fill("Warm and soft.")
    buyer.locator("#review").get_by_role("button", name="Post the review").click()
    expect(buyer.get_by_text("Thank you: your review is on the shop's page.")).to_be_visible()
    expect(buyer.locator("#review")).to_contain_text("Warm and soft.")
    if javascript:
        assert buyer.evaluate("window.notReloaded === true"), "the block swaps in place"
    else:
        expect(buyer).to_have_url(f"{live_server}/orders/{number}#review")

    seller = browser.new_context(java_script_enabled=javascript).new_page()
    seller.on("pageerror", lambda e: errors.append(str(e)))
    log_in(seller, live_server, "seller@example.com", "seller-demo", home="/seller/")
    seller.get_by_role("link", name="Reviews").click()
    expect(seller).to_have_url(f"{live_server}/seller/reviews")
    row = seller.locator("li.review-row", has_text="Warm and soft.")
    row.get_by_text("Reply", exact=True).click()
    row.get_by_label("Your public reply").fill("Thanks, enjoy it!")
    row.get_by_role("button", name="Post the reply").click()
    row = seller.locator("li.review-row", has_text="Warm and soft.")
    expect(row).to_contain_text("Thanks, enjoy it!")
    expect(row.get_by_role("button", name="Post the reply")).to_have_count(0)  # once

    buyer.goto(f"{live_server}/shops/{slug}")
    reviews = buyer.locator("#reviews")
    expect(reviews).to_contain_text("Warm and soft.")
    expect(reviews).to_contain_text("Thanks, enjoy it!")
    expect(reviews.locator(".review-average")).to_contain_text(re.compile(r"\d\.\d out of 5"))
    assert errors == []


def test_review_pages_fit_a_phone(browser, live_server):  # noqa: F811
    from portal.models import Review
    reviewed = Review.select().order_by(Review.id).first()
    slug, _ = _unreviewed_delivered_order()
    phone = {"viewport": {"width": 390, "height": 844}}
    seller = browser.new_context(**phone).new_page()
    log_in(seller, live_server, "seller@example.com", "seller-demo", home="/seller/")
    too_wide = []
    for path in ("/seller/reviews", f"/seller/orders/{reviewed.order.number}", f"/shops/{slug}"):
        too_wide += _too_wide(seller, live_server + path, 390)
    assert not too_wide, "\n".join(too_wide)
