"""The rules every coupon keeps (portal.coupons): readable codes, one mailbox however it is
spelt, time windows in the shop's time zone, limits and combining with their reasons, and
a discount spread over the lines to the minor unit (property-based)."""

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, strategies as st

from portal.coupons import allocation, codes, emails, rules
from portal.coupons.rules import CouponRefused, Usage


# -- codes ---------------------------------------------------------------------------

def test_made_up_codes_have_no_confusable_characters():
    for _ in range(200):
        code = codes.new_code()
        assert len(code) == 9 and code[4] == "-"
        assert not set(code) & set("0O1IL")


@pytest.mark.parametrize("a,b", [("SAVE10", "save-1o"), ("SAVE10", "SAVEIO"),
                                 ("SUMMER-15", "summer 15"), ("LOYAL", "l0ya1")])
def test_codes_that_read_the_same_have_one_key(a, b):
    assert codes.key(a) == codes.key(b)


def test_a_sellers_code_is_cleaned_or_refused():
    assert codes.clean("  summer  15 ") == ("SUMMER-15", "")
    assert codes.clean("ÉTÉ")[1] == "Use letters A-Z, digits and dashes only."
    assert codes.clean("ab")[1].startswith("A code has 3 to 24")
    assert codes.clean("")[1].startswith("A code has 3 to 24")


# -- e-mail normalisation --------------------------------------------------------------

@pytest.mark.parametrize("given_,mailbox", [
    ("Ada.Lovelace+shop@Gmail.com", "adalovelace@gmail.com"),
    ("a.d.a@googlemail.com", "ada@gmail.com"),
    ("ADA+promo@outlook.com", "ada@outlook.com"),
    ("j.smith@outlook.com", "j.smith@outlook.com"),  # dots count outside Gmail
    ("J.Smith+x@iCloud.com", "j.smith@icloud.com"),
    ("+only@example.com", "+only@example.com"),  # nothing before the tag: kept as it is
    ("not-an-address", "not-an-address"),
])
def test_one_mailbox_however_it_is_spelt(given_, mailbox):
    assert emails.mailbox(given_) == mailbox


# -- allocation ----------------------------------------------------------------------

def test_remainders_go_to_the_largest_then_to_the_earlier_line():
    assert allocation.allocate(100, [1000, 1000, 1000]) == [34, 33, 33]
    assert allocation.allocate(10, [3, 3, 4]) == [3, 3, 4]
    assert allocation.allocate(5, [0, 0]) == [0, 0]
    assert allocation.allocate(7, [1000, 3000]) == [2, 5]


@given(st.integers(-100, 10**7), st.lists(st.integers(0, 10**6), min_size=1, max_size=40))
def test_shares_add_up_exactly_and_never_exceed_their_line(amount, weights):
    shares = allocation.allocate(amount, weights)
    assert sum(shares) == max(0, min(amount, sum(weights)))
    assert all(0 <= s <= w for s, w in zip(shares, weights))
    assert shares == allocation.allocate(amount, weights)  # deterministic


@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=20),
       st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 2**20)), max_size=4))
def test_several_discounts_never_take_a_line_below_zero(totals, picks):
    discounts, left = [], sum(totals)
    for amount, mask in picks:
        indexes = [i for i in range(len(totals)) if mask >> i & 1] or [0]
        discounts.append((amount, indexes))
    shares = allocation.spread(discounts, totals)
    assert all(0 <= s <= t for s, t in zip(shares, totals))
    assert sum(shares) <= left


# -- windows, limits, who ---------------------------------------------------------------

def coupon(**kw):
    values = dict(code="SUMMER", status="active", starts_at=None, ends_at=None, timezone="UTC",
                  buyer_id=None, usage_limit=None, per_buyer_limit=None, min_spend=0,
                  combines=False)
    return SimpleNamespace(**{**values, **kw})


def reason(c, now=datetime(2025, 6, 15, 12), subtotal=10_000, usage=Usage(), buyer_id=1):
    try:
        rules.check(c, now=now, subtotal=subtotal, currency="USD", buyer_id=buyer_id,
                    usage=usage)
    except CouponRefused as refused:
        return refused.code, refused.message
    return None


def test_a_window_in_new_york_starts_and_ends_at_new_york_midnight():
    tz = "America/New_York"
    c = coupon(timezone=tz, starts_at=rules.to_utc(datetime(2025, 6, 1), tz),
               ends_at=rules.to_utc(datetime(2025, 7, 1), tz))
    assert c.starts_at == datetime(2025, 6, 1, 4) and c.ends_at == datetime(2025, 7, 1, 4)
    tick = timedelta(microseconds=1)
    assert reason(c, now=c.starts_at - tick)[0] == "coupon.not_yet"
    assert reason(c, now=c.starts_at) is None  # the start is included
    assert reason(c, now=c.ends_at - tick) is None
    code, message = reason(c, now=c.ends_at)  # the end is not
    assert code == "coupon.expired" and "1 Jul 2025, 00:00 EDT" in message
    # 23:30 on 30 June in New York is already 1 July in London and Tokyo: still valid.
    assert reason(c, now=rules.to_utc(datetime(2025, 6, 30, 23, 30), tz)) is None


def test_the_same_wall_clock_is_a_different_instant_in_another_zone():
    tokyo = rules.to_utc(datetime(2025, 1, 1), "Asia/Tokyo")
    la = rules.to_utc(datetime(2025, 1, 1), "America/Los_Angeles")
    assert tokyo == datetime(2024, 12, 31, 15) and la == datetime(2025, 1, 1, 8)
    assert rules.to_local(la, "America/Los_Angeles") == datetime(2025, 1, 1)
    # A wall-clock time in the spring-forward gap is read as the first of its meanings.
    assert rules.to_utc(datetime(2025, 3, 9, 2, 30), "America/New_York") == \
        datetime(2025, 3, 9, 7, 30)


@pytest.mark.parametrize("kw,usage,subtotal,buyer_id,code", [
    (dict(status="paused"), Usage(), 10_000, 1, "coupon.paused"),
    (dict(status="ended"), Usage(), 10_000, 1, "coupon.ended"),
    (dict(buyer_id=2), Usage(), 10_000, 1, "coupon.not_for_you"),
    (dict(usage_limit=3), Usage(3, 0), 10_000, 1, "coupon.used_up"),
    (dict(per_buyer_limit=1), Usage(1, 1), 10_000, 1, "coupon.already_used"),
    (dict(min_spend=5000), Usage(), 4999, 1, "coupon.min_spend"),
])
def test_each_rule_refuses_with_its_reason(kw, usage, subtotal, buyer_id, code):
    assert reason(coupon(**kw), usage=usage, subtotal=subtotal, buyer_id=buyer_id)[0] == code


def test_limits_and_minimum_at_their_edges():
    assert reason(coupon(usage_limit=3), usage=Usage(2, 0)) is None
    assert reason(coupon(per_buyer_limit=2), usage=Usage(5, 1)) is None
    assert reason(coupon(min_spend=5000), subtotal=5000) is None
    assert reason(coupon(buyer_id=1), buyer_id=1) is None
    assert "add $0.01 more" in reason(coupon(min_spend=5000), subtotal=4999)[1]


def test_combining_needs_both_coupons_to_allow_it():
    a, b, c = coupon(code="A", combines=True), coupon(code="B", combines=True), coupon(code="C")
    rules.combine_check(b, [a])
    with pytest.raises(CouponRefused) as refused:
        rules.combine_check(c, [a])
    assert refused.value.code == "coupon.no_combine"
    assert refused.value.message == "C does not combine with A: use one or the other."
    with pytest.raises(CouponRefused):
        rules.combine_check(a, [c])
