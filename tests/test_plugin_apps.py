"""The plugin state belongs to the app: two apps in one process keep their own
time budget, registered plugins, failures and carrier answers."""

from portal import create_app, hookimpl
from portal.hooks import pluginmanager, shop_plugins
from portal.hooks.hooktypes import CarrierInfo
from tests.conftest import TEST_CONFIG


class Raises:
    @hookimpl
    def carrier_info(self):
        return CarrierInfo(code="flaky", name="Flaky", tracking="manual")

    @hookimpl
    def carrier_tracking_url(self, carrier_code):
        raise RuntimeError("down")


def two_apps(database_url):
    first = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "PLUGIN_TIME_BUDGET": 0.25,
                        "PLUGIN_COOLDOWN": 5})
    second = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "PLUGIN_TIME_BUDGET": 3})
    return first, second


def test_each_app_keeps_its_own_budget(database_url):
    first, second = two_apps(database_url)
    assert first.extensions["portal.plugins"] is not second.extensions["portal.plugins"]
    with first.app_context():
        assert pluginmanager.current().settings["budget"] == 0.25
        assert pluginmanager.current().settings["cooldown"] == 5
        with second.app_context():
            assert pluginmanager.current().settings == {"budget": 3.0, "cooldown": 60.0,
                                                        "memory": 600.0}
        assert pluginmanager.current().settings["budget"] == 0.25  # back to the first's
    # Outside any app context: the one made last (scripts, test set-up).
    assert pluginmanager.current() is second.extensions["portal.plugins"]


def test_a_plugin_registered_on_one_app_is_not_seen_by_the_other(database_url):
    first, second = two_apps(database_url)
    with first.app_context():
        pluginmanager.register(Raises(), "flaky")
        assert "flaky" in pluginmanager.plugin_names()
        assert shop_plugins.carrier_info("flaky").code == "flaky"
    with second.app_context():
        assert "flaky" not in pluginmanager.plugin_names()
        assert shop_plugins.carrier_info("flaky") is None
        assert pluginmanager.get_plugin_manager() is not first.extensions["portal.plugins"].pm
    assert first.test_cli_runner().invoke(args=["plugins"]).output.count("flaky") == 1
    assert "flaky" not in second.test_cli_runner().invoke(args=["plugins"]).output


def test_failures_recorded_in_one_app_do_not_show_in_the_other(database_url):
    first, second = two_apps(database_url)
    for app in (first, second):
        with app.app_context():
            pluginmanager.register(Raises(), "flaky")
    with first.app_context():
        outcome = pluginmanager.call("flaky", "carrier_tracking_url", carrier_code="flaky",
                                     tracking_number="X", settings={})
        assert "RuntimeError: down" in outcome.error
        assert "its carrier_tracking_url failed once" in pluginmanager.problem("flaky")
    with second.app_context():
        assert pluginmanager.problem("flaky") == ""
        pluginmanager.forgive_all()
    with first.app_context():
        assert pluginmanager.problem("flaky")  # the second's forgiving is its own
