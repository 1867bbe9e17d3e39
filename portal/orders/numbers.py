"""Order numbers: short, unambiguous, and safe to read out over the phone.

Ten characters of Crockford's base32 (no I, L, O or U), shown in two groups:
``7K3Q9-XWD2M``. Fifty random bits make a clash vanishingly rare; the unique
index on ``orders.number`` catches the rest.
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


# Two characters (10 bits) per table lookup instead of one divmod per character,
# because the demo seeder makes a million of these.
_PAIRS = [ALPHABET[v & 31] + ALPHABET[v >> 5] for v in range(1024)]


def new_order_number(randbits=secrets.randbits) -> str:
    """Fifty random bits as ``XXXXX-XXXXX``, least significant character first."""
    v = randbits(50)
    p = _PAIRS
    return (f"{p[v & 1023]}{p[v >> 10 & 1023]}{ALPHABET[v >> 20 & 31]}-"
            f"{p[v >> 25 & 1023]}{p[v >> 35 & 1023]}{ALPHABET[v >> 45]}")


def normalise(text: str) -> str:
    """Turn what a person typed into the stored form, as far as it goes.

    ``" 7k3q9xwd2m "`` and ``"7K3Q9-XWD2M"`` both become ``"7K3Q9-XWD2M"``;
    a partial number stays partial (``"7k3"`` → ``"7K3"``) for prefix search.
    """
    compact = "".join(c for c in text.upper() if c.isalnum()).translate(_READ_AS)
    if len(compact) > 5:
        return f"{compact[:5]}-{compact[5:]}"
    return compact

