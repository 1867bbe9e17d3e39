"""How the buyer pays, as their form posts it: the method they chose among the shop's,
and a card turned into the gateway's token at once (the number goes no further).
Checkout's payment step and the balance-due page both read it."""

from dataclasses import dataclass

from portal import payments
from portal.plugins import card as card_plugin


@dataclass(frozen=True)
class Choice:
    method: payments.Method
    key: str  # "plugin:method_code", as the form posts it
    card_token: str = ""


def choose(methods: list[payments.Method], form) -> tuple[Choice | None, dict[str, str]]:
    """The method the form chose (and its card token), or None with the errors to show
    beside the fields."""
    wanted = (form.get("method") or "")[:120]
    chosen = next((m for m in methods if f"{m.plugin}:{m.option.method_code}" == wanted), None)
    if chosen is None:
        return None, {"method": "Choose how you pay."}
    card_token = ""
    if chosen.plugin == "card":
        try:
            card_token = card_plugin.tokenize(form.get("card_number", "")[:40],
                                              form.get("card_exp", "")[:10],
                                              form.get("card_cvc", "")[:6])
        except card_plugin.CardError as bad:
            return None, {f"card_{bad.field}": str(bad), "method": ""}
    return Choice(chosen, wanted, card_token), {}
