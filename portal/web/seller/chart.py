"""Geometry for the dashboard chart: orders per day as bars, revenue as a line.

Drawn on the server as inline SVG by ``seller/_chart.html``; no JavaScript.
Both axes share four gridlines at round values: orders on the left, revenue on
the right. The drawing is small (360 units wide) so that its 11-unit labels stay
readable when a phone shrinks it to the screen.
"""

import math
from dataclasses import dataclass

from babel.numbers import format_compact_currency

from portal.money import from_decimal, to_decimal

WIDTH, HEIGHT = 360, 180
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 26, 40, 8, 20
TICKS = 4  # gridlines above the baseline


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: object
    orders: int
    revenue: int


@dataclass
class Tick:
    y: float
    orders: int  # the left axis' value at this gridline
    revenue: str  # the right axis' value, formatted ("$1.5K")


@dataclass
class Chart:
    bars: list[Bar]
    revenue_points: str  # the polyline's "x,y x,y ..." attribute
    max_orders: int
    max_revenue: int
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - PAD_BOTTOM
    left: float = PAD_LEFT
    right: float = WIDTH - PAD_RIGHT


def round_step(largest: float, ticks: int = TICKS) -> int:
    """The smallest round whole step (1, 2, 2.5, 3 or 5 × 10ⁿ) that reaches ``largest``
    in ``ticks`` steps: axis labels such as 0, 25, 50, 75, 100."""
    raw = max(largest / ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(int(m * magnitude) for m in (1, 2, 2.5, 3, 5, 10)
                if m * magnitude >= raw and m * magnitude == int(m * magnitude))


def build(days, currency: str = "USD", locale: str = "en_US") -> Chart:
    """Lay out ``days`` (objects with .day, .orders, .revenue) across the chart."""
    plot_h, plot_w = HEIGHT - PAD_BOTTOM - PAD_TOP, WIDTH - PAD_LEFT - PAD_RIGHT
    max_orders = max((d.orders for d in days), default=0)
    max_revenue = max((d.revenue for d in days), default=0)
    order_step = round_step(max_orders)
    major_step = round_step(float(to_decimal(max_revenue, currency)))  # whole currency units
    top_orders = order_step * TICKS
    top_revenue = from_decimal(major_step * TICKS, currency)  # in minor units, as the days are
    baseline = HEIGHT - PAD_BOTTOM
    ticks = [Tick(round(baseline - plot_h * k / TICKS, 1), order_step * k,
                  format_compact_currency(major_step * k, currency, locale=locale,
                                          fraction_digits=1))
             for k in range(TICKS + 1)]
    step = plot_w / max(len(days), 1)
    bars, points = [], []
    for k, d in enumerate(days):
        h = plot_h * d.orders / top_orders
        x = PAD_LEFT + k * step
        bars.append(Bar(round(x + step * .15, 1), round(baseline - h, 1),
                        round(step * .7, 1), round(h, 1), d.day, d.orders, d.revenue))
        y = baseline - plot_h * d.revenue / top_revenue
        points.append(f"{x + step / 2:.1f},{y:.1f}")
    return Chart(bars, " ".join(points), max_orders, max_revenue, ticks)
