"""Reviews: the buyer of a delivered order rates and reviews it once, may change it for 30
days; the shop replies once; /seller/reviews and the shop page show the figures."""

import re
from datetime import timedelta

import pytest
from peewee import IntegrityError

from portal import outbox
from portal.db import database
from portal.models import Order, OrderEvent, OutboxEvent, Review, Shop, User, utcnow
from portal.orders import reviews
from portal.orders.reviews import ReviewRefused
from tests.factories import PASSWORD, make_order, make_user

SELLER, SELLER2, BUYER2 = "seller@example.com", "seller2@example.com", "buyer2@example.com"
HX = {"HX-Request": "true"}


def refused_code(call) -> str:
    with pytest.raises(ReviewRefused) as refused:
        call()
    return refused.value.code


# -- the rules ----------------------------------------------------------------------

@pytest.mark.parametrize("status", ["pending", "processed", "shipped", "cancelled"])
def test_only_a_delivered_order_can_be_reviewed(buyer, shop, status):
    order = make_order(buyer, shop, status=status)
    assert refused_code(lambda: reviews.write(order, buyer=buyer, rating=5)) \
        == "review.not_delivered"
    assert Review.select().count() == 0


@pytest.mark.parametrize("status", ["delivered", "returned"])
def test_a_delivered_or_returned_order_can_be_reviewed(buyer, shop, status):
    order = make_order(buyer, shop, status=status)
    written = reviews.write(order, buyer=buyer, rating=4, text="  Soft linen.  ")
    assert (written.rating, written.text, written.shop_id) == (4, "Soft linen.", shop.id)


def test_only_the_orders_buyer_reviews_it(buyer, buyer2, seller, shop):
    order = make_order(buyer, shop, status="delivered")
    for someone in (buyer2, seller):
        assert refused_code(lambda: reviews.write(order, buyer=someone, rating=1)) \
            == "review.not_buyer"
    assert Review.select().count() == 0


def test_a_second_review_is_an_edit_and_the_database_holds_one_per_order(buyer, shop):
    order = make_order(buyer, shop, status="delivered")
    first = reviews.write(order, buyer=buyer, rating=2, text="Late.")
    assert not reviews.may_review(order, buyer.id, first)
    assert reviews.may_review(order, buyer.id, first).code == "review.already_written"
    reviews.write(order, buyer=buyer, rating=4, text="Late, but lovely.")
    assert [(r.rating, r.text) for r in Review.select()] == [(4, "Late, but lovely.")]
    with pytest.raises(IntegrityError), database.atomic():  # a race ends here
        Review.create(order=order.id, shop=shop.id, buyer=buyer.id, rating=1)


@pytest.mark.parametrize("rating", [0, 6, -1, "5", None, True])
def test_a_rating_is_1_to_5(buyer, shop, rating):
    order = make_order(buyer, shop, status="delivered")
    assert refused_code(lambda: reviews.write(order, buyer=buyer, rating=rating)) \
        == "form.bad_rating"
    assert refused_code(lambda: reviews.write(order, buyer=buyer, rating=3,
                                              text="x" * 2001)) == "form.review_too_long"
    assert reviews.write(order, buyer=buyer, rating=3, text="x" * 2000).text == "x" * 2000


def test_a_review_can_be_changed_for_30_days_to_the_second(buyer, shop):
    order = make_order(buyer, shop, status="delivered")
    written_at = utcnow() - timedelta(days=40)
    reviews.write(order, buyer=buyer, rating=3, now=written_at)
    last_moment = written_at + timedelta(days=30)
    reviews.write(order, buyer=buyer, rating=4, now=last_moment)  # the edge: still open
    assert Review.get().rating == 4
    too_late = last_moment + timedelta(seconds=1)
    assert refused_code(lambda: reviews.write(order, buyer=buyer, rating=5, now=too_late)) \
        == "review.edit_closed"
    review = Review.get()
    assert (review.rating, review.created_at, review.updated_at) == (4, written_at, last_moment)
    assert not reviews.for_buyer(order, buyer.id, too_late).write
    assert reviews.for_buyer(order, buyer.id, last_moment).write.action == "edit_review"


def test_the_shop_replies_once_and_another_shop_cannot(buyer, seller, seller2, shop, shop2):
    order = make_order(buyer, shop, status="delivered")
    review = reviews.write(order, buyer=buyer, rating=5)
    assert reviews.may_reply(review, shop2.id).code == "review.not_shop"
    assert refused_code(lambda: reviews.reply(review, shop=shop2, seller=seller2,
                                              text="Thanks!")) == "review.not_shop"
    reviews.reply(Review.get(), shop=shop, seller=seller, text="Thank you, Bea!")
    stale = Review.get_by_id(review.id)
    stale.replied_at = None  # another tab's copy from before the reply
    assert refused_code(lambda: reviews.reply(stale, shop=shop, seller=seller,
                                              text="Thanks again")) == "review.already_replied"
    assert Review.get().reply == "Thank you, Bea!"
    assert refused_code(lambda: reviews.reply(Review.get(), shop=shop, seller=seller,
                                              text="x")) == "review.already_replied"
    assert refused_code(lambda: reviews.reply(make_review(buyer, shop, 3), shop=shop,
                                              seller=seller, text="  ")) == "form.reply_empty"


def test_review_edit_and_reply_are_on_the_timeline_and_in_the_outbox(buyer, seller, shop):
    order = make_order(buyer, shop, status="delivered")
    review = reviews.write(order, buyer=buyer, rating=3)
    reviews.write(order, buyer=buyer, rating=5)
    reviews.reply(review, shop=shop, seller=seller, text="Glad it worked out.")
    kinds = [(e.kind, e.actor_role, e.internal) for e in
             OrderEvent.select().where(OrderEvent.order == order.id).order_by(OrderEvent.id)]
    assert kinds[1:] == [("reviewed", "buyer", False), ("review_edited", "buyer", False),
                         ("review_replied", "seller", False)]
    assert [e.kind for e in OutboxEvent.select().order_by(OutboxEvent.id)] \
        == ["reviewed", "review_edited", "review_replied"]
    edited = OrderEvent.get(OrderEvent.kind == "review_edited")
    assert (edited.before, edited.after) == ("3", "5")


def make_review(buyer, shop, rating: int, **kwargs) -> Review:
    return reviews.write(make_order(buyer, shop, status="delivered"), buyer=buyer,
                         rating=rating, **kwargs)


def test_the_average_and_distribution_count_the_shops_reviews_only(buyer, shop, shop2):
    assert reviews.summary(shop.id).average is None
    for rating in (5, 5, 4, 1):
        make_review(buyer, shop, rating)
    make_review(buyer, shop2, 1)
    figures = reviews.summary(shop.id)
    assert (figures.count, figures.average) == (4, 3.8)
    assert list(figures.distribution.items()) == [(5, 2), (4, 1), (3, 0), (2, 0), (1, 1)]
    assert [figures.share(r) for r in (5, 4, 3, 1)] == [50, 25, 0, 25]
    assert reviews.summary(shop2.id).average == 1.0


# -- the buyer's page ---------------------------------------------------------------

def test_the_buyer_reviews_from_the_order_page_without_javascript(client, auth, buyer, shop):
    auth.login()
    shipped = make_order(buyer, shop, status="shipped")
    assert 'action="/orders/%s/review"' % shipped.number \
        not in client.get(f"/orders/{shipped.number}").get_data(as_text=True)
    order = make_order(buyer, shop, status="delivered")
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert f'action="/orders/{order.number}/review"' in page and "How was it?" in page

    response = client.post(f"/orders/{order.number}/review",
                           data={"rating": "4", "text": "Soft <b>linen</b>."})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/orders/{order.number}#review")
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "4 of 5 stars" in page and "Soft &lt;b&gt;linen&lt;/b&gt;." in page
    assert "Reviewed the order: 4 of 5 stars" in page  # on the timeline
    assert "Change your review" in page

    assert client.post(f"/orders/{order.number}/review",
                       data={"rating": "2", "text": ""}).status_code == 303
    assert [(r.rating, r.text) for r in Review.select()] == [(2, "")]


def test_review_form_errors_stand_beside_their_fields(client, auth, buyer, shop):
    auth.login()
    order = make_order(buyer, shop, status="delivered")
    for data, message in (({"text": "No stars"}, "Choose a rating from 1 to 5 stars."),
                          ({"rating": "9"}, "Not a valid choice"),
                          ({"rating": "²"}, "Invalid Choice"),
                          ({"rating": "3", "text": "x" * 2001}, "2,000 characters at most.")):
        for headers in ({}, HX):
            response = client.post(f"/orders/{order.number}/review", data=data,
                                   headers=headers)
            assert response.status_code == 422, (data, headers)
            body = response.get_data(as_text=True)
            assert re.search(r'class="error" id="[\w-]+-error">[^<]*' + re.escape(message[:12]),
                             body), (data, body[-2000:])
            assert body.lstrip().startswith("<section") == bool(headers)
    assert Review.select().count() == 0


def test_with_htmx_the_review_block_comes_back_in_place(client, auth, buyer, shop):
    auth.login()
    order = make_order(buyer, shop, status="delivered")
    response = client.post(f"/orders/{order.number}/review", data={"rating": "5"}, headers=HX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section class="card" id="review"')
    assert "Thank you: your review is on the shop&#39;s page." in body
    assert "5 of 5 stars" in body and "<html" not in body


def test_after_30_days_the_review_stays_and_the_form_goes(client, auth, buyer, shop):
    auth.login()
    order = make_order(buyer, shop, status="delivered")
    reviews.write(order, buyer=buyer, rating=3, text="Okay.",
                  now=utcnow() - timedelta(days=30, seconds=5))
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "Okay." in page and f"/orders/{order.number}/review" not in page
    assert "A review can be changed for 30 days" in page
    response = client.post(f"/orders/{order.number}/review", data={"rating": "5"})
    assert response.status_code == 422
    assert "A review can be changed for 30 days" in response.get_data(as_text=True)
    assert Review.get().rating == 3


def test_no_one_but_the_buyer_reviews_the_order(app, client, auth, buyer, buyer2, shop,
                                                seller):
    order = make_order(buyer, shop, status="delivered")
    url = f"/orders/{order.number}/review"
    assert "/login" in client.post(url, data={"rating": "1"}).headers["Location"]
    for email in (BUYER2, SELLER):
        auth.login(email)
        assert client.post(url, data={"rating": "1"}).status_code == 404
        auth.logout()
    auth.login()
    assert client.post("/orders/NOPE0-NOPE0/review", data={"rating": "1"}).status_code == 404
    assert Review.select().count() == 0


def test_review_and_reply_forms_need_csrf(csrf_app, buyer, seller, shop):
    order = make_order(buyer, shop, status="delivered")
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": "buyer@example.com", "password": PASSWORD,
                                "csrf_token": token})
    assert client.post(f"/orders/{order.number}/review", data={"rating": "5"}).status_code == 400
    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post(f"/orders/{order.number}/review",
                       data={"rating": "5", "csrf_token": token}).status_code == 303
    seller_client = csrf_app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      seller_client.get("/login").get_data(as_text=True)).group(1)
    seller_client.post("/login", data={"email": SELLER, "password": PASSWORD,
                                       "csrf_token": token})
    assert seller_client.post(f"/seller/orders/{order.number}/reply",
                              data={"reply": "Thanks"}).status_code == 400
    assert Review.get().reply is None


# -- the seller's pages -------------------------------------------------------------

def test_the_seller_replies_from_the_order_page(client, auth, buyer, shop):
    order = make_order(buyer, shop, status="delivered")
    reviews.write(order, buyer=buyer, rating=2, text="Arrived creased.")
    auth.login(SELLER)
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "Arrived creased." in page and f"/seller/orders/{order.number}/reply" in page

    empty = client.post(f"/seller/orders/{order.number}/reply", data={"reply": " "})
    assert empty.status_code == 422
    assert 'id="reply-%s-error">Write the reply first.' % order.number \
        in empty.get_data(as_text=True)

    response = client.post(f"/seller/orders/{order.number}/reply",
                           data={"reply": "Sorry! A steam helps.",
                                 "back": f"/seller/orders/{order.number}"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/seller/orders/{order.number}")
    page = client.get(f"/seller/orders/{order.number}").get_data(as_text=True)
    assert "Sorry! A steam helps." in page and f"/seller/orders/{order.number}/reply" not in page

    again = client.post(f"/seller/orders/{order.number}/reply", data={"reply": "Again"})
    assert again.status_code == 409
    assert "already replied" in again.get_data(as_text=True)
    assert Review.get().reply == "Sorry! A steam helps."
    auth.logout()
    auth.login()  # the buyer sees the reply on their order
    assert "Sorry! A steam helps." in client.get(f"/orders/{order.number}").get_data(as_text=True)


def test_with_htmx_the_order_pages_review_block_comes_back_in_place(client, auth, buyer,
                                                                     shop):
    order = make_order(buyer, shop, status="delivered")
    reviews.write(order, buyer=buyer, rating=5, text="Great.")
    auth.login(SELLER)
    url, target = f"/seller/orders/{order.number}/reply", {**HX, "HX-Target": "review"}
    bad = client.post(url, data={"reply": ""}, headers=target)
    assert bad.status_code == 422
    assert bad.get_data(as_text=True).lstrip().startswith('<section class="card" id="review"')
    assert "Write the reply first." in bad.get_data(as_text=True)
    done = client.post(url, data={"reply": "Thanks!"}, headers=target)
    body = done.get_data(as_text=True)
    assert done.status_code == 200 and body.lstrip().startswith('<section class="card" id="review"')
    assert "Thanks!" in body and url not in body  # the reply, and no second form
    again = client.post(url, data={"reply": "Again"}, headers=target)
    assert again.status_code == 409 and "already replied" in again.get_data(as_text=True)


def test_the_seller_replies_from_the_list_in_place_or_with_a_303(client, auth, buyer, shop):
    first = make_review(buyer, shop, 5, text="Perfect.")
    second = make_review(buyer, shop, 1, text="Wrong size.")
    auth.login(SELLER)
    page = client.get("/seller/reviews").get_data(as_text=True)
    assert "Perfect." in page and "Wrong size." in page
    number = first.order.number
    response = client.post(f"/seller/orders/{number}/reply",
                           data={"reply": "Thank you!", "back": "/seller/reviews?unanswered=1"},
                           headers={**HX, "HX-Target": f"review-{first.id}"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<li class="review-row card" id="review-{first.id}"')
    assert "Thank you!" in body and "Your reply is posted." in body

    number = second.order.number
    bad = client.post(f"/seller/orders/{number}/reply",
                      data={"reply": "x" * 2001, "back": "/seller/reviews?unanswered=1"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "2,000 characters at most." in body and "Reviews" in body  # the list, again
    done = client.post(f"/seller/orders/{number}/reply",
                       data={"reply": "We'll swap it.", "back": "/seller/reviews?unanswered=1"})
    assert done.status_code == 303 and done.headers["Location"] == "/seller/reviews?unanswered=1"
    outside = client.post(f"/seller/orders/{make_review(buyer, shop, 3).order.number}/reply",
                          data={"reply": "Hi", "back": "https://evil.example/"})
    assert outside.status_code == 303 and "evil" not in outside.headers["Location"]
    assert "Every review has your reply." in client.get("/seller/reviews?unanswered=1") \
        .get_data(as_text=True)


def test_reviews_page_shows_the_average_and_the_distribution_as_text(client, auth, buyer,
                                                                      shop):
    auth.login(SELLER)
    assert "No reviews yet." in client.get("/seller/reviews").get_data(as_text=True)
    for rating in (5, 4, 4, 2):
        make_review(buyer, shop, rating)
    page = client.get("/seller/reviews").get_data(as_text=True)
    assert "<strong>3.8</strong> out of 5 · 4 reviews" in page
    rows = re.findall(r'<tr><th scope="row">(\d) stars?</th><td class="num">(\d+)</td>'
                      r'<td class="num">(\d+)%</td>', page)
    assert rows == [("5", "1", "25"), ("4", "2", "50"), ("3", "0", "0"), ("2", "1", "25"),
                    ("1", "0", "0")]


def test_reviews_pages_follow_the_keyset(app, client, auth, buyer, shop):
    app.config["PAGE_SIZE"] = 2
    texts = [make_review(buyer, shop, 3, text=f"Review number {k}").text for k in range(5)]
    auth.login(SELLER)
    seen, url = [], "/seller/reviews"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += re.findall(r"Review number \d", page)
        found = re.search(r'href="([^"]+)" rel="next"', page)
        url = found and found.group(1).replace("&amp;", "&")
    assert seen == texts[::-1]
    for bad in ("abc", "-1", "²", "9" * 30):
        assert client.get(f"/seller/reviews?before={bad}").status_code == 400


def test_a_seller_sees_and_answers_only_their_shops_reviews(client, auth, buyer, shop, shop2):
    mine = make_review(buyer, shop, 5, text="Northwind review")
    theirs = make_review(buyer, shop2, 1, text="Harbour review")
    auth.login(SELLER2)
    page = client.get("/seller/reviews").get_data(as_text=True)
    assert "Harbour review" in page and "Northwind review" not in page
    assert client.post(f"/seller/orders/{mine.order.number}/reply",
                       data={"reply": "Hijack"}).status_code == 404
    assert client.post("/seller/orders/NOPE0-NOPE0/reply", data={"reply": "x"}).status_code == 404
    undelivered = make_order(buyer, shop2, status="shipped")
    assert client.post(f"/seller/orders/{undelivered.number}/reply",
                       data={"reply": "x"}).status_code == 404  # no review to reply to
    assert Review.get_by_id(mine.id).reply is None and Review.get_by_id(theirs.id).reply is None
    auth.logout()
    auth.login()  # a buyer: no Seller Center
    assert client.get("/seller/reviews").status_code == 404
    assert client.post(f"/seller/orders/{mine.order.number}/reply",
                       data={"reply": "x"}).status_code == 404
    auth.logout()
    assert "/login" in client.get("/seller/reviews").headers["Location"]


def test_reviews_page_costs_the_same_for_2_or_30_reviews(app, client, auth, buyer, shop,
                                                         count_queries):
    app.config["PAGE_SIZE"] = 50
    buyers = [buyer] + [make_user(f"b{k}@example.com", name=f"B{k} Buyer") for k in range(3)]
    for k in range(2):
        make_review(buyers[k], shop, 4, text="ok")
    auth.login(SELLER)

    def cost(url):
        count_queries.statements.clear()
        assert client.get(url).status_code == 200
        return len(count_queries)

    two = {url: cost(url) for url in ("/seller/reviews", "/shops/northwind-threads")}
    for k in range(28):
        review = make_review(buyers[k % 4], shop, 1 + k % 5, text=f"r{k}")
        if k % 3:
            reviews.reply(review, shop=shop, seller=shop.owner, text="Thanks")
    outbox.take_written()  # the set-up's events are not the page's to deliver
    thirty = {url: cost(url) for url in two}
    assert thirty == two
    # user, shop, the figures (one GROUP BY), the page of reviews with their orders and buyers,
    # the nav's unread messages and notifications badges
    assert two["/seller/reviews"] <= 6
    # the shop, its products' page and figures, its rating, its latest reviews; signed in:
    # the user and the nav's two badges
    assert two["/shops/northwind-threads"] <= 7


def test_the_shop_page_shows_the_average_and_latest_reviews(client, buyer, shop):
    page = client.get("/shops/northwind-threads").get_data(as_text=True)
    assert "No reviews yet." in page
    make_review(buyer, shop, 5, text="Lovely shirts.")
    review = make_review(buyer, shop, 2, text="Slow.")
    reviews.reply(review, shop=shop, seller=shop.owner, text="Sorry, we were on holiday.")
    page = client.get("/shops/northwind-threads").get_data(as_text=True)
    assert "<strong>3.5</strong> out of 5 · 2 reviews" in page
    assert "Lovely shirts." in page and "Sorry, we were on holiday." in page
    assert page.index("Slow.") < page.index("Lovely shirts.")  # newest first
    assert "Bea" in page and "Bea Buyer" not in page  # first names only, in public


def test_the_demo_has_reviews_and_replies_and_leaves_the_buyer_some_to_write(app, runner):
    assert runner.invoke(args=["seed-demo", "--orders", "300"]).exit_code == 0
    seller = User.get(User.email == SELLER)
    shop = Shop.get(Shop.owner == seller.id)
    figures = reviews.summary(shop.id)
    assert figures.count >= 5 and figures.average is not None
    assert Review.select().where(Review.reply.is_null(False)).count() >= 2
    assert OrderEvent.select().where(OrderEvent.kind == "reviewed").count() \
        == Review.select().count()
    bea = User.get(User.email == "buyer@example.com")
    unreviewed = (Order.select().where((Order.buyer == bea.id) & (Order.status == "delivered")
                                       & Order.id.not_in(Review.select(Review.order))))
    assert unreviewed.exists()
