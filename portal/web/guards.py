"""What a request may carry: no NUL bytes anywhere, and redirects only to our own pages.

PostgreSQL refuses a NUL byte in text ("A string literal cannot contain NUL"),
and no form or link of the portal ever sends one, so a request that does is
refused at the door with a 400 on both databases, before any view reads it.
"""

import re
from urllib.parse import urlsplit

from flask import Flask, abort, request

# Control characters (CR and LF among them: header injection) and backslashes
# (browsers read "/\\evil.example" as "//evil.example") never belong in a local link.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")


def safe_local_path(target: str | None, prefix: str = "/") -> str | None:
    """``target`` if it is a path on this site under ``prefix``, else None."""
    if not target or _UNSAFE.search(target) or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(prefix):
        return None
    return target


def _has_nul(pairs) -> bool:
    return any("\0" in key or any("\0" in value for value in values)
               for key, values in pairs.lists())


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_bytes():
        # Machines posting signed bodies (webhooks) are checked by their own parser:
        # reading request.form here would consume a body whose bytes the signature covers.
        form_too = request.blueprint != "webhooks"
        if ("\0" in request.path or _has_nul(request.args)
                or (form_too and _has_nul(request.form))):
            abort(400, description="The request contains a NUL character, which no field "
                                   "of the portal accepts. Remove it and try again.")
