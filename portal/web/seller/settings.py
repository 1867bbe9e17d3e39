"""Shop settings: ship-from and return addresses, handling time, time zone, windows, return policy,
flat shipping rate, e-mails."""

from flask import flash, redirect, render_template, url_for

from portal.money import to_decimal
from portal.orders import shop_settings
from portal.web.access import current_shop, seller_required
from portal.web.seller import bp
from portal.web.seller.forms import SettingsForm, options


@bp.route("/settings", methods=["GET", "POST"])
@seller_required
def settings():
    shop = current_shop()
    products = shop_settings.products_of(shop)
    form = SettingsForm(obj=shop, currency=shop.currency)
    form.non_returnable.choices = options((p.id, p.name) for p in products)
    if not form.is_submitted():
        form.non_returnable.data = [p.id for p in products if not p.returnable]
        form.flat_rate.data = str(to_decimal(shop.flat_rate_amount, shop.currency))
    if form.validate_on_submit():
        try:
            shop_settings.update(shop, shop_settings.ShopSettings(
                ship_from={key: form[f"ship_from_{key}"].data for key in shop_settings.SHIP_FROM},
                handling_days=form.handling_days.data,
                modification_window_hours=form.modification_window_hours.data,
                return_window_days=form.return_window_days.data,
                non_returnable=set(form.non_returnable.data or []),
                notify_by_email=form.notify_by_email.data,
                flat_rate=form.flat_rate_amount, flat_rate_days=form.flat_rate_days.data,
                timezone=form.timezone.data,
                return_to={key: form[f"return_{key}"].data for key in shop_settings.SHIP_FROM}))
        except shop_settings.ShipFromRefused as refused:
            for key, message in refused.errors.items():
                field = form[f"ship_from_{key}"]
                field.errors = [*field.errors, message]
        except shop_settings.ReturnAddressRefused as refused:
            for key, message in refused.errors.items():
                field = form[f"return_{key}"]
                field.errors = [*field.errors, message]
        except shop_settings.FlatRateRefused as refused:
            for key, message in refused.errors.items():
                form[key].errors = [*form[key].errors, message]
        else:
            flash("Settings saved.", "success")
            return redirect(url_for("seller.settings"), code=303)
    status = 422 if form.errors else 200
    return render_template("seller/settings.html", form=form, shop=shop), status
