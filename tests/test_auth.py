import re

from portal.models import User
from tests.factories import PASSWORD


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_register_logs_in_and_stores_an_argon2_hash(client):
    response = client.post("/register", data={
        "name": "Nia New", "email": " Nia@Example.com ", "password": "long-enough-pw",
        "confirm": "long-enough-pw"})
    assert response.status_code == 303 and response.headers["Location"] == "/orders"
    user = User.get(User.email == "nia@example.com")
    assert user.password_hash.startswith("$argon2id$")
    assert "long-enough-pw" not in user.password_hash
    assert client.get("/orders").status_code == 200


def test_register_shows_each_problem_next_to_its_field(client, buyer):
    response = client.post("/register", data={
        "name": "", "email": "buyer@example.com", "password": "short", "confirm": "other"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="password-error">Use at least 10 characters.' in html
    assert 'id="confirm-error">The two passwords differ.' in html
    assert 'id="name-error">This field is required.' in html

    response = client.post("/register", data={
        "name": "Again", "email": "BUYER@example.com", "password": "long-enough-pw",
        "confirm": "long-enough-pw"})
    assert "An account with this e-mail already exists" in response.get_data(as_text=True)
    assert User.select().count() == 1


def test_login_and_logout(client, auth, buyer):
    response = auth.login()
    assert response.status_code == 303 and response.headers["Location"] == "/orders"
    assert "Bea Buyer" in client.get("/orders").get_data(as_text=True)
    assert auth.logout().status_code == 303
    assert client.get("/orders").status_code == 302


def test_wrong_password_says_so_without_telling_which_part_was_wrong(client, auth, buyer):
    for email, password in (("buyer@example.com", "wrong"), ("nobody@example.com", PASSWORD)):
        response = auth.login(email, password)
        assert response.status_code == 422
        assert "That e-mail and password do not match an account." in response.get_data(as_text=True)


def test_login_only_follows_same_site_next_links(client, auth, buyer):
    ok = client.post("/login?next=/orders?status=shipped",
                     data={"email": "buyer@example.com", "password": PASSWORD})
    assert ok.headers["Location"] == "/orders?status=shipped"
    auth.logout()
    for evil in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(f"/login?next={evil}",
                               data={"email": "buyer@example.com", "password": PASSWORD})
        assert response.headers["Location"] == "/orders"
        auth.logout()


def test_login_is_rate_limited(app, buyer):
    client = app.test_client()
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    codes = [client.post("/login", data={"email": "buyer@example.com", "password": "bad"},
                         environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code
             for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    page = client.post("/login", data={"email": "buyer@example.com", "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert page.status_code == 429
    assert "Too many login attempts" in page.get_data(as_text=True)
    # Another address is not held back by the first one's attempts.
    other = client.post("/login", data={"email": "buyer@example.com", "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "203.0.113.10"})
    assert other.status_code == 303


def test_every_form_needs_its_csrf_token(csrf_app, buyer):
    client = csrf_app.test_client()
    refused = client.post("/login", data={"email": "buyer@example.com", "password": PASSWORD})
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)

    token = csrf_token(client.get("/login").get_data(as_text=True))
    accepted = client.post("/login", data={"email": "buyer@example.com", "password": PASSWORD,
                                           "csrf_token": token})
    assert accepted.status_code == 303
    # Logging out is a form post too: without the token nothing happens.
    assert client.post("/logout").status_code == 400
    assert client.get("/orders").status_code == 200


def test_session_cookie_is_httponly_and_samesite(client, auth, buyer):
    response = auth.login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# -- sessions end on log-out, everywhere ------------------------------------------

def _cookies(client) -> dict[str, str]:
    return {c.key: c.value for c in client._cookies.values()}


def _client_with(app, cookies: dict[str, str]):
    other = app.test_client()
    for key, value in cookies.items():
        other.set_cookie(key, value)
    return other


def test_log_out_ends_the_remember_cookie_too(app, client, buyer):
    client.post("/login", data={"email": "buyer@example.com", "password": PASSWORD,
                                "remember": "y"})
    copied = _cookies(client)
    assert "remember_token" in copied and "session" in copied
    assert client.post("/logout").status_code == 303
    assert client.get("/orders").status_code == 302  # this browser is logged out
    # A copy of the session and remember cookies taken before the log-out is worthless.
    assert _client_with(app, copied).get("/orders").status_code == 302
    assert _client_with(app, {"remember_token": copied["remember_token"]}).get(
        "/orders").status_code == 302


def test_log_out_on_one_device_ends_the_others(app, buyer):
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        device.post("/login", data={"email": "buyer@example.com", "password": PASSWORD})
    assert laptop.get("/orders").status_code == 200
    phone.post("/logout")
    assert laptop.get("/orders").status_code == 302
    # Logging in again works and gives a new, working session.
    laptop.post("/login", data={"email": "buyer@example.com", "password": PASSWORD})
    assert laptop.get("/orders").status_code == 200


def test_a_new_session_token_ends_every_session(app, client, auth, buyer):
    from portal import accounts
    auth.login()
    assert client.get("/orders").status_code == 200
    accounts.end_all_sessions(User.get_by_id(buyer.id))  # what a password change calls
    assert client.get("/orders").status_code == 302


def test_old_style_and_forged_session_ids_are_refused(app, buyer):
    from portal import accounts
    accounts.start_session(buyer)
    assert accounts.user_for_session(f"{buyer.id}:{buyer.session_token}").id == buyer.id
    for forged in (str(buyer.id), f"{buyer.id}:", f"{buyer.id}:guess", "²:x", ":", ""):
        assert accounts.user_for_session(forged) is None


def test_keep_me_logged_in_lasts_thirty_days(client, buyer):
    from datetime import datetime, timedelta, timezone
    from email.utils import parsedate_to_datetime
    response = client.post("/login", data={"email": "buyer@example.com",
                                           "password": PASSWORD, "remember": "y"})
    cookie = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("remember_token="))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    days = (expires - datetime.now(timezone.utc)) / timedelta(days=1)
    assert 29.9 < days <= 30.01


# -- log-in attempts --------------------------------------------------------------

def test_unknown_and_known_addresses_cost_the_same_argon2_work(app, client, buyer, monkeypatch):
    from argon2 import PasswordHasher
    calls = []
    for name in ("hash", "verify"):
        original = getattr(PasswordHasher, name)
        monkeypatch.setattr(PasswordHasher, name,
                            lambda self, *a, _o=original, _n=name, **k: (calls.append(_n),
                                                                         _o(self, *a, **k))[1])
    client.post("/login", data={"email": "nobody@example.com", "password": "x"})  # warm-up
    costs = {}
    for email in ("nobody@example.com", "buyer@example.com", "someone@example.com"):
        calls.clear()
        response = client.post("/login", data={"email": email, "password": "wrong-one"})
        assert response.status_code == 422
        costs[email] = list(calls)
    assert costs["nobody@example.com"] == costs["buyer@example.com"] == ["verify"]
    assert costs["someone@example.com"] == ["verify"]


def test_an_account_is_throttled_across_addresses_and_workers(app, database_url, buyer):
    from portal import create_app
    from tests.conftest import TEST_CONFIG
    client = app.test_client()
    for i in range(10):  # ten wrong passwords, each from another address
        response = client.post("/login", data={"email": "buyer@example.com", "password": "bad"},
                               environ_base={"REMOTE_ADDR": f"198.51.100.{i}"})
        assert response.status_code == 422
    # The right password from a fresh address, on another worker (another app), is held back.
    other_worker = create_app({**TEST_CONFIG, "DATABASE_URL": database_url}).test_client()
    response = other_worker.post("/login", data={"email": "buyer@example.com",
                                                 "password": PASSWORD},
                                 environ_base={"REMOTE_ADDR": "192.0.2.77"})
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert "Too many wrong passwords for this e-mail address" in response.get_data(as_text=True)
    # Other accounts are not affected.
    assert other_worker.post("/login", data={"email": "buyer2@example.com", "password": "bad"},
                             environ_base={"REMOTE_ADDR": "192.0.2.77"}).status_code == 422


def test_the_throttle_forgets_after_its_window(app, buyer):
    from datetime import timedelta
    from portal import accounts
    from portal.models import utcnow
    long_ago = utcnow() - timedelta(minutes=16)
    for _ in range(10):
        accounts.login_failed("buyer@example.com", now=long_ago)
    assert accounts.throttled("buyer@example.com") is None
    now = utcnow()
    for _ in range(10):
        accounts.login_failed("buyer@example.com", now=now)
    held = accounts.throttled("buyer@example.com", now=now)
    assert held and 14 * 60 <= held.retry_after <= 15 * 60 + 1


def test_the_address_limit_says_when_to_retry(app, buyer):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    client = app.test_client()
    codes = [client.post("/login", data={"email": "buyer@example.com", "password": "bad"},
                         environ_base={"REMOTE_ADDR": "203.0.113.50"}) for _ in range(3)]
    assert [r.status_code for r in codes] == [422, 422, 429]
    assert 0 < int(codes[-1].headers["Retry-After"]) <= 60


def test_registration_is_rate_limited(app):
    app.config["REGISTER_RATE_LIMIT"] = "2 per hour"
    client = app.test_client()
    codes = []
    for i in range(3):
        codes.append(client.post("/register", data={
            "name": "N", "email": f"n{i}@example.com", "password": "long-enough-pw",
            "confirm": "long-enough-pw"}, environ_base={"REMOTE_ADDR": "203.0.113.60"}
        ).status_code)
        client.post("/logout")
    assert codes == [303, 303, 429]
