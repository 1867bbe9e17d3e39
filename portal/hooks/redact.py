"""Card data out of what the plugin boundary writes down.

A payment plugin that crashes may carry a card number or a CVC in its
exception's text ("declined: 4000 0000 0000 0002, cvc 123"); that text would
otherwise reach the logs, the seller's "unavailable" notice and the ledger's or
the outbox's stored failure. :func:`redact` is applied to all of it.
"""

import re

# 13 or more digits (any script's), single spaces or dashes between them: 13-19 is a card
# number, a longer run may hold one. Over-redacting a long number costs nothing.
_CARD = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,}(?!\d)")
# 3 or 4 digits beside the word "cvc", "cvv", "csc" or "cid" (an optional 2), either side,
# with a few characters of punctuation or words between: "cvc=123", "'card_cvc': '123'",
# "CVV2 code 1234", "123 (cvc)"; "card_cvc" counts as the word, "decided 2026" does not.
_KEYWORD = r"(?<![a-z])(?:cvc|cvv|csc|cid)2?(?![a-z])"
_CVC_AFTER = re.compile(rf"(?i)({_KEYWORD}[^\d\n]{{0,12}}?)\d{{3,4}}(?!\d)")
_CVC_BEFORE = re.compile(rf"(?i)(?<!\d)\d{{3,4}}([^\d\n]{{0,5}}{_KEYWORD})")

CARD = "[card number redacted]"
CVC = "[redacted]"


def redact(text: str) -> str:
    """``text`` with card-number-like digit runs and CVC-like codes replaced."""
    if not text:
        return text
    text = _CARD.sub(CARD, text)
    text = _CVC_AFTER.sub(lambda m: m.group(1) + CVC, text)
    return _CVC_BEFORE.sub(lambda m: CVC + m.group(1), text)
