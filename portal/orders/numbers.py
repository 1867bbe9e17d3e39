"""Order numbers: short, unambiguous, and safe to read out over the phone.

Ten characters of Crockford's base32 (no I, L, O or U), shown in two groups:
``7K3Q9-XWD2M``. Fifty random bits make a clash vanishingly rare; the unique
index on ``orders.number`` catches the rest.
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def new_order_number(randbits=secrets.randbits) -> str:
    value = randbits(50)
    chars = []
    for _ in range(10):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return f"{''.join(chars[:5])}-{''.join(chars[5:])}"


def normalise(text: str) -> str:
    """Turn what a person typed into the stored form, as far as it goes.

    ``" 7k3q9xwd2m "`` and ``"7K3Q9-XWD2M"`` both become ``"7K3Q9-XWD2M"``;
    a partial number stays partial (``"7k3"`` → ``"7K3"``) for prefix search.
    """
    compact = "".join(c for c in text.upper() if c.isalnum()).translate(_READ_AS)
    if len(compact) > 5:
        return f"{compact[:5]}-{compact[5:]}"
    return compact

