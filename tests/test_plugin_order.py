"""Plugins are called through pluggy's hook caller: its order (the last registered
first, ``tryfirst``/``trylast``), its wrappers and ``firstresult`` mean what pluggy
says, while each implementation keeps its time budget and its failures are data."""

import dataclasses
import threading
from pathlib import Path

import pytest

from portal import hookimpl
from portal.hooks import pluginmanager, shop_plugins
from portal.hooks.hooktypes import CarrierInfo, PluginRefusal, TrackingNumberCheck

ROOT = Path(__file__).resolve().parent.parent


def validate(names, number="ABC-12345", code="manual"):
    return pluginmanager.call_first("carrier_validate_tracking_number", names,
                                    carrier_code=code, tracking_number=number, settings={})


def claims(verdict=True, **marks):
    """A carrier that also answers for the code ``manual`` (a better manual carrier)."""

    class Claims:
        def __init__(self):
            self.calls = []

        @hookimpl(**marks)
        def carrier_validate_tracking_number(self, carrier_code, tracking_number):
            self.calls.append(tracking_number)
            return TrackingNumberCheck(verdict, tracking_number, carrier_code, "Claims")

    return Claims()


def test_trylast_makes_the_manual_carrier_answer_after_another_for_the_same_code(
        app, register_plugin):
    from portal.plugins import manual
    other = register_plugin(claims(verdict=False), "other")
    pluginmanager.unregister("manual")
    pluginmanager.register(manual, "manual", "built-in")  # last: pluggy would ask it first...
    outcome = validate(["manual", "other"])
    assert outcome.plugin == "other" and outcome.value.valid is False  # ...but it is trylast
    assert other.calls == ["ABC-12345"]
    assert validate(["manual"]).value.valid is True  # alone, the manual carrier answers

    plain = register_plugin(claims(verdict=False), "plain")  # not trylast, registered last
    pluginmanager.unregister("other")
    assert validate(["manual", "plain"]).plugin == "plain"


def test_the_manual_carriers_trylast_is_pluggys_option(app):
    pm = pluginmanager.get_plugin_manager()
    impls = pm.hook.carrier_validate_tracking_number.get_hookimpls()
    manual = next(i for i in impls if i.plugin_name == "manual")
    assert manual.trylast and impls[0] is manual  # pluggy calls the list from its end


def test_a_tryfirst_plugin_answers_first(app, register_plugin):
    first = register_plugin(claims(verdict=True, tryfirst=True), "first")
    later = register_plugin(claims(verdict=False), "later")  # registered last: else first
    outcome = validate(["manual", "first", "later"])
    assert outcome.plugin == "first" and outcome.value.valid is True
    assert first.calls == ["ABC-12345"] and later.calls == []


def test_only_the_named_plugins_take_part(app, register_plugin):
    bystander = register_plugin(claims(verdict=False, tryfirst=True), "bystander")
    assert validate(["manual"]).plugin == "manual"
    assert bystander.calls == []


class Watcher:
    """A new-style wrapper: sees the answer and may change it."""

    def __init__(self):
        self.seen = []

    @hookimpl(wrapper=True)
    def carrier_validate_tracking_number(self, carrier_code, tracking_number, settings):
        result = yield
        self.seen.append((result.carrier_code, result.valid, settings))
        return dataclasses.replace(result, message="watched")


def test_a_wrapper_sees_the_result_and_may_change_it(app, register_plugin):
    watcher = register_plugin(Watcher(), "watcher")
    outcome = validate(["manual", "watcher"])
    assert watcher.seen == [("manual", True, {})]
    assert outcome.plugin == "manual" and outcome.value.message == "watched"
    assert not pluginmanager.implements("watcher", "carrier_validate_tracking_number")
    assert validate(["manual"]).value.message == ""  # not named: it does not wrap


def test_a_wrapper_that_raises_is_a_failure_not_a_crash(app, register_plugin, caplog):
    class Breaks:
        @hookimpl(wrapper=True)
        def carrier_validate_tracking_number(self):
            yield
            raise RuntimeError("wrapper broke")

    register_plugin(Breaks(), "breaks")
    outcome = validate(["manual", "breaks"])
    assert not outcome.ok and "RuntimeError: wrapper broke" in outcome.error
    assert "a wrapper of carrier_validate_tracking_number raised RuntimeError" in caplog.text


class OldStyle:
    def __init__(self):
        self.seen = []

    @hookimpl(hookwrapper=True)
    def carrier_info(self):
        result = yield
        self.seen.append(result.get_result())


def test_an_old_style_hookwrapper_sees_the_result_of_a_plain_hook(app, register_plugin):
    old = register_plugin(OldStyle(), "old")
    outcomes = pluginmanager.call_each("carrier_info", ["manual", "ups", "old"])
    assert [o.plugin for o in outcomes] == ["ups", "manual"]  # the later registered first
    assert [i.code for i in old.seen[0]] == ["ups", "manual"]


class Raises:
    def __init__(self):
        self.calls = 0

    @hookimpl
    def carrier_validate_tracking_number(self, carrier_code, tracking_number):
        self.calls += 1
        raise RuntimeError("the API is down")


def test_a_raising_plugin_in_a_chain_does_not_stop_the_next_and_is_recorded(
        app, register_plugin, caplog):
    first = register_plugin(claims(verdict=False), "first")
    broken = register_plugin(Raises(), "broken")  # registered last: asked first
    outcome = validate(["manual", "first", "broken"])
    assert broken.calls == 1 and first.calls == ["ABC-12345"]
    assert outcome.plugin == "first" and outcome.ok and outcome.value.valid is False
    assert "the API is down" in pluginmanager.problem("broken")
    assert "plugin broken: carrier_validate_tracking_number raised RuntimeError" in caplog.text
    assert pluginmanager.problem("first") == ""


def test_when_every_plugin_fails_the_first_failure_is_the_answer(app, register_plugin):
    register_plugin(Raises(), "broken")
    outcome = validate(["broken"])
    assert outcome.plugin == "broken" and "RuntimeError: the API is down" in outcome.error


class Refuses:
    @hookimpl(tryfirst=True)
    def carrier_validate_tracking_number(self, carrier_code, tracking_number):
        raise PluginRefusal("We do not ship there.")


def test_a_refusal_ends_the_chain_and_a_wrapper_sees_it(app, register_plugin):
    seen = []

    class Catcher:
        @hookimpl(wrapper=True)
        def carrier_validate_tracking_number(self):
            try:
                return (yield)
            except PluginRefusal as refusal:
                seen.append(refusal.message)
                raise

    register_plugin(Catcher(), "catcher")
    register_plugin(Refuses(), "refuses")
    later = register_plugin(claims(), "later")
    outcome = validate(["manual", "refuses", "later", "catcher"])
    assert outcome.plugin == "refuses" and outcome.refused == "We do not ship there."
    assert seen == ["We do not ship there."] and later.calls == []


class Hangs:
    def __init__(self):
        self.release, self.calls = threading.Event(), 0

    @hookimpl(tryfirst=True)
    def carrier_validate_tracking_number(self, carrier_code, tracking_number):
        self.calls += 1
        self.release.wait(10)


def test_a_plugin_that_overruns_rests_and_the_chain_goes_on(app, register_plugin):
    hung = register_plugin(Hangs(), "hung")
    try:
        outcome = validate(["manual", "hung"])
        assert outcome.plugin == "manual" and outcome.value.valid  # the next one answered
        assert "did not answer within 0.5 s" in pluginmanager.problem("hung")
        assert validate(["manual", "hung"]).plugin == "manual"
        assert hung.calls == 1  # resting: not called again
        assert "rests for a while" in pluginmanager.problem("hung")
    finally:
        hung.release.set()


def test_each_plugin_and_wrapper_gets_its_own_settings(app, register_plugin, shop):
    seen = {}

    class Sets:
        @hookimpl
        def carrier_info(self):
            return CarrierInfo(code="sets", name="Sets", tracking="manual")

        @hookimpl(tryfirst=True)
        def carrier_validate_tracking_number(self, carrier_code, settings):
            seen["sets"] = settings
            return None

    class Wraps:
        @hookimpl(wrapper=True)
        def carrier_validate_tracking_number(self, settings):
            seen["wraps"] = settings
            return (yield)

    register_plugin(Sets(), "sets")
    register_plugin(Wraps(), "wraps")
    from portal.testing import enable
    enable(shop, "sets")
    enable(shop, "wraps")
    shop_plugins.save_settings(shop, "sets", {"account": "A-1"})
    outcome = shop_plugins.for_shop(shop).call_first(
        "carrier_validate_tracking_number", carrier_code="manual", tracking_number="ABC-12345")
    assert outcome.plugin == "manual" and outcome.value.valid
    assert seen == {"sets": {"account": "A-1"}, "wraps": {}}


def test_the_builtin_list_is_the_entry_points_of_pyproject():
    import tomllib
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "entry-points"]["portal.plugins"]
    assert pluginmanager.builtins() == dict(sorted(declared.items()))
    source = (ROOT / "portal" / "hooks" / "pluginmanager.py").read_text()
    assert "portal.plugins.parcels:ups" not in source  # listed once: in pyproject.toml


def test_without_the_installed_package_the_builtins_come_from_pyproject(monkeypatch):
    monkeypatch.setattr(pluginmanager, "entry_points", lambda group: [])
    pluginmanager.builtins.cache_clear()
    try:
        assert set(pluginmanager.builtins()) == {"card", "cod", "manual", "demo", "ups", "usps", "fedex",
                                                 "dhl", "easypost", "coupons", "wallet"}
    finally:
        pluginmanager.builtins.cache_clear()


@pytest.mark.parametrize("name", ["manual", "ups"])
def test_a_plugin_answers_none_for_a_hook_it_does_not_implement(app, name):
    assert pluginmanager.call(name, "coupon_kinds") == pluginmanager.Outcome(name)


def test_the_seller_s_tracking_number_check_asks_the_shop_s_plugins_in_pluggy_s_order(
        app, register_plugin, shop):
    """On the ship form's path (shipping.check_tracking_number), a shop plugin that claims
    the manual code answers before the trylast manual carrier; the manual one answers alone."""
    from portal import shipping
    from portal.testing import enable
    strict = register_plugin(claims(verdict=False), "strict")
    assert shipping.check_tracking_number(shop, "manual", "ABC-12345").valid  # not enabled yet
    enable(shop, "strict")
    check = shipping.check_tracking_number(shop, "manual", "ABC-12345")
    assert check.valid is False and strict.calls == ["ABC-12345"]
