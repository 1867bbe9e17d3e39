import re
from datetime import timedelta

from portal.models import utcnow
from portal.web.seller import chart
from portal.orders.management import DayFigures
from tests.factories import make_order


def test_dashboard_counts_delayed_and_chart(client, auth, buyer, shop, shop2):
    now = utcnow()
    late = make_order(buyer, shop, placed_at=now - timedelta(days=5))
    make_order(buyer, shop, placed_at=now, products=(("A", 1500, 2),))
    make_order(buyer, shop, status="delivered", placed_at=now - timedelta(days=1))
    make_order(buyer, shop, status="cancelled", placed_at=now, products=(("C", 99900, 1),))
    make_order(buyer, shop2, placed_at=now, products=(("Elsewhere", 77700, 1),))
    auth.login("seller@example.com")
    html = client.get("/seller/").get_data(as_text=True)
    stats = dict((label, int(n)) for n, label in
                 re.findall(r'<span class="stat-n">(\d+)</span> <span>(\w+)</span>', html))
    assert stats == {"Pending": 2, "Processed": 0, "Shipped": 0, "Delivered": 1,
                     "Cancelled": 1, "Returned": 0, "Delayed": 1, "Requests": 0}
    assert late.number in html.split("Delayed orders")[1].split("Last 30 days")[0]
    assert "3 orders · $108.00 revenue" in html  # 39 + 30 + 39; cancelled not counted
    assert html.count('<rect ') == 30
    assert 'role="img"' in html and "<title id=\"chart-title\">" in html
    assert "The figures as a table" in html and html.count("<tr><td>") >= 30
    assert "Elsewhere" not in html and "$777.00" not in html


def test_chart_geometry_scales_to_the_busiest_day():
    days = [DayFigures(day=utcnow().date() - timedelta(days=2 - k), orders=n, revenue=r)
            for k, (n, r) in enumerate([(0, 0), (4, 1000), (2, 4000)])]
    built = chart.build(days)
    heights = [b.height for b in built.bars]
    assert heights[0] == 0 and heights[1] > heights[2] > 0
    assert built.bars[1].y + built.bars[1].height == built.baseline
    assert len(built.revenue_points.split()) == 3


def test_chart_axes_show_round_values_for_orders_and_revenue():
    days = [DayFigures(day=utcnow().date() - timedelta(days=2 - k), orders=n, revenue=r)
            for k, (n, r) in enumerate([(0, 0), (7, 13450), (3, 4000)])]
    built = chart.build(days, "USD", "en_US")
    assert [t.orders for t in built.ticks] == [0, 2, 4, 6, 8]
    assert [t.revenue for t in built.ticks] == ["$0", "$50", "$100", "$150", "$200"]
    assert built.ticks[0].y == built.baseline and built.ticks[-1].y < built.ticks[1].y
    # The busiest day's bar reaches 7/8 of the way to the top gridline.
    top = built.baseline - built.ticks[-1].y
    assert built.bars[1].height == round(top * 7 / 8, 1)
    assert [chart.round_step(n) for n in (0, 4, 9, 99, 1234)] == [1, 1, 3, 25, 500]


def test_dashboard_chart_labels_its_scales(client, auth, buyer, shop):
    make_order(buyer, shop, placed_at=utcnow(), products=(("A", 1500, 2),))
    auth.login("seller@example.com")
    html = client.get("/seller/").get_data(as_text=True)
    svg = html.split("<svg")[1].split("</svg>")[0]
    assert re.findall(r'class="tick" text-anchor="end">(\d+)</text>', svg) == ["0", "1", "2", "3", "4"]
    assert ">$40</text>" in svg  # revenue, right scale: $34.99 on a scale of $10 steps
    assert "left scale" in html and "right scale" in html
