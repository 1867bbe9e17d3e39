"""Plain carrier pushes are answered before Flask (portal.web.webhooks.BareRoute): the same
answers as the Flask view, the security headers, and no session, cookie or user load."""

import io
import json

import pytest

from portal.models import WebhookReceipt
from portal.testing import easypost_event, enable, make_shipped_order, signed_post
from portal.web.security import SECURITY_HEADERS
from portal.web.webhooks import BareRoute

NUMBER = "9405511899223197428490"


@pytest.fixture
def parcel(shop):
    enable(shop, "easypost")
    return make_shipped_order(shop, "easypost", NUMBER)


def _environ(path: str, query: str, body: bytes, headers: dict) -> dict:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": query,
               "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(),
               "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
               "wsgi.version": (1, 0), "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": "application/json"}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    return environ


def _call(wsgi_app, environ) -> tuple[str, dict, bytes]:
    got = {}

    def start_response(status, headers, exc_info=None):
        got["status"], got["headers"] = status, dict(headers)

    body = b"".join(wsgi_app(environ, start_response))
    return got["status"], got["headers"], body


def _cases(shop):
    from portal.hooks.shop_plugins import for_shop
    from portal.plugins.easypost import sign
    secret = for_shop(shop).secret("easypost")
    ok = json.dumps(easypost_event(NUMBER, [("in_transit", "Sorted")], event_id="evt_R")).encode()
    other = json.dumps(easypost_event(NUMBER, [("in_transit", "Sorted")], event_id="evt_S")).encode()
    signed = {"X-Hmac-Signature": sign(secret, ok)}
    return [  # (name, path, query, body, headers)
        ("taken in", "/webhooks/carriers/easypost", f"shop={shop.slug}", ok, signed),
        ("taken in before", "/webhooks/carriers/easypost", f"shop={shop.slug}", ok, signed),
        ("bad signature", "/webhooks/carriers/easypost", f"shop={shop.slug}", other, signed),
        ("no shop", "/webhooks/carriers/easypost", "", ok, signed),
        ("unknown shop", "/webhooks/carriers/easypost", "shop=nope&shop=" + shop.slug, ok, signed),
        ("other carrier", "/webhooks/carriers/ups", f"shop={shop.slug}", ok, signed),
        ("too large", "/webhooks/carriers/easypost", f"shop={shop.slug}", b"x" * (1024 * 1024 + 1),
         signed),
    ]


def test_the_bare_route_answers_as_the_flask_view_does(app, shop, parcel):
    bare = app.wsgi_app
    assert isinstance(bare, BareRoute)
    flask_view = bare.wsgi_app  # the app behind it: routing, the view, Flask's headers
    answers = {}
    for via in ("flask", "bare"):
        WebhookReceipt.delete().execute()
        for name, path, query, body, headers in _cases(shop):
            environ = _environ(path, query, body, headers)
            status, got, text = _call(flask_view if via == "flask" else bare, environ)
            got.pop("Vary", None)  # Flask's session says "Vary: Cookie"; no cookie is read here
            answers.setdefault(name, []).append((status, got, text))
    for name, (flask_answer, bare_answer) in answers.items():
        assert bare_answer == flask_answer, name
    assert answers["taken in"][0][0] == "200 OK"
    assert answers["taken in before"][0][2].startswith(b'{"message":"Event evt_R was taken in before')
    assert [answers[n][0][0][:3] for n in ("bad signature", "no shop", "unknown shop",
                                           "other carrier", "too large")] == [
        "401", "404", "404", "404", "413"]


def test_a_push_sets_no_cookie_and_loads_no_user(client, auth, shop, parcel, monkeypatch):
    auth.login()  # a client with a session cookie: the push must neither read nor renew it
    from portal.web.extensions import login_manager
    loads = []
    original = login_manager._user_callback
    monkeypatch.setattr(login_manager, "_user_callback", lambda *a: loads.append(a) or original(*a))
    response = signed_post(client, "easypost", shop,
                           easypost_event(NUMBER, [("in_transit", "Sorted")], event_id="evt_C"))
    assert response.status_code == 200 and response.json["new_events"] == 1
    assert "Set-Cookie" not in response.headers and "Vary" not in response.headers
    assert loads == []
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert WebhookReceipt.select().count() == 1


def test_unusual_requests_go_on_to_flask(client, shop, parcel):
    path = f"/webhooks/carriers/easypost?shop={shop.slug}"
    assert client.get(path).status_code == 405
    assert client.post(path + "%00", data=b"{}", content_type="application/json").status_code == 400
    # A code the bare route does not match is Flask's to route: an unknown carrier, a 404.
    response = client.post(f"/webhooks/carriers/%C3%A9?shop={shop.slug}", data=b"{}",
                           content_type="application/json")
    assert response.status_code == 404 and response.is_json
    assert WebhookReceipt.select().count() == 0


def test_a_failure_inside_is_a_500_for_the_carrier_to_retry(app, shop, parcel, monkeypatch):
    from portal.shipping import carrier_webhooks

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(carrier_webhooks, "receive", broken)
    monkeypatch.setattr(app, "testing", False)
    status, headers, body = _call(app.wsgi_app, _environ(
        "/webhooks/carriers/easypost", f"shop={shop.slug}", b"{}", {}))
    assert status.startswith("500") and b"please retry later" in body
    assert headers["X-Frame-Options"] == "DENY"
