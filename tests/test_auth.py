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
