"""Password hashing (argon2id) and the HTTP security headers."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app

# A fixed hash to verify against when the e-mail is unknown, so that a wrong
# e-mail takes as long as a wrong password and does not reveal who has an account.
_DUMMY_PASSWORD = "not-a-real-password"


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    if stored_hash is None:
        # Hashed once per app and kept: hashing it on every call made an unknown
        # address cost two argon2 runs against one for a known address.
        stored_hash = current_app.extensions.get("portal.dummy_hash")
        if stored_hash is None:
            stored_hash = current_app.extensions["portal.dummy_hash"] = hasher.hash(_DUMMY_PASSWORD)
        password = password + "\0"  # never matches, costs the same
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def headers_for(app: Flask) -> dict[str, str]:
    """The security headers of every answer of ``app`` (HSTS when its cookies are secure)."""
    headers = dict(SECURITY_HEADERS)
    if app.config.get("SESSION_COOKIE_SECURE"):
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


def init_app(app: Flask) -> None:
    @app.after_request
    def _security_headers(response):
        for name, value in headers_for(app).items():
            response.headers.setdefault(name, value)
        return response
