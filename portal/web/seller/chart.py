"""Geometry for the dashboard chart: orders per day as bars, revenue as a line.

Drawn on the server as inline SVG by ``seller/_chart.html``; no JavaScript.
"""

from dataclasses import dataclass

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 600, 200, 8, 22, 12


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
class Chart:
    bars: list[Bar]
    revenue_points: str  # the polyline's "x,y x,y ..." attribute
    max_orders: int
    max_revenue: int
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - PAD_BOTTOM


def build(days) -> Chart:
    """Lay out ``days`` (objects with .day, .orders, .revenue) across the chart."""
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    max_orders = max((d.orders for d in days), default=0) or 1
    max_revenue = max((d.revenue for d in days), default=0) or 1
    step = (WIDTH - PAD_LEFT) / max(len(days), 1)
    bars, points = [], []
    for k, d in enumerate(days):
        h = plot_h * d.orders / max_orders
        x = PAD_LEFT + k * step
        bars.append(Bar(round(x + step * .15, 1), round(HEIGHT - PAD_BOTTOM - h, 1),
                        round(step * .7, 1), round(h, 1), d.day, d.orders, d.revenue))
        y = HEIGHT - PAD_BOTTOM - plot_h * d.revenue / max_revenue
        points.append(f"{x + step / 2:.1f},{y:.1f}")
    return Chart(bars, " ".join(points), max_orders, max_revenue)
