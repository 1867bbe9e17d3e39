"""Templates ask the order's actions and compare statuses through the enums: no status,
request status or request kind is written in them as a string."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "portal" / "templates"
WORDS = ("pending", "processed", "shipped", "delivered", "cancelled", "returned",  # orders
         "open", "approved", "refused", "completed", "closed",  # requests
         "cancellation", "address_change", "modification", "return")  # request kinds
LITERAL = re.compile(r"""(['"])(%s)\1""" % "|".join(WORDS))
COMPARED = re.compile(r"""(status|kind)\s*(==|!=)\s*['"]|(status|kind)\s+in\s*[(\[]\s*['"]""")


def offences(text: str) -> list[str]:
    return [m.group(0) for pattern in (LITERAL, COMPARED) for m in pattern.finditer(text)]


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")),
                         ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_status_is_compared_as_a_string(path):
    assert offences(path.read_text()) == []


@pytest.mark.parametrize("text", [
    "{% if order.status == 'pending' %}", '{% if r.status != "open" %}',
    "{% set live = order.status in ('pending', 'processed') %}", "{% if r.kind == 'return' %}",
    "{% set can_cancel = 'cancelled' in allowed %}",
])
def test_the_check_finds_what_it_forbids(text):
    assert offences(text)


def test_the_check_lets_the_enums_through():
    assert not offences("{% if order.status == Status.PENDING %}"
                        "{% if r.kind == RequestKind.RETURN %}"
                        '<span class="badge status-{{ order.status }}">')
