"""One URL, two shapes: the whole page for a browser, a fragment for htmx."""

from flask import make_response, render_template

from portal.web.extensions import htmx


def wants_fragment() -> bool:
    # A history restore (back button after the cache expired) needs the whole page.
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def page_or_fragment(page_template: str, fragment_template: str, /, **context):
    """Render the fragment alone for an htmx request, else the page (which includes it)."""
    response = make_response(render_template(fragment_template if wants_fragment() else page_template, **context))
    response.vary.add("HX-Request")
    return response
