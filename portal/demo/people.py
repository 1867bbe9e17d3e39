"""The demo's people: the fixed demo logins, generated buyers and sellers, addresses."""

from dataclasses import dataclass
from datetime import datetime

from portal.db import insert_rows, next_id, reset_sequences
from portal.models import Address, User
from portal.web.security import hash_password

DEMO_LOGINS = [
    ("buyer@example.com", "buyer-demo", "Bea Buyer", "buyer"),
    ("buyer2@example.com", "buyer-demo", "Ben Buyer", "buyer"),
    ("seller@example.com", "seller-demo", "Sam Seller", "seller"),
    ("seller2@example.com", "seller-demo", "Sofia Seller", "seller"),
]
CITIES = [("Portland", "OR", "97205"), ("Austin", "TX", "78701"), ("Denver", "CO", "80202"),
          ("Boston", "MA", "02108"), ("Chicago", "IL", "60601"), ("Seattle", "WA", "98101")]


@dataclass
class People:
    seller_ids: list[int]  # the demo sellers first
    buyer_ids: list[int]  # buyer@example.com, buyer2@example.com, then the generated ones
    # Per buyer, what an order row copies: name, line1, line2, city, region,
    # postcode, country, phone.
    addresses: dict[int, tuple]


def make_people(n_orders: int, now: datetime) -> People:
    """Create the demo logins, and more buyers and sellers the more orders there will be:
    a shop per 10,000 orders (3 to 100), a buyer per 10 orders (up to 100,000)."""
    hashes = {pw: hash_password(pw) for pw in {"buyer-demo", "seller-demo"}}
    created = {}
    for email, password, name, role in DEMO_LOGINS:
        created[email] = User.create(email=email, name=name, role=role,
                                     password_hash=hashes[password]).id
    demo_sellers = [created[email] for email, *_, role in DEMO_LOGINS if role == "seller"]
    n_extra_shops = max(3, min(100, n_orders // 10_000)) - len(demo_sellers)
    n_buyers = max(0, min(100_000, n_orders // 10) - 2)
    first = next_id(User)
    rows = [(first + i, f"seller{i + 3}@example.com", f"Seller {i + 3}", "seller",
             hashes["seller-demo"], now) for i in range(n_extra_shops)]
    rows += [(first + n_extra_shops + i, f"buyer{i + 3}@example.com", f"Buyer {i + 3}",
              "buyer", hashes["buyer-demo"], now) for i in range(n_buyers)]
    insert_rows(User, ["id", "email", "name", "role", "password_hash", "created_at"], rows)
    reset_sequences(User)
    buyer_ids = [created["buyer@example.com"], created["buyer2@example.com"]] + \
                [r[0] for r in rows[n_extra_shops:]]
    return People(seller_ids=demo_sellers + [r[0] for r in rows[:n_extra_shops]],
                  buyer_ids=buyer_ids, addresses=_addresses(buyer_ids))


def _addresses(buyer_ids: list[int]) -> dict[int, tuple]:
    rows = []
    for i, buyer_id in enumerate(buyer_ids):
        city, region, postcode = CITIES[i % len(CITIES)]
        name = ["Bea Buyer", "Ben Buyer"][i] if i < 2 else f"Buyer {i + 1}"
        rows.append((buyer_id, name, f"{100 + i % 900} Market Street", "", city, region,
                     postcode, "US", "+1 555 0100", True))
    insert_rows(Address, ["user", "full_name", "line1", "line2", "city", "region",
                          "postal_code", "country", "phone", "is_default"], rows)
    return {row[0]: row[1:9] for row in rows}


def demo_history_login(user_id: int) -> tuple[str, str] | None:
    """The demo buyer's e-mail and password, for someone else's empty Orders page.

    Only when this database is a demo one (the demo buyer exists and has orders):
    a new account starts empty, and the demo login shows a full history.
    """
    from portal.models import Order
    email, password = DEMO_LOGINS[0][:2]
    has_history = (Order.select(Order.id).join(User, on=(Order.buyer == User.id))
                   .where((User.email == email) & (User.id != user_id)).limit(1).exists())
    return (email, password) if has_history else None
