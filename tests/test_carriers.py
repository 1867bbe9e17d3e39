"""The carrier boundary: which carriers a shop has, tracking numbers, rates and labels."""

import pytest

from portal import shipping
from portal.hooktypes import Parcel
from portal.plugins import demo
from portal.testing import enable

# Real tracking numbers (from carriers' published examples) and near-misses:
# one digit changed (the check digit no longer matches), one character short.
VALID = {
    "ups": ["1Z5R89390357567127", "1Z879E930346834440", "1ZXX3150YW44070023"],
    "usps": ["9405511899223197428490", "9361289878700317633795", "420221539101026837331000039521"],
    "fedex": ["449044304137821", "041441760228964", "568838414941"],
    "dhl": ["3318810025", "73891051146"],
}
WRONG_CHECK_DIGIT = {
    "ups": "1Z5R89390357567128",
    "usps": "9405511899223197428491",
    "fedex": "449044304137822",
    "dhl": "3318810026",
}
WRONG_LENGTH = {
    "ups": "1Z5R8939035756712",
    "usps": "94055118992231974284",
    "fedex": "44904430413",
    "dhl": "331881002",
}


@pytest.fixture
def parcel_shop(shop):
    for code in VALID:
        enable(shop, code)
    return shop


@pytest.mark.parametrize("code,number", [(c, n) for c, ns in VALID.items() for n in ns])
def test_real_tracking_numbers_validate(parcel_shop, code, number):
    spaced = " ".join(number[i:i + 4] for i in range(0, len(number), 4)).lower()
    check = shipping.check_tracking_number(parcel_shop, code, spaced)
    assert check.valid, check.message
    assert check.tracking_number == number
    assert check.carrier_code == code
    if code != "usps" or number.isdigit():
        assert check.tracking_url.startswith("https://") and number in check.tracking_url


@pytest.mark.parametrize("code", list(VALID))
def test_a_wrong_check_digit_is_refused_with_a_reason(parcel_shop, code):
    check = shipping.check_tracking_number(parcel_shop, code, WRONG_CHECK_DIGIT[code])
    assert not check.valid
    assert "check digit" in check.message


@pytest.mark.parametrize("code", list(VALID))
def test_a_wrong_length_is_refused(parcel_shop, code):
    check = shipping.check_tracking_number(parcel_shop, code, WRONG_LENGTH[code])
    assert not check.valid
    assert check.message


@pytest.mark.parametrize("code,number", [(c, ns[0]) for c, ns in VALID.items()])
def test_the_carrier_is_detected_when_left_blank(parcel_shop, code, number):
    check = shipping.check_tracking_number(parcel_shop, "", number)
    assert check.valid and check.carrier_code == code


def test_detection_fails_clearly_for_a_number_no_carrier_knows(parcel_shop):
    check = shipping.check_tracking_number(parcel_shop, None, "1Z5R89390357567128")
    assert not check.valid and "None of this shop's carriers" in check.message


def test_a_fresh_shop_has_only_the_manual_carrier(shop):
    assert [c.code for c in shipping.carriers_for_shop(shop)] == ["manual"]
    check = shipping.check_tracking_number(shop, "manual", "abc-123456")
    assert check.valid and check.tracking_number == "ABC-123456"
    assert not shipping.check_tracking_number(shop, "manual", "abc").valid


def test_a_carrier_the_shop_did_not_enable_is_refused(shop):
    check = shipping.check_tracking_number(shop, "ups", VALID["ups"][0])
    assert not check.valid and "not one of this shop's carriers" in check.message


def test_enabled_carriers_are_listed_with_the_manual_fallback_last(shop):
    enable(shop, "dhl")
    enable(shop, "demo")
    codes = [c.code for c in shipping.carriers_for_shop(shop)]
    assert codes == ["demo", "dhl", "manual"]
    enable(shop, "manual").__class__  # turned on explicitly: still listed
    from portal.hooks import shop_plugins
    shop_plugins.set_enabled(shop, "manual", False)
    assert [c.code for c in shipping.carriers_for_shop(shop)] == ["demo", "dhl"]


def test_demo_numbers_and_rates(shop, buyer):
    enable(shop, "demo")
    assert shipping.check_tracking_number(shop, "demo", "DP0123456789").valid
    assert not shipping.check_tracking_number(shop, "demo", "DP01234").valid
    parcel = Parcel("US", "97205", "US", "10001", 900, "USD")
    rates = demo.carrier_rates(carrier_code="demo", parcel=parcel)
    assert [(r.service_code, r.amount) for r in rates] == [("ground", 599), ("express", 1299)]
    abroad = demo.carrier_rates(carrier_code="demo", parcel=Parcel("US", "", "DE", "", 900, "USD"))
    assert abroad[0].amount == 1599


def test_demo_route_is_the_same_for_the_same_number():
    assert demo.route("DP0000000001") == demo.route("DP0000000001")
    assert demo.route("DP0000000001")[-1][0] == "delivered"
    lengths = {len(demo.route(f"DP{k:010d}")) for k in range(60)}
    assert len(lengths) > 1  # some parcels are delayed or missed
