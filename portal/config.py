"""Configuration from the environment.

Every setting has a safe default for `make run`; production overrides them with
``PORTAL_*`` variables. Nothing here touches the database or the network.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path


def secret_key(instance_path: Path) -> str:
    """Return PORTAL_SECRET_KEY, or a key generated once into the instance folder.

    A constant in the code would be shared by every installation, so a missing
    key is created on first start and kept private to this machine.
    """
    key = os.environ.get("PORTAL_SECRET_KEY")
    if key:
        return key
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: Path) -> dict:
    """Build the Flask config mapping (all but the secret key) for this instance folder."""
    default_db = f"sqlite:///{instance_path / 'portal.sqlite3'}"
    return {
        "DATABASE_URL": os.environ.get("PORTAL_DATABASE_URL", default_db),
        "LOCALE": os.environ.get("PORTAL_LOCALE", "en_US"),
        "TIMEZONE": os.environ.get("PORTAL_TIMEZONE", "UTC"),
        "PAGE_SIZE": int(os.environ.get("PORTAL_PAGE_SIZE", "20")),
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,  # uploads (bulk-shipping CSV) included
        "MAX_CSV_BYTES": 1024 * 1024,
        # Sessions: HttpOnly is Flask's default; SameSite=Lax keeps links from
        # other sites working while refusing cross-site form posts.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("PORTAL_SECURE_COOKIES", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _flag("PORTAL_SECURE_COOKIES", False),
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        # Behind a reverse proxy: how many proxies in front may be trusted for
        # X-Forwarded-For/-Proto/-Host/-Prefix (0: none; the client's address is the peer's).
        "TRUSTED_PROXIES": int(os.environ.get("PORTAL_TRUSTED_PROXIES", "0")),
        # Several instances share one limiter through e.g. redis://host:6379/2.
        "RATELIMIT_STORAGE_URI": os.environ.get("PORTAL_RATELIMIT_STORAGE_URI", "memory://"),
        "LOGIN_RATE_LIMIT": os.environ.get("PORTAL_LOGIN_RATE_LIMIT", "10 per minute"),
        "REGISTER_RATE_LIMIT": os.environ.get("PORTAL_REGISTER_RATE_LIMIT", "5 per hour"),
        # "Forgot password" forms sent per client address (each address gets at most
        # three links an hour whatever this says: portal.account_links).
        "PASSWORD_RESET_RATE_LIMIT": os.environ.get("PORTAL_PASSWORD_RESET_RATE_LIMIT",
                                                    "5 per hour"),
        # 429 answers carry Retry-After (and the X-RateLimit-* headers).
        "RATELIMIT_HEADERS_ENABLED": True,
        # Plugins: seconds a hook may take, and how long one that overran rests.
        "PLUGIN_TIME_BUDGET": float(os.environ.get("PORTAL_PLUGIN_TIME_BUDGET", "2")),
        "PLUGIN_COOLDOWN": float(os.environ.get("PORTAL_PLUGIN_COOLDOWN", "60")),
        # The buyer's open order page asks for tracking news this often.
        "TRACKING_POLL_SECONDS": int(os.environ.get("PORTAL_TRACKING_POLL_SECONDS", "15")),
        # Background work: instance/huey.sqlite3 unless a redis:// URL is given.
        "HUEY_URL": os.environ.get("PORTAL_HUEY_URL", ""),
        # Notification e-mails: the SMTP server (smtp://host:port; unset: to the log), the
        # sender's address (its name is the shop's), and the portal's address for links.
        "SMTP_URL": os.environ.get("PORTAL_SMTP_URL", ""),
        "MAIL_FROM": os.environ.get("PORTAL_MAIL_FROM", "orders@localhost"),
        "BASE_URL": os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:5000"),
        # argon2id parameters; tests lower them, production keeps the library's.
        "ARGON2_TIME_COST": int(os.environ.get("PORTAL_ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(os.environ.get("PORTAL_ARGON2_MEMORY_COST", "65536")),
    }
