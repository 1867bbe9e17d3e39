"""Shop settings: ship-from address, handling time, windows, return policy, e-mails."""

from flask import flash, redirect, render_template, url_for

from portal.addresses import check_address
from portal.db import database
from portal.models import Product
from portal.web.access import current_shop, seller_required
from portal.web.seller import bp
from portal.web.seller.forms import SettingsForm, options

SHIP_FROM = ("name", "line1", "line2", "city", "region", "postal_code", "country")


@bp.route("/settings", methods=["GET", "POST"])
@seller_required
def settings():
    shop = current_shop()
    products = list(Product.select(Product.id, Product.name, Product.returnable)
                    .where(Product.shop == shop.id).order_by(Product.name))
    form = SettingsForm(obj=shop)
    form.non_returnable.choices = options((p.id, p.name) for p in products)
    if not form.is_submitted():
        form.non_returnable.data = [p.id for p in products if not p.returnable]
    if form.validate_on_submit():
        address = {k: form[f"ship_from_{k}"].data for k in SHIP_FROM}
        check = check_address(address) if any(v for k, v in address.items() if k != "country") \
            else None
        if check and not check.valid:
            for key, message in check.errors.items():
                if key in SHIP_FROM:
                    field = form[f"ship_from_{key}"]
                    field.errors = [*field.errors, message]
        else:
            with database.atomic():
                form.populate_obj(shop)
                if check:
                    for key in SHIP_FROM:
                        setattr(shop, f"ship_from_{key}", check.address[key])
                shop.save()
                chosen = set(form.non_returnable.data or [])
                Product.update(returnable=~Product.id.in_(list(chosen) or [0])) \
                    .where(Product.shop == shop.id).execute()
            flash("Settings saved.", "success")
            return redirect(url_for("seller.settings"), code=303)
    status = 422 if form.errors else 200
    return render_template("seller/settings.html", form=form, shop=shop), status
