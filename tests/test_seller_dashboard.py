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
