"""Every hook is specified, documented and tested; every built-in plugin keeps to the specs."""

import inspect
import re
from pathlib import Path

import pytest

from portal import hookimpl
from portal.hooks import hookspecs, pluginmanager
from portal.hooktypes import CarrierInfo

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name, fn in vars(hookspecs).items()
               if inspect.isfunction(fn) and hasattr(fn, "portal_spec"))
BUILTINS = list(pluginmanager.builtins())


def test_hookimpl_is_the_portals_marker():
    assert hookimpl.project_name == "portal"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_reference_docstring(hook):
    fn = getattr(hookspecs, hook)
    doc = inspect.getdoc(fn)
    assert doc and "Called" in doc, f"{hook}: say when it is called"
    for arg in inspect.signature(fn).parameters:
        assert f":param {arg}:" in doc, f"{hook}: document {arg}"
    if fn.portal_spec.get("firstresult"):
        assert "Stops at first non-None result." in doc


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_section_in_the_docs(hook):
    docs = (ROOT / "docs" / "plugins.md").read_text()
    assert re.search(rf"^### `{hook}\(", docs, re.M), f"docs/plugins.md has no section for {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook):
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py")
                    if p.name != "test_hookspecs.py")
    assert hook in tests, f"no test mentions {hook}"


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_plugins_conform_to_the_specs(name):
    """Each implementation names a specified hook and takes only arguments it specifies."""
    pm = pluginmanager.get_plugin_manager()
    plugin = pm.get_plugin(name)
    assert plugin is not None, f"{name} is not registered"
    assert pluginmanager.installed()[BUILTINS.index(name)].source == "built-in"
    implemented = [caller for caller in pm.get_hookcallers(plugin)]
    assert implemented, f"{name} implements no hook"
    for caller in implemented:
        spec_args = set(caller.spec.argnames)
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin:
                assert set(impl.argnames) <= spec_args, (name, caller.name)
    pm.check_pending()


@pytest.mark.parametrize("name", [n for n in BUILTINS
                                  if n not in ("easypost", "card", "cod", "wallet", "coupons")])
def test_builtin_carriers_describe_themselves(name):
    info = pluginmanager.call(name, "carrier_info").value
    assert isinstance(info, CarrierInfo)
    assert info.code == name
    assert info.tracking in {"manual", "webhook", "polling"}


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_carrier_hooks_leave_other_carriers_alone(name):
    """A hook aimed at one carrier answers None for a code it does not own."""
    for hook in ("carrier_validate_tracking_number", "carrier_tracking_url", "carrier_rates",
                 "carrier_buy_label", "carrier_void_label", "carrier_track",
                 "carrier_parse_webhook"):
        outcome = pluginmanager.call(name, hook, carrier_code="nobody", tracking_number="X",
                                     settings={}, parcel=None, rate=None, label_id="",
                                     query=None, now=None, request=None)
        assert outcome.ok and outcome.value is None, (name, hook)


def test_the_plugins_cli_lists_plugins_and_their_hooks(runner):
    result = runner.invoke(args=["plugins"])
    assert result.exit_code == 0
    for name in BUILTINS:
        family = ("payment" if name in ("card", "cod", "wallet")
                  else "coupon" if name == "coupons" else "carrier")
        assert re.search(rf"^{name}  \(built-in; {family}\)", result.output, re.M)
    assert "    carrier_parse_webhook" in result.output


def test_the_docs_walk_through_is_the_example_plugins_real_code():
    """Every Python block of docs/plugins.md's walk-through is copied from the example
    plugins (the carrier, and the SMS channel in tests/sms_example.py), so it runs (the
    generated parts are checked by tests/test_docs.py)."""
    docs = (ROOT / "docs" / "plugins.md").read_text().split("<!-- generated:")[0]
    example = ROOT / "examples" / "portal-carrier-example"
    sources = "".join(p.read_text() for p in example.rglob("*.py"))
    sources += (ROOT / "tests" / "sms_example.py").read_text()
    blocks = re.findall(r"```python\n(.*?)```", docs, re.S)
    assert len(blocks) >= 5
    for block in blocks:
        assert block in sources, block[:80]
