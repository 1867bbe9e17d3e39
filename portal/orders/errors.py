"""What the order domain refuses: a stable code beside the sentence people read.

The code is for programs (a JSON answer, a test, a log line) and does not change
when the wording does; the message is for the person who asked, in the words the
pages show. Codes read ``<area>.<why>``: ``ship.held_by_request``,
``request.already_answered``, ``form.bad_quantity``. :mod:`portal.orders.actions`
lists every code an order action can be refused with.
"""


class OrderRefused(Exception):
    """The order domain said no; nothing was written.

    ``reason`` is the same refusal as a short clause for lists ("it is Shipped"),
    where the order's number is already beside it; it defaults to the message.
    """

    def __init__(self, code: str, message: str, *, reason: str = ""):
        super().__init__(message)
        self.code, self.message, self.reason = code, message, reason or message


class FulfilmentError(OrderRefused):
    """A fulfilment rule: the checklist, processing, shipping, delivery, cancellation."""


class EditRefused(OrderRefused):
    """An edit of the address, the items or the notes that the order does not allow."""


class RequestRefused(OrderRefused):
    """A buyer's request that may not be asked, or an answer that may not be given."""


class BadInput(OrderRefused):
    """A form value the domain cannot use (``form.*``): typed wrong, not a rule broken."""


class MessageRefused(OrderRefused):
    """A message that may not be posted: empty, too long, or not the poster's order."""


class DelayRefused(OrderRefused):
    """A word about a delay (or its remedy) the order does not allow: it is not late, or
    its shipping can no longer be upgraded."""
