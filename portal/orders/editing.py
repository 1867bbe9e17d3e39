"""Editing an order before it ships: the shipping address and the lines.

Each edit is checked against the version the seller's form was built from,
re-prices and re-stocks what it changes, and lands on the buyer's timeline with
who made it and the values before and after.
"""

import json

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


def change_lines(order: Order, changes: dict[int, tuple[int, int]], *, version: int,
                 actor: User) -> bool:
    """Set each line's variant and quantity (0 removes it): re-priced, stock adjusted.

    ``changes`` maps an order line id to (variant id, quantity). Returns False
    when nothing changed. A variant of another product, more than is in stock or
    an order left with no lines is refused (:class:`~portal.orders.errors.BadInput`,
    :class:`~portal.orders.errors.EditRefused`).
    """
    actions.edit(order, "edit_lines").check()
    lines = lines_of(order)
    choices = variant_choices(lines)
    todo = []
    for line in lines:
        variant_id, quantity = changes.get(line.id, (line.variant_id, line.quantity))
        if (variant_id, quantity) == (line.variant_id, line.quantity):
            continue
        if quantity < 0 or quantity > 99:
            raise BadInput("form.bad_quantity",
                           f"{line.product_name}: a quantity from 0 to 99, please.")
        variant = next((v for v in choices[line.id] if v.id == variant_id), None)
        if variant is None:
            raise BadInput("form.bad_variant",
                           f"{line.product_name}: choose one of its own sizes and colours.")
        todo.append((line, variant, quantity))
    if not todo:
        return False
    if not any(changes.get(line.id, (None, line.quantity))[1] for line in lines):
        raise EditRefused("edit.no_items", "An order needs at least one item; cancel it instead.")

    before_lines = [describe_line(line) for line in lines]
    before_total = order.total
    with database.atomic():
        for line, variant, quantity in todo:
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
            line.save()
        kept = lines_of(order)
        subtotal = sum(line.line_total for line in kept)
        total = subtotal - order.discount_total + order.shipping_total + order.fee_total
        _move_money(order, before_total, total)  # refused: nothing of the edit is kept
        update_order(order, version=version, subtotal=subtotal, total=total,
                     item_count=sum(line.quantity for line in kept),
                     item_summary=item_summary(kept))
        after_lines = [describe_line(line) for line in kept]
        removed = [b for b in before_lines if b not in after_lines]
        added = [a for a in after_lines if a not in before_lines]
        money = f"; total {format_money(before_total, order.currency)} → " \
                f"{format_money(total, order.currency)}" if total != before_total else ""
        record(order, "lines_changed",
               f"Items changed: {', '.join(removed)} → {', '.join(added) or 'removed'}{money}",
               actor=actor, actor_role="seller",
               before=json.dumps(before_lines), after=json.dumps(after_lines))
    return True


BALANCE_DUE = ("The new total is {new}, more than the {paid} the buyer paid: the buyer would "
               "have to pay the difference: not possible yet. Nothing was changed.")
OVER_AUTHORISED = ("The new total is {new}, more than the {paid} the buyer's payment "
                   "reserved: the buyer would have to pay the difference: not possible yet. "
                   "Nothing was changed.")


def _move_money(order: Order, before: int, after: int) -> None:
    """An edit's money, through the ledger (orders from before it: nothing moves).

    A paid (captured) order whose total goes down is refunded the difference; one
    whose total goes up is refused (the buyer would have to pay). An order only
    authorised may change within what was authorised (the capture takes the new total).
    """
    if after == before or not ledger.has_ledger(order.id):
        return
    lock(order.id)  # a refund at the same time waits: the two are checked one after the other
    sums = ledger.totals_of(order.id)
    money = lambda amount: format_money(amount, order.currency)  # noqa: E731
    if sums.captured or sums.capture_pending:
        if after > before:
            raise EditRefused("edit.balance_due", BALANCE_DUE.format(
                new=money(after), paid=money(before)))
        ledger.request(order, ledger.Kind.REFUND, min(before - after, sums.refundable),
                       reason=f"total lowered from {money(before)} to {money(after)}")
    elif sums.authorised and after > sums.authorised:
        raise EditRefused("edit.balance_due", OVER_AUTHORISED.format(
            new=money(after), paid=money(sums.authorised)))


def add_note(order: Order, text: str, *, actor: User) -> None:
    """An internal note: on the seller's timeline only."""
    text = text.strip()
    if not text:
        raise BadInput("form.empty_note", "Write something in the note first.")
    record(order, "note", text[:500], actor=actor, actor_role="seller", internal=True)
