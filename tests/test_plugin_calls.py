"""Payment and coupon hooks are specified now; a plugin implementing them is called like any other."""

from portal import hookimpl
from portal.hooks import pluginmanager
from portal.hooktypes import (Cart, CartLine, Coupon, CouponKind, Discount, PaymentOption,
                              PaymentResult)


class TenPercent:
    @hookimpl
    def coupon_kinds(self):
        return [CouponKind("ten", "10% off")]

    @hookimpl
    def coupon_discounts(self, cart, coupons):
        total = sum(line.unit_price * line.quantity for line in cart.lines)
        return [Discount(c.code, total // 10, cart.currency, "10% off") for c in coupons
                if c.kind == "ten"]


class FakeGateway:
    @hookimpl
    def payment_methods(self, currency):
        return [PaymentOption("test-card", "Card", 0, currency)]

    @hookimpl
    def payment_authorise(self, method_code, amount, currency, idempotency_key):
        if method_code != "test-card":
            return None
        return PaymentResult(True, f"auth-{idempotency_key}", amount, currency, "Visa •••• 4242")

    @hookimpl
    def payment_capture(self, method_code, reference, amount, currency):
        return PaymentResult(True, reference, amount, currency) if method_code == "test-card" else None

    @hookimpl
    def payment_refund(self, method_code, reference, amount, currency):
        return PaymentResult(amount <= 5000, reference, amount, currency,
                             message="" if amount <= 5000 else "more than was paid")


def test_coupon_hooks(register_plugin):
    register_plugin(TenPercent(), "ten")
    assert pluginmanager.call("ten", "coupon_kinds").value == [CouponKind("ten", "10% off")]
    cart = Cart(1, 2, "USD", (CartLine(1, 1, 1500, 2),))
    outcome = pluginmanager.call("ten", "coupon_discounts", cart=cart,
                                 coupons=[Coupon("SAVE", "ten")], settings={})
    assert outcome.value == [Discount("SAVE", 300, "USD", "10% off")]


def test_payment_hooks(register_plugin):
    register_plugin(FakeGateway(), "gateway")
    args = dict(currency="USD", settings={}, shop_id=1, amount=5000)
    assert pluginmanager.call("gateway", "payment_methods", **args).value[0].name == "Card"
    pay = dict(page_url="/payments/1/pay", return_url="/payments/1/return", secret="")
    auth = pluginmanager.call_first("payment_authorise", ["gateway"], method_code="test-card",
                                    token="tok", idempotency_key="k1", **pay, **args).value
    assert auth.succeeded and auth.display == "Visa •••• 4242"
    captured = pluginmanager.call("gateway", "payment_capture", method_code="test-card",
                                  reference=auth.reference, idempotency_key="k3", **args).value
    assert captured.succeeded
    refund = pluginmanager.call("gateway", "payment_refund", method_code="test-card",
                                reference=auth.reference, idempotency_key="k4",
                                **{**args, "amount": 9000}).value
    assert not refund.succeeded and refund.message == "more than was paid"
    assert pluginmanager.call_first("payment_authorise", ["gateway"], method_code="other",
                                    token="", idempotency_key="k2", **pay, **args) is None
