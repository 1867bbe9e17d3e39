"""Order Management: the list, bulk actions, CSV export and CSV bulk shipping."""

import io
from datetime import timedelta

from flask import (Response, abort, current_app, flash, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_login import current_user

from portal import csvfiles
from portal.models import OrderLine, utcnow
from portal.orders import fulfilment, management
from portal.shipping import bulk_shipping
from portal.orders.queries import BadCursor
from portal.web.access import current_shop, seller_required
from portal.web.guards import safe_local_path
from portal.web.render import page_or_fragment
from portal.web.seller import bp, local_day_start
from portal.web.seller.forms import BulkForm, FilterForm, UploadForm

PAGE_SIZE = 50


def read_filters() -> tuple[FilterForm, management.Filters]:
    form = FilterForm(request.args)
    status = request.args.get("status", "")
    if status not in {value for value, _ in management.TABS}:
        abort(400, description=f"There is no tab called {status!r}.")
    if not form.validate():
        return form, management.Filters(status=status)
    sort = form.sort.data if form.sort.data in management.SORTS else "newest"
    return form, management.Filters(
        status=status, q=form.q.data or "", sort=sort,
        placed_from=local_day_start(form.placed_from.data) if form.placed_from.data else None,
        placed_to=local_day_start(form.placed_to.data + timedelta(days=1))
        if form.placed_to.data else None)


def list_args(form: FilterForm, **changes) -> dict:
    """The list's query string as a dict, with ``changes`` applied (None drops a key)."""
    args = {"status": request.args.get("status") or None, "q": form.q.data or None,
            "placed_from": request.args.get("placed_from") or None,
            "placed_to": request.args.get("placed_to") or None,
            "sort": form.sort.data if form.sort.data != "newest" else None}
    args.update(changes)
    return {k: v for k, v in args.items() if v}


@bp.get("/orders")
@seller_required
def orders():
    shop, now = current_shop(), utcnow()
    form, filters = read_filters()
    try:
        page = management.shop_orders(shop, filters, now, before=request.args.get("before"),
                                      after=request.args.get("after"), limit=PAGE_SIZE)
    except BadCursor:
        abort(400, description="That page link is not valid. Start again from the first page.")
    response = page_or_fragment(
        "seller/orders.html", "seller/_orders.html", page=page, form=form, filters=filters,
        tabs=management.TABS, counts=management.status_counts(shop, now), now=now, shop=shop,
        list_args=lambda **changes: list_args(form, **changes), bulk_form=BulkForm(),
        upload_form=UploadForm(), is_delayed=management.is_delayed)
    if form.errors:
        response.status_code = 400
    return response


@bp.post("/orders/bulk")
@seller_required
def bulk():
    form, shop = BulkForm(), current_shop()
    back = _back_to_list()
    if not form.validate_on_submit():
        flash("Choose what to do with the ticked orders.", "error")
        return redirect(back, code=303)
    # "Apply to all on this page" sends every listed number: select-all without JavaScript.
    field = "listed" if request.form.get("scope") == "page" else "order"
    chosen = management.orders_by_number(shop, request.form.getlist(field))
    if not chosen:
        flash("Tick at least one order first.", "error")
        return redirect(back, code=303)
    if form.action.data == "packing_slips":
        return redirect(url_for("seller.packing_slips", order=sorted(chosen)), code=303)
    done, skipped = fulfilment.process_many(list(chosen.values()), actor=current_user)
    if done:
        flash(f"Marked as processed, each checklist confirmed by you (on its timeline): "
              f"{', '.join(done)}.", "success")
    if skipped:
        flash("Not processed: " + "; ".join(f"{n} ({why})" for n, why in skipped) + ".", "error")
    return redirect(back, code=303)


def _back_to_list() -> str:
    return (safe_local_path(request.form.get("back"), "/seller/orders")
            or url_for("seller.orders"))


@bp.get("/orders/packing-slips")
@seller_required
def packing_slips():
    chosen = management.orders_by_number(current_shop(), request.args.getlist("order"))
    if not chosen:
        abort(404)
    orders = sorted(chosen.values(), key=lambda o: o.number)
    lines: dict[int, list] = {}
    for line in (OrderLine.select().where(OrderLine.order.in_([o.id for o in orders]))
                 .order_by(OrderLine.id)):
        lines.setdefault(line.order_id, []).append(line)
    return render_template("seller/packing_slips.html", orders=orders, lines=lines,
                           shop=current_shop())


@bp.get("/orders/export.csv")
@seller_required
def export_csv():
    shop, now = current_shop(), utcnow()
    form, filters = read_filters()
    if form.errors:
        abort(400, description="; ".join(e for errs in form.errors.values() for e in errs))

    def generate():
        buffer = io.StringIO()
        writer = csvfiles.writer(buffer)  # formulas neutralised
        writer.writerow(management.EXPORT_HEADER)
        for row in management.export_rows(shop, filters, now):
            writer.writerow(row)
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    name = f"orders-{shop.slug}-{now:%Y%m%d-%H%M}.csv"
    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/orders/ship-csv")
@seller_required
def ship_csv():
    form = UploadForm()
    rows, shipped = [], 0
    if form.validate_on_submit():
        data = form.file.data.read(current_app.config["MAX_CSV_BYTES"] + 1)
        try:
            if len(data) > current_app.config["MAX_CSV_BYTES"]:
                raise bulk_shipping.BadFile("The file is larger than 1 MB; split it in parts.")
            rows = bulk_shipping.check_rows(current_shop(), bulk_shipping.read_rows(data))
        except bulk_shipping.BadFile as exc:
            form.file.errors.append(str(exc))
        else:
            shipped = bulk_shipping.ship_rows(rows, actor=current_user)
    status = 200 if rows else 422
    return render_template("seller/ship_report.html", form=form, rows=rows,
                           shipped=shipped), status
