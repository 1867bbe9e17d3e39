"""/account (name, password, e-mail, saved addresses) and the forgotten-password link."""

import re
from datetime import timedelta

import pytest

from portal import account_links
from portal.models import AccountLink, Address, User
from tests.factories import PASSWORD

NEW_PASSWORD = "a-brand-new-secret"
US_ADDRESS = dict(name="Bea Buyer", line1="1 Main St", line2="", city="Springfield",
                  region="IL", postal_code="62701", country="US", phone="")


@pytest.fixture
def mails(caplog):
    """The messages portal.mail.send wrote, as (to, subject, text)."""
    caplog.set_level("INFO", logger="portal.mail")

    def read():
        found = []
        for record in caplog.records:
            if record.name == "portal.mail":
                to, subject, text = record.args
                found.append((to, subject, text))
        return found
    return read


def _link(text: str) -> str:
    """The path of the one link in a message."""
    return re.search(r"http://localhost(/\S+)", text).group(1)


def _logged_in(app, email="buyer@example.com", password=PASSWORD, remember=False):
    client = app.test_client()
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 303
    return client


def _age_links(minutes: int) -> None:
    """Every link as if it had been sent ``minutes`` earlier."""
    for row in AccountLink.select():
        AccountLink.update(created_at=row.created_at - timedelta(minutes=minutes),
                           expires_at=row.expires_at - timedelta(minutes=minutes)).where(
            AccountLink.id == row.id).execute()


def _logs_in(app, email, password) -> bool:
    return app.test_client().post("/login", data={"email": email,
                                                  "password": password}).status_code == 303


# -- access -----------------------------------------------------------------------------

@pytest.mark.parametrize("method, url", [
    ("get", "/account"), ("post", "/account/name"), ("post", "/account/password"),
    ("post", "/account/email"), ("get", "/account/addresses/new"),
    ("post", "/account/addresses/new"), ("get", "/account/addresses/1"),
    ("post", "/account/addresses/1"), ("post", "/account/addresses/1/delete"),
])
def test_anonymous_visitors_are_sent_to_log_in(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_nav_links_to_the_account(app, buyer):
    page = _logged_in(app).get("/orders").get_data(as_text=True)
    assert 'href="/account"' in page and ">Account</a>" in page


def test_every_account_form_needs_its_csrf_token(csrf_app, buyer):
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": "buyer@example.com", "password": PASSWORD,
                                "csrf_token": token})
    for url in ("/account/name", "/account/password", "/account/email", "/account/addresses/new",
                "/password/forgot"):
        assert client.post(url, data={"name": "X"}).status_code == 400, url
    assert User.get_by_id(buyer.id).name == "Bea Buyer"


def test_the_link_pages_need_their_csrf_token(csrf_app, buyer):
    user = User.get_by_id(buyer.id)
    reset = account_links.issue(user, account_links.PASSWORD_RESET)
    change = account_links.issue(user, account_links.EMAIL_CHANGE, new_email="new@example.com")
    client = csrf_app.test_client()
    assert client.post(f"/password/reset/{reset}", data={
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 400
    assert client.post(f"/account/email/{change}").status_code == 400
    assert User.get_by_id(buyer.id).email == "buyer@example.com"
    page = client.get(f"/account/email/{change}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/account/email/{change}", data={"csrf_token": token}).status_code == 303
    assert User.get_by_id(buyer.id).email == "new@example.com"


# -- name ---------------------------------------------------------------------------------

def test_change_name(app, buyer):
    client = _logged_in(app)
    response = client.post("/account/name", data={"name": "  Beatrice  "})
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert User.get_by_id(buyer.id).name == "Beatrice"
    assert "Beatrice" in client.get("/account").get_data(as_text=True)


def test_an_empty_name_is_refused_beside_the_field(app, buyer):
    response = _logged_in(app).post("/account/name", data={"name": "  "})
    assert response.status_code == 422
    assert 'id="name-error"' in response.get_data(as_text=True)
    assert User.get_by_id(buyer.id).name == "Bea Buyer"


# -- password -----------------------------------------------------------------------------

def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(app, buyer, mails):
    laptop, phone = _logged_in(app), _logged_in(app, remember=True)
    remembered = phone._cookies[("localhost", "/", "remember_token")].value
    response = laptop.post("/account/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert laptop.get("/account").status_code == 200  # still logged in here
    assert phone.get("/account").status_code == 302  # the other device is logged out
    cookie_only = app.test_client()
    cookie_only.set_cookie("remember_token", remembered)
    assert cookie_only.get("/account").status_code == 302  # and its remember cookie is dead
    assert not _logs_in(app, "buyer@example.com", PASSWORD)
    assert _logs_in(app, "buyer@example.com", NEW_PASSWORD)
    assert User.get_by_id(buyer.id).password_hash.startswith("$argon2id$")
    assert [(to, subject) for to, subject, _ in mails()] == [
        ("buyer@example.com", "Your password was changed")]


def test_a_remembered_browser_stays_remembered_after_its_password_change(app, buyer):
    client = _logged_in(app, remember=True)
    client.post("/account/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    cookie = client._cookies[("localhost", "/", "remember_token")].value
    fresh = app.test_client()
    fresh.set_cookie("remember_token", cookie)
    assert fresh.get("/account").status_code == 200


@pytest.mark.parametrize("data, field, message", [
    ({"current_password": "wrong-password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
     "current_password", "not your current password"),
    ({"current_password": PASSWORD, "password": "short", "confirm": "short"},
     "password", "at least 10 characters"),
    ({"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": "something-else"},
     "confirm", "The two passwords differ"),
])
def test_a_refused_password_change_says_why_beside_the_field(app, buyer, data, field, message):
    client = _logged_in(app)
    other = _logged_in(app)
    response = client.post("/account/password", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert _logs_in(app, "buyer@example.com", PASSWORD)
    assert other.get("/account").status_code == 200  # nothing ended


def test_wrong_current_passwords_count_towards_the_throttle(app, buyer):
    client = _logged_in(app)
    for _ in range(10):
        client.post("/account/password", data={"current_password": "guess-guess",
                                                "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 422
    assert "Too many wrong passwords" in response.get_data(as_text=True)
    assert not _logs_in(app, "buyer@example.com", NEW_PASSWORD)


# -- saved addresses ----------------------------------------------------------------------

def test_add_edit_delete_an_address(app, buyer):
    client = _logged_in(app)
    assert "No saved addresses yet" in client.get("/account").get_data(as_text=True)
    response = client.post("/account/addresses/new", data={**US_ADDRESS, "region": "il",
                                                           "phone": "(217) 555-0134"})
    assert response.status_code == 303
    row = Address.get(Address.user == buyer.id)
    assert (row.full_name, row.region, row.phone) == ("Bea Buyer", "IL", "+12175550134")
    assert "1 Main St" in client.get("/account").get_data(as_text=True)

    page = client.get(f"/account/addresses/{row.id}").get_data(as_text=True)
    assert 'value="1 Main St"' in page
    response = client.post(f"/account/addresses/{row.id}", data={**US_ADDRESS,
                                                                "line1": "2 Oak Ave"})
    assert response.status_code == 303
    assert Address.get_by_id(row.id).line1 == "2 Oak Ave"

    assert client.post(f"/account/addresses/{row.id}/delete").status_code == 303
    assert not Address.select().where(Address.user == buyer.id).exists()


def test_checkout_offers_the_saved_addresses(app, buyer, shop):
    from portal import cart
    from tests.factories import make_variant
    client = _logged_in(app)
    client.post("/account/addresses/new", data={**US_ADDRESS, "line1": "77 Saved Road"})
    cart.add(buyer, make_variant(shop).id, 1)
    page = client.get(f"/checkout/{shop.slug}").get_data(as_text=True)
    assert "77 Saved Road" in page


@pytest.mark.parametrize("change, field, message", [
    ({"postal_code": "ABCDE"}, "postal_code", "does not look right for an address in United States"),
    ({"city": ""}, "city", "needed for an address in United States"),
    ({"name": ""}, "name", "Who should receive the parcel?"),
    ({"phone": "12"}, "phone", "phone number"),
    ({"country": "XX"}, "country", ""),
])
def test_a_wrong_address_is_refused_beside_its_field(app, buyer, change, field, message):
    response = _logged_in(app).post("/account/addresses/new", data={**US_ADDRESS, **change})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert not Address.select().exists()


def test_an_edit_with_errors_keeps_the_address(app, buyer):
    client = _logged_in(app)
    client.post("/account/addresses/new", data=US_ADDRESS)
    row = Address.get()
    response = client.post(f"/account/addresses/{row.id}", data={**US_ADDRESS, "postal_code": "X"})
    assert response.status_code == 422
    assert Address.get_by_id(row.id).postal_code == "62701"


def test_nobody_reads_changes_or_deletes_another_buyers_address(app, buyer, buyer2):
    theirs = Address.create(user=buyer2.id, full_name="Ben", line1="9 Elm St", city="Springfield",
                            region="IL", postal_code="62701", country="US")
    client = _logged_in(app)
    assert client.get(f"/account/addresses/{theirs.id}").status_code == 404
    assert client.post(f"/account/addresses/{theirs.id}", data=US_ADDRESS).status_code == 404
    assert client.post(f"/account/addresses/{theirs.id}/delete").status_code == 404
    assert "9 Elm St" not in client.get("/account").get_data(as_text=True)
    assert Address.get_by_id(theirs.id).line1 == "9 Elm St"
    for huge in (2**31, 2**63, 2**70):  # beyond any database integer: not found either
        assert client.get(f"/account/addresses/{huge}").status_code == 404
        assert client.post(f"/account/addresses/{huge}/delete").status_code == 404


def test_at_most_twenty_addresses(app, buyer):
    for i in range(20):
        Address.create(user=buyer.id, full_name="B", line1=f"{i} Main St", city="Springfield",
                       region="IL", postal_code="62701", country="US")
    response = _logged_in(app).post("/account/addresses/new", data=US_ADDRESS)
    assert response.status_code == 409
    assert Address.select().count() == 20


def test_the_address_list_takes_no_query_per_address(app, buyer, count_queries):
    client = _logged_in(app)
    count_queries.statements.clear()
    client.get("/account")
    one = len(count_queries)
    for i in range(5):
        Address.create(user=buyer.id, full_name="B", line1=f"{i} Main St", city="Springfield",
                       region="IL", postal_code="62701", country="US")
    count_queries.statements.clear()
    client.get("/account")
    assert len(count_queries) == one


# -- forgotten password -------------------------------------------------------------------

SENT = "If an account exists for that address"


def _forgot(client, email):
    response = client.post("/password/forgot", data={"email": email})
    assert response.status_code == 303
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(app, buyer, mails):
    logged_in = _logged_in(app)
    anonymous = app.test_client()
    assert SENT in _forgot(anonymous, "Buyer@Example.com ")
    (to, subject, text), = mails()
    assert to == "buyer@example.com"
    link = _link(text)
    # The database keeps only a hash of the token.
    token = link.rsplit("/", 1)[1]
    assert token not in {row.token_hash for row in AccountLink.select()}

    assert anonymous.get(link).status_code == 200  # opening it changes nothing
    response = anonymous.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert _logs_in(app, "buyer@example.com", NEW_PASSWORD)
    assert not _logs_in(app, "buyer@example.com", PASSWORD)
    assert logged_in.get("/account").status_code == 302  # every session ended
    assert mails()[-1][:2] == ("buyer@example.com", "Your password was changed")

    # Used twice: refused, and the password stays.
    assert anonymous.get(link).status_code == 410
    response = anonymous.post(link, data={"password": "third-password!", "confirm":
                                          "third-password!"})
    assert response.status_code == 410
    assert "does not work any more" in response.get_data(as_text=True)
    assert _logs_in(app, "buyer@example.com", NEW_PASSWORD)


def test_a_reset_link_expires_after_an_hour(app, buyer, mails):
    _forgot(app.test_client(), "buyer@example.com")
    link = _link(mails()[0][2])
    _age_links(minutes=61)
    client = app.test_client()
    assert client.get(link).status_code == 410
    assert client.post(link, data={"password": NEW_PASSWORD,
                                   "confirm": NEW_PASSWORD}).status_code == 410
    assert _logs_in(app, "buyer@example.com", PASSWORD)


@pytest.mark.parametrize("token", ["wrong", "x" * 43, "%C2%B2", "a" * 3000])
def test_a_wrong_token_is_refused(app, buyer, token):
    client = app.test_client()
    assert client.get(f"/password/reset/{token}").status_code == 410
    assert client.post(f"/password/reset/{token}", data={
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 410
    assert _logs_in(app, "buyer@example.com", PASSWORD)


def test_a_new_password_on_the_reset_page_is_checked_like_registrations(app, buyer, mails):
    _forgot(app.test_client(), "buyer@example.com")
    link = _link(mails()[0][2])
    response = app.test_client().post(link, data={"password": "short", "confirm": "short"})
    assert response.status_code == 422
    assert "at least 10 characters" in response.get_data(as_text=True)
    assert app.test_client().get(link).status_code == 200  # not used up


def test_an_unknown_address_gets_the_same_answer_and_the_same_argon2_work(
        app, buyer, mails, monkeypatch):
    from argon2 import PasswordHasher
    calls = []
    for name in ("hash", "verify"):
        original = getattr(PasswordHasher, name)
        monkeypatch.setattr(PasswordHasher, name,
                            lambda self, *a, _o=original, _n=name, **k: (calls.append(_n),
                                                                         _o(self, *a, **k))[1])
    client = app.test_client()
    _forgot(client, "warm-up@example.com")  # the dummy hash is made once per app
    answers, costs = {}, {}
    for email in ("nobody@example.com", "buyer@example.com"):
        calls.clear()
        response = client.post("/password/forgot", data={"email": email})
        costs[email] = list(calls)
        # The page's signed CSRF token carries the second it was signed: not compared.
        page = re.sub(r'"X-CSRFToken": "[^"]*"', '"X-CSRFToken": "..."',
                      client.get(response.headers["Location"]).get_data(as_text=True))
        answers[email] = (response.status_code, response.headers["Location"], page)
    assert costs["nobody@example.com"] == costs["buyer@example.com"] == ["verify"]
    assert answers["nobody@example.com"] == answers["buyer@example.com"]
    assert SENT in answers["nobody@example.com"][2]
    assert [to for to, _, _ in mails()] == ["buyer@example.com"]


def test_forgot_password_is_rate_limited(app, buyer):
    app.config["PASSWORD_RESET_RATE_LIMIT"] = "2 per hour"
    client = app.test_client()
    for _ in range(2):
        assert client.post("/password/forgot",
                           data={"email": "nobody@example.com"}).status_code == 303
    assert client.post("/password/forgot", data={"email": "nobody@example.com"}).status_code == 429


def test_one_account_gets_at_most_three_links_an_hour_and_only_the_last_works(
        app, buyer, mails):
    client = app.test_client()
    for _ in range(5):
        assert SENT in _forgot(client, "buyer@example.com")
    assert len(mails()) == account_links.MAX_PER_HOUR
    first, *_, last = [_link(text) for _, _, text in mails()]
    assert client.get(first).status_code == 410
    assert client.get(last).status_code == 200


def test_login_page_links_to_forgot_password(client):
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)


# -- e-mail -------------------------------------------------------------------------------

def _ask_for_email(client, email, password=PASSWORD):
    return client.post("/account/email", data={"email": email, "email_password": password})


def test_a_new_email_counts_only_once_its_link_is_opened(app, buyer, mails):
    client = _logged_in(app)
    response = _ask_for_email(client, "Bea.New@Example.com")
    assert response.status_code == 303
    assert User.get_by_id(buyer.id).email == "buyer@example.com"  # not yet
    sent = {to: text for to, _, text in mails()}
    assert set(sent) == {"bea.new@example.com", "buyer@example.com"}  # the old one is told
    assert "bea.new@example.com" in sent["buyer@example.com"]
    link = _link(sent["bea.new@example.com"])
    assert "http" not in sent["buyer@example.com"]  # the old address gets no link

    assert client.get(link).status_code == 200
    assert User.get_by_id(buyer.id).email == "buyer@example.com"  # opening shows a button
    response = client.post(link)
    assert response.status_code == 303
    assert User.get_by_id(buyer.id).email == "bea.new@example.com"
    told = [(to, subject) for to, subject, _ in mails()][-1]
    assert told == ("buyer@example.com", "Your e-mail address was changed")
    assert _logs_in(app, "bea.new@example.com", PASSWORD)
    assert not _logs_in(app, "buyer@example.com", PASSWORD)
    assert client.post(link).status_code == 410  # single use


def test_a_new_email_ends_the_reset_links_sent_to_the_old_one(app, buyer, mails):
    _forgot(app.test_client(), "buyer@example.com")
    reset = _link(mails()[0][2])
    client = _logged_in(app)
    _ask_for_email(client, "new@example.com")
    confirm = _link(next(text for to, _, text in mails() if to == "new@example.com"))
    assert client.post(confirm).status_code == 303
    assert app.test_client().get(reset).status_code == 410


def test_an_email_link_expires_after_an_hour(app, buyer, mails):
    _ask_for_email(_logged_in(app), "new@example.com")
    link = _link(mails()[0][2])
    _age_links(minutes=61)
    assert app.test_client().post(link).status_code == 410
    assert User.get_by_id(buyer.id).email == "buyer@example.com"


def test_a_taken_address_is_refused_as_registration_refuses_it(app, buyer, buyer2, mails):
    response = _ask_for_email(_logged_in(app), "buyer2@example.com")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page
    assert "An account with this e-mail already exists." in page
    assert mails() == []


def test_an_address_taken_after_the_link_was_sent_is_refused(app, buyer, mails):
    from tests.factories import make_user
    _ask_for_email(_logged_in(app), "new@example.com")
    link = _link(mails()[0][2])
    make_user("new@example.com")
    response = app.test_client().post(link)
    assert response.status_code == 409
    assert User.get_by_id(buyer.id).email == "buyer@example.com"


def test_an_email_change_needs_the_current_password(app, buyer, mails):
    response = _ask_for_email(_logged_in(app), "new@example.com", password="not-my-password")
    assert response.status_code == 422
    assert 'id="email_password-error"' in response.get_data(as_text=True)
    assert mails() == []


@pytest.mark.parametrize("email", ["not-an-address", "", "buyer@example.com"])
def test_a_wrong_new_email_is_refused_beside_the_field(app, buyer, mails, email):
    response = _ask_for_email(_logged_in(app), email)
    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert mails() == []


def test_a_wrong_email_token_is_refused(app, buyer):
    client = _logged_in(app)
    assert client.get("/account/email/nope").status_code == 410
    assert client.post("/account/email/nope").status_code == 410
    # A password-reset token does not confirm an e-mail change (nor the other way round).
    token = account_links.issue(User.get_by_id(buyer.id), account_links.PASSWORD_RESET)
    assert client.post(f"/account/email/{token}").status_code == 410


def test_a_reset_link_goes_over_smtp_when_a_server_is_set(app, client, buyer):
    """With PORTAL_SMTP_URL set, account e-mail leaves through the worker's send_mail task
    to a real SMTP server (here aiosmtpd on loopback), not to the log."""
    from tests.test_notifications import Inbox, free_port
    from aiosmtpd.controller import Controller
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
        client.post("/password/forgot", data={"email": buyer.email})
    finally:
        controller.stop()
    [(to, message)] = handler.messages
    assert to == [buyer.email] and "/password/reset/" in message.get_content()
    assert message["Subject"] == "Choose a new password"
