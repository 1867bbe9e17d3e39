"""``/webhooks/carriers/<code>``: carriers push tracking news here (no session, no CSRF:
the carrier's HMAC signature is the proof, checked by its plugin).

A plain push (``POST``, a carrier code of letters, digits, ``_.-``, a Content-Length)
is answered by :class:`BareRoute`, a WSGI middleware in front of Flask: none of the
request machinery a page needs (session, Flask-Login, the limiter, CSRF, URL routing)
runs for it, which was about 40 % of taking a push in. It answers what the view below
answers, with the same security headers. Anything else (another method, an odd path
or query, no Content-Length) goes on to Flask and that view, so the answers of the
unusual cases (405, 400 for a NUL, 413) stay Flask's.
"""

import logging
import re
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.http import HTTP_STATUS_CODES

from portal import db
from portal.shipping import carrier_webhooks
from portal.web.extensions import csrf
from portal.web.security import headers_for

log = logging.getLogger("portal.webhooks")

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)

_PATH = re.compile(r"/webhooks/carriers/([A-Za-z0-9_.-]{1,80})")


@bp.post("/carriers/<code>")
def carrier_push(code: str):
    if (request.content_length or 0) > carrier_webhooks.MAX_BODY:
        return jsonify(message="The body is too large.", new_events=0), 413
    # Each process keeps the shops' webhook set-ups it read (checked against a stamp).
    setups = current_app.extensions.setdefault("portal.webhook_setups", {})
    answer = carrier_webhooks.receive(code, request.args.get("shop", ""), dict(request.headers),
                                      request.get_data(cache=False), setups=setups)
    return jsonify(message=answer.message, new_events=answer.new_events), answer.status


class BareRoute:
    """WSGI middleware answering plain carrier pushes before Flask (see the module)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        self.headers = list(headers_for(app).items())

    def __call__(self, environ, start_response):
        plain = (environ.get("REQUEST_METHOD") == "POST"
                 and (match := _PATH.fullmatch(environ.get("PATH_INFO", ""))) is not None
                 and environ.get("CONTENT_LENGTH", "").isdigit())
        query = _query(environ.get("QUERY_STRING", "")) if plain else None
        if query is None:
            return self.wsgi_app(environ, start_response)
        status, body = self.answer(match.group(1), query.get("shop", ""), environ)
        # The status line as Flask's responses write it ("404 NOT FOUND").
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
            *self.headers])
        return [body]

    def answer(self, code: str, shop: str, environ) -> tuple[int, bytes]:
        length = int(environ["CONTENT_LENGTH"])
        if length > carrier_webhooks.MAX_BODY:
            return self._json(413, "The body is too large.", 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = _headers(environ)
        with self.app.app_context():  # the app's database and plugins, as in a request
            after_commit = self.app.extensions.get("portal.after_commit")
            try:
                db.database.connect(reuse_if_open=True)
                setups = self.app.extensions.setdefault("portal.webhook_setups", {})
                answer = carrier_webhooks.receive(code, shop, headers, raw, setups=setups)
            except Exception as exc:
                if after_commit:
                    after_commit(exc)
                if self.app.testing:
                    raise
                log.exception("a carrier push to %s could not be taken in", code)
                return self._json(500, "The portal failed to take the push in; please retry "
                                       "later.", 0)
            if after_commit:  # the apply of what was taken in, as after a request
                after_commit(None)
        return self._json(answer.status, answer.message, answer.new_events)

    def _json(self, status: int, message: str, new_events: int) -> tuple[int, bytes]:
        # As jsonify writes it outside debug mode (the app's JSON provider, compact, a
        # newline at the end).
        return status, (self.app.json.dumps({"message": message, "new_events": new_events},
                                            separators=(",", ":")) + "\n").encode()


def _query(query_string: str) -> dict[str, str] | None:
    """The query's first value of each name; None when a NUL is in it (Flask refuses it)."""
    found: dict[str, str] = {}
    for name, value in parse_qsl(query_string.encode("latin-1").decode("utf-8", "replace"),
                                 keep_blank_values=True):
        if "\0" in name or "\0" in value:
            return None
        found.setdefault(name, value)
    return found


def _headers(environ) -> dict[str, str]:
    """The request's headers by their HTTP name, as Flask's ``request.headers`` gives them."""
    headers = {key[5:].replace("_", "-").title(): value
               for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").title()] = environ[key]
    return headers


def init_app(app: Flask) -> None:
    """Put the bare route in front of the app's WSGI callable."""
    app.wsgi_app = BareRoute(app, app.wsgi_app)
