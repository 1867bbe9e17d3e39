"""Coupon codes people can read out and type: unique per shop, whatever the confusion.

Codes the portal makes use an alphabet without 0/O, 1/I/L (and no vowels that
could spell words), in two groups of four: "K7QM-3XWD". Codes a seller writes
may use any letter or digit, but they are compared by their *key*: upper case,
spaces and dashes dropped, O read as 0 and I or L as 1. So "SAVE10", "save-1O"
and "SAVEIO" are one code: the shop cannot make two that a buyer would mix up,
and a buyer who types one finds the other.
"""

import re
import secrets

ALPHABET = "BCDFGHJKMNPQRSTVWXZ23456789"  # no 0/O, 1/I/L, no vowels (no words)
MIN_LENGTH, MAX_LENGTH = 3, 24
_ALLOWED = re.compile(r"^[A-Z0-9][A-Z0-9 -]*$")
_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code(groups: int = 2, size: int = 4) -> str:
    """A fresh random code such as "K7QM-3XWD" (27^8, about 2.8e11, codes)."""
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(size))
                    for _ in range(groups))


def key(code: str) -> str:
    """What two codes are compared by (see the module's docstring)."""
    return re.sub(r"[\s-]+", "", (code or "").upper()).translate(_FOLD)[:40]


def clean(code: str) -> tuple[str, str]:
    """A code a seller wrote as it will be shown (upper case, single dashes), and an
    error for the seller ("" when it is fine)."""
    text = re.sub(r"\s+", "-", (code or "").strip().upper())
    text = re.sub(r"-{2,}", "-", text).strip("-")
    if text and (not text.isascii() or not _ALLOWED.match(text)):
        return text[:40], "Use letters A-Z, digits and dashes only."
    if not MIN_LENGTH <= len(key(text)) <= MAX_LENGTH:
        return text[:40], f"A code has {MIN_LENGTH} to {MAX_LENGTH} letters and digits."
    return text, ""
