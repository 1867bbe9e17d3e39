"""A discount spread over the lines it applies to, to the minor unit.

Pro rata by each line's total, rounded down, and the cents left over given one
each to the lines with the largest remainders; on equal remainders the earlier
line first (the cart's order), so the same cart always gets the same split.
The shares add up to the discount exactly, and no line gets more than its own
total. A refund of a line then gives back ``line_total - share``: what the buyer
really paid for it.
"""


def allocate(amount: int, weights: list[int]) -> list[int]:
    """``amount`` (minor units, capped at the weights' sum) split over ``weights`` (each
    line's total, minor units, >= 0)."""
    total = sum(max(w, 0) for w in weights)
    amount = max(0, min(amount, total))
    if not total:
        return [0] * len(weights)
    weights = [max(w, 0) for w in weights]
    shares = [amount * w // total for w in weights]
    left = amount - sum(shares)
    # The remainder of each share is (amount * w) % total; largest first, then line order.
    order = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def spread(discounts: list[tuple[int, list[int]]], line_totals: list[int]) -> list[int]:
    """Each line's share of several discounts: ``discounts`` are (amount, the indexes of
    the lines it applies to). A later discount is spread over what the earlier ones
    left of each line, so a line never goes below zero."""
    left = list(line_totals)
    shares = [0] * len(line_totals)
    for amount, indexes in discounts:
        part = allocate(amount, [left[i] for i in indexes])
        for i, share in zip(indexes, part):
            shares[i] += share
            left[i] -= share
    return shares
