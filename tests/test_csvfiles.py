"""CSV in and out: formulas never reach the seller's spreadsheet; any "Save as CSV" reads."""

import codecs
import csv
import io

import pytest

from portal import csvfiles
from portal.csvfiles import BadFile, read_table, safe_cell
from portal.models import User
from tests.factories import make_order, make_user

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3",
           "@SUM(1+1)", "\tTab", "\rReturn"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_that_would_run_as_a_formula_is_prefixed(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Bea Buyer", "12 Main St", "", "a=b", 42, 3.5, None])
def test_other_cells_are_left_alone(value):
    assert safe_cell(value) == value


def test_the_writer_neutralises_every_column():
    buffer = io.StringIO()
    csvfiles.writer(buffer).writerow(HOSTILE + ["fine", 7])
    cells = next(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert cells == ["'" + h for h in HOSTILE] + ["fine", "7"]


def test_the_order_export_neutralises_buyer_text(client, auth, shop):
    evil = make_user("evil@example.com", name='=HYPERLINK("http://evil.example","Click")')
    order = make_order(evil, shop)
    order.ship_line1, order.ship_city, order.ship_line2 = "+cmd|' /C calc'!A0", "@SUM(A1)", "-1"
    order.save()
    auth.login("seller@example.com")
    text = client.get("/seller/orders/export.csv").get_data(as_text=True)
    header, row = list(csv.reader(io.StringIO(text, newline="")))
    values = dict(zip(header, row))
    assert values["buyer_name"] == "'" + User.get_by_id(evil.id).name
    assert values["ship_line1"] == "'+cmd|' /C calc'!A0"
    assert values["ship_city"] == "'@SUM(A1)" and values["ship_line2"] == "'-1"
    assert not any(cell.startswith(csvfiles.FORMULA_STARTS) for cell in row)


ROWS = [(1, ["a", "b", "c"]), (2, ["d", "e", "f"])]


@pytest.mark.parametrize("data", [
    b"a,b,c\r\nd,e,f\r\n",                          # Windows
    b"a,b,c\nd,e,f",                                # Unix
    b"a,b,c\rd,e,f\r",                              # Excel's "CSV (Macintosh)"
    codecs.BOM_UTF8 + b"a,b,c\nd,e,f\n",             # Excel's "CSV UTF-8"
    "a,b,c\r\nd,e,f\r\n".encode("utf-16"),           # "Unicode text", with a BOM
    "a,b,c\r\nd,e,f\r\n".encode("utf-16-le"),        # ... and without one
    "a,b,c\r\nd,e,f\r\n".encode("utf-16-be"),
])
def test_every_line_ending_and_encoding_reads_the_same(data):
    assert read_table(data) == ROWS


@pytest.mark.parametrize("data, message", [
    (b"caf\xe9,ups,1Z\n", "not UTF-8 text"),
    (b"a,b\x00,c\n", "NUL characters"),
    (b"a," + b"x" * 200_000 + b",c\n", "longer than"),
    (b"a," + b"x" * 2_000 + b",c\n", "Row 1 has a cell longer than 1,000 characters"),
])
def test_files_that_cannot_be_read_say_why(data, message):
    with pytest.raises(BadFile, match=message):
        read_table(data)


def test_bulk_shipping_reads_a_mac_csv_and_explains_a_huge_cell(client, auth, buyer, shop):
    order = make_order(buyer, shop, status="processed")
    auth.login("seller@example.com")
    mac = f"order_number,carrier,tracking_number\r{order.number},manual,MAC-0001\r".encode()
    response = client.post("/seller/orders/ship-csv", data={
        "file": (io.BytesIO(mac), "mac.csv")}, content_type="multipart/form-data")
    assert response.status_code == 200 and "1 of 1 rows shipped." in response.get_data(as_text=True)
    huge = b"x" * 140_000 + b",manual,X\n"
    response = client.post("/seller/orders/ship-csv", data={
        "file": (io.BytesIO(huge), "big.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "longer than" in response.get_data(as_text=True)
    utf16 = f"{order.number},manual,NEW-0002\n".encode("utf-16-le")
    response = client.post("/seller/orders/ship-csv", data={
        "file": (io.BytesIO(utf16), "u.csv")}, content_type="multipart/form-data")
    # Read correctly: the order is found (and refused because it has shipped already).
    assert "not found" not in response.get_data(as_text=True).lower()


def test_bulk_shipping_finds_orders_past_the_first_500_rows(client, auth, buyer, shop):
    from portal.models import Order
    orders = [make_order(buyer, shop, status="processed") for _ in range(3)]
    filler = "".join(f"NOPE{k:05d}-XXXXX,manual,F{k:06d}\n" for k in range(520))
    last = "".join(f"{o.number},manual,LATE-{k:04d}\n" for k, o in enumerate(orders))
    auth.login("seller@example.com")
    response = client.post("/seller/orders/ship-csv", data={
        "file": (io.BytesIO((filler + last).encode()), "many.csv")},
        content_type="multipart/form-data")
    assert "3 of 523 rows shipped." in response.get_data(as_text=True)
    assert {Order.get_by_id(o.id).status for o in orders} == {"shipped"}
