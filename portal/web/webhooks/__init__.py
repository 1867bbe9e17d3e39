"""``/webhooks/carriers/<code>``: carriers push tracking news here (no session, no CSRF:
the carrier's HMAC signature is the proof, checked by its plugin)."""

from flask import Blueprint, current_app, jsonify, request

from portal.shipping import carrier_webhooks
from portal.web.extensions import csrf

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)


@bp.post("/carriers/<code>")
def carrier_push(code: str):
    if (request.content_length or 0) > carrier_webhooks.MAX_BODY:
        return jsonify(message="The body is too large.", new_events=0), 413
    # Each process keeps the shops' webhook set-ups it read (checked against a stamp).
    setups = current_app.extensions.setdefault("portal.webhook_setups", {})
    answer = carrier_webhooks.receive(code, request.args.get("shop", ""), dict(request.headers),
                                      request.get_data(cache=False), setups=setups)
    return jsonify(message=answer.message, new_events=answer.new_events), answer.status
