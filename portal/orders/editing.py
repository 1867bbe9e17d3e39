"""Editing an order before it ships: the shipping address and the lines.

Each edit is checked against the version the seller's form was built from,
re-prices and re-stocks what it changes, and lands on the buyer's timeline with
who made it and the values before and after.
"""

import json
from dataclasses import dataclass
from enum import StrEnum

from portal.addresses import AddressCheck
from portal.db import database
from portal.models import Order, OrderLine, Product, User, Variant
from portal.money import format_money
from portal.orders import actions, ledger
from portal.orders.errors import BadInput, EditRefused
from portal.orders.fulfilment import lines_of
from portal.orders.lifecycle import lock, record, update_order

ADDRESS_COLUMNS = {"name": "ship_name", "line1": "ship_line1", "line2": "ship_line2",
                   "city": "ship_city", "region": "ship_region",
                   "postal_code": "ship_postal_code", "country": "ship_country",
                   "phone": "ship_phone"}
# The words the timeline uses for them (the buyer reads it too).
ADDRESS_WORDS = {"name": "recipient", "line1": "street address", "line2": "apartment or suite",
                 "city": "city", "region": "state or region", "postal_code": "postal code",
                 "country": "country", "phone": "phone"}


def address_of(order: Order) -> dict:
    return {key: getattr(order, column) for key, column in ADDRESS_COLUMNS.items()}


def change_address(order: Order, check: AddressCheck, *, version: int, actor: User,
                   actor_role: str = "seller") -> bool:
    """Replace the shipping address (already checked); False when nothing changed."""
    actions.edit(order, "edit_address").check()
    if not check.valid:
        raise BadInput("form.incomplete_address", "The address is not complete.")
    before, after = address_of(order), check.address
    if before == after:
        return False
    changed = [key for key in ADDRESS_COLUMNS if before[key] != after[key]]
    with database.atomic():
        # A new address has not been verified: the checklist's tick goes.
        update_order(order, version=version, address_verified=False,
                     **{ADDRESS_COLUMNS[k]: after[k] for k in changed})
        record(order, "address_changed",
               "Shipping address changed: " + "; ".join(
                   f"{ADDRESS_WORDS[k]} “{before[k]}” → “{after[k]}”" for k in changed),
               actor=actor, actor_role=actor_role,
               before=json.dumps({k: before[k] for k in changed}),
               after=json.dumps({k: after[k] for k in changed}))
    return True


def describe_line(line: OrderLine) -> str:
    return f"{line.product_name} ({line.size}, {line.colour}) × {line.quantity}"


def item_summary(lines: list[OrderLine]) -> str:
    first = lines[0]
    detail = ", ".join(part for part in (first.size, first.colour) if part)
    text = first.product_name + (f" ({detail})" if detail else "")
    text += f" × {first.quantity}" if first.quantity > 1 else ""
    return (text + (f" + {len(lines) - 1} more" if len(lines) > 1 else ""))[:200]


def variant_choices(lines: list[OrderLine]) -> dict[int, list[Variant]]:
    """For each line, the variants (sizes, colours) of its product it may switch to."""
    variant_ids = [line.variant_id for line in lines if line.variant_id]
    products = Variant.select(Variant.product).where(Variant.id.in_(variant_ids or [0]))
    variants = list(Variant.select(Variant, Product.id, Product.name).join(Product)
                    .where(Variant.product.in_(products)).order_by(Variant.id))
    by_product: dict[int, list[Variant]] = {}
    for v in variants:
        by_product.setdefault(v.product_id, []).append(v)
    product_of = {v.id: v.product_id for v in variants}
    return {line.id: by_product.get(product_of.get(line.variant_id), []) for line in lines}


@dataclass(frozen=True)
class LinesEdit:
    """A change of an order's lines, worked out and not written yet."""

    todo: tuple  # (line, variant, new quantity) for each line that changes
    before: tuple[str, ...]  # the lines in words, before and after
    after: tuple[str, ...]
    subtotal: int
    total: int
    item_count: int
    summary: str
    discount_total: int = 0
    line_discounts: tuple = ()  # (line id, its new discount) for each line that changes

    def describe(self, currency: str, before_total: int) -> str:
        removed = [b for b in self.before if b not in self.after]
        added = [a for a in self.after if a not in self.before]
        money = f"; total {format_money(before_total, currency)} → " \
                f"{format_money(self.total, currency)}" if self.total != before_total else ""
        return f"{', '.join(removed)} → {', '.join(added) or 'removed'}{money}"


class Edited(StrEnum):
    """What :func:`change_lines` did. ``UNCHANGED`` is falsy."""

    UNCHANGED = ""
    CHANGED = "changed"
    WAITING = "waiting"  # it raises what the buyer pays: it waits for the buyer's payment


def plan_lines(order: Order, changes: dict[int, tuple[int, int]],
               lines: list[OrderLine] | None = None) -> LinesEdit | None:
    """Work out a change of the lines (see :func:`change_lines`); None when nothing
    changes. Raises :class:`BadInput` / :class:`EditRefused` for a change that
    cannot be made (stock is checked again when it is written)."""
    lines = lines_of(order) if lines is None else lines
    choices = variant_choices(lines)
    todo, after = [], []
    for line in lines:
        variant_id, quantity = changes.get(line.id, (line.variant_id, line.quantity))
        if (variant_id, quantity) == (line.variant_id, line.quantity):
            after.append(line)
            continue
        if quantity < 0 or quantity > 99:
            raise BadInput("form.bad_quantity",
                           f"{line.product_name}: a quantity from 0 to 99, please.")
        variant = next((v for v in choices[line.id] if v.id == variant_id), None)
        if variant is None:
            raise BadInput("form.bad_variant",
                           f"{line.product_name}: choose one of its own sizes and colours.")
        todo.append((line, variant, quantity))
        if quantity:  # the line as it would be (not saved)
            after.append(OrderLine(product_name=line.product_name, size=variant.size,
                                   colour=variant.colour, quantity=quantity,
                                   line_total=quantity * variant.price,
                                   discount=kept_discount(line, quantity)))
    if not todo:
        return None
    if not after:
        raise EditRefused("edit.no_items", "An order needs at least one item; cancel it instead.")
    for line, variant, quantity in todo:  # refused now rather than when it is written
        there = variant.stock + (line.quantity if variant.id == line.variant_id else 0)
        if quantity > there:
            raise EditRefused("edit.out_of_stock", f"{line.product_name} ({variant.size}, "
                              f"{variant.colour}): only {max(there, 0)} in stock.")
    subtotal = sum(line.line_total for line in after)
    # The coupons' discount follows the lines it was spread over (as in Shopify's order
    # editing): a removed line takes its share away, a smaller quantity a part of it, and
    # no share grows. Orders whose discount was never spread over lines keep it whole.
    spread = sum(line.discount for line in lines) == order.discount_total
    discount = sum(line.discount for line in after) if spread else order.discount_total
    discount = min(discount, subtotal)
    return LinesEdit(tuple(todo), tuple(describe_line(line) for line in lines),
                     tuple(describe_line(line) for line in after), subtotal,
                     subtotal - discount + order.shipping_total + order.fee_total,
                     sum(line.quantity for line in after), item_summary(after), discount,
                     tuple((line.id, kept_discount(line, quantity) if spread else line.discount)
                           for line, _, quantity in todo))


def kept_discount(line: OrderLine, quantity: int) -> int:
    """What is left of a line's coupon share when its quantity becomes ``quantity``
    (rounded down: the share never grows, a removed line keeps none)."""
    if not line.quantity or not quantity:
        return 0
    return line.discount * min(quantity, line.quantity) // line.quantity


def change_lines(order: Order, changes: dict[int, tuple[int, int]], *, version: int,
                 actor: User, request_id: int | None = None) -> Edited:
    """Set each line's variant and quantity (0 removes it): re-priced, stock adjusted.

    ``changes`` maps an order line id to (variant id, quantity). A variant of
    another product, more than is in stock or an order left with no lines is
    refused (:class:`~portal.orders.errors.BadInput`,
    :class:`~portal.orders.errors.EditRefused`). A change that lowers a paid total
    refunds the difference. One that raises what the buyer pays beyond their
    payment is not made: it waits for the buyer to pay the difference
    (:mod:`portal.orders.balance`; ``Edited.WAITING``).
    """
    from portal.orders import balance

    actions.edit(order, "edit_lines").check()
    edit = plan_lines(order, changes)
    if edit is None:
        return Edited.UNCHANGED
    with database.atomic():
        # A refund, a payment or another edit at the same time waits for this one.
        actions.edit(lock(order.id), "edit_lines").check()
        due = balance.amount_due(order, edit.total)
        if due:
            balance.propose(order, changes, edit, due, version=version, actor=actor,
                            request_id=request_id)
            return Edited.WAITING
        write_lines(order, edit, version=version, actor=actor)
    return Edited.CHANGED


def write_lines(order: Order, edit: LinesEdit, *, version: int, actor: User,
                actor_role: str = "seller", **fields) -> None:
    """Write a worked-out change of the lines: stock set aside again, lines re-priced,
    money moved (a lower paid total refunded), the timeline told. Inside a
    transaction with the order locked."""
    before_total = order.total
    for line, variant, quantity in edit.todo:
        if line.variant_id:  # what was set aside goes back first
            Variant.update(stock=Variant.stock + line.quantity) \
                .where(Variant.id == line.variant_id).execute()
        taken = (Variant.update(stock=Variant.stock - quantity)
                 .where((Variant.id == variant.id) & (Variant.stock >= quantity)).execute())
        if not taken:
            left = Variant.get_by_id(variant.id).stock
            raise EditRefused("edit.out_of_stock", f"{line.product_name} ({variant.size}, "
                              f"{variant.colour}): only {left} in stock.")
        if quantity == 0:
            line.delete_instance()
            continue
        line.variant, line.size, line.colour, line.sku = variant.id, variant.size, \
            variant.colour, variant.sku
        line.quantity, line.unit_price = quantity, variant.price
        line.line_total, line.picked = quantity * variant.price, False
        line.discount = dict(edit.line_discounts).get(line.id, line.discount)
        line.save()
    _refund_lowered(order, before_total, edit.total)
    update_order(order, version=version, subtotal=edit.subtotal, total=edit.total,
                 discount_total=edit.discount_total, item_count=edit.item_count,
                 item_summary=edit.summary, **fields)
    record(order, "lines_changed", "Items changed: " + edit.describe(order.currency, before_total),
           actor=actor, actor_role=actor_role,
           before=json.dumps(list(edit.before)), after=json.dumps(list(edit.after)))


def _refund_lowered(order: Order, before: int, after: int) -> None:
    """A paid (captured) order whose total goes down is refunded the difference; an
    order only authorised is captured at its new total when it ships."""
    if after >= before:
        return
    sums = ledger.totals_of(order.id)  # no rows (an order from before the ledger): nothing
    if sums.captured or sums.capture_pending:
        money = lambda amount: format_money(amount, order.currency)  # noqa: E731
        ledger.request(order, ledger.Kind.REFUND, min(before - after, sums.refundable),
                       reason=f"total lowered from {money(before)} to {money(after)}")


def add_note(order: Order, text: str, *, actor: User) -> None:
    """An internal note: on the seller's timeline only."""
    text = text.strip()
    if not text:
        raise BadInput("form.empty_note", "Write something in the note first.")
    record(order, "note", text[:500], actor=actor, actor_role="seller", internal=True)
