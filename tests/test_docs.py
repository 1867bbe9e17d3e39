"""docs/plugins.md is all a plugin author needs: its reference parts are generated from
the code (docs/generate.py) and these tests fail when the page is out of date."""

import importlib.util
import re
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

from portal import hooktypes
from portal.hooks import hookspecs

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "plugins.md"


@pytest.fixture(scope="module")
def generate():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def section(page: str, name: str) -> str:
    return page.split(f"<!-- generated: {name} -->")[1].split(f"<!-- end generated: {name} -->")[0]


def test_the_page_is_up_to_date_with_the_code(generate):
    stale = generate.outdated(PAGE.read_text())
    assert not stale, f"docs/plugins.md is out of date ({stale}): run python docs/generate.py"


@pytest.mark.parametrize("name,old,new", [
    ("hooks", "Quote what shipping a parcel costs", "Quote rates"),
    ("types", "| `detects` | `bool` | `True` |", "| `detects` | `bool` | `False` |"),
    ("fixtures", "### `buy_label`", "### `buy_a_label`"),
])
def test_an_edited_or_stale_section_is_caught(generate, name, old, new):
    page = PAGE.read_text()
    assert old in section(page, name)
    assert generate.outdated(page.replace(old, new, 1)) == [name]


def test_a_changed_docstring_makes_the_page_stale(generate, monkeypatch):
    page = PAGE.read_text()
    monkeypatch.setattr(hookspecs.carrier_rates, "__doc__", "Rates.\n\nCalled sometimes.")
    assert generate.outdated(page) == ["hooks"]


def test_every_type_a_hook_takes_or_returns_is_documented_field_by_field():
    types = section(PAGE.read_text(), "types")
    for name, cls in vars(hooktypes).items():
        if not isinstance(cls, type) or cls.__module__ != hooktypes.__name__:
            continue
        assert f"### `{name}" in types, name
        if is_dataclass(cls):
            for f in fields(cls):
                row = re.search(rf"^\| `{f.name}` \| .*$", types.split(f"### `{name}`")[1], re.M)
                assert row, f"{name}.{f.name} is not documented"
                meaning = row[0].rstrip("|").rsplit("|", 1)[1].strip()
                assert meaning, f"{name}.{f.name}: write a comment beside the field"
    assert "asked to recognise a number when the seller leaves the carrier blank" in types


def test_every_fixture_is_documented_with_an_example_that_runs(generate):
    fixtures = generate.fixtures()
    header, classes, tests = generate.examples()
    page = section(PAGE.read_text(), "fixtures")
    assert {"portal_app", "portal_client", "portal_shop", "seller_client", "enable_plugin",
            "processed_order", "shipped_order", "quote_rates", "buy_label", "poll_tracking",
            "post_webhook", "register_plugin"} <= {f.name for f in fixtures}
    for fixture in fixtures:
        assert generate.ast.get_docstring(fixture), f"{fixture.name} has no docstring"
        assert f"test_{fixture.name}" in tests, f"no example test for {fixture.name}"
        assert f"def test_{fixture.name}(" in page


def test_refusals_and_restarts_are_explained():
    page = PAGE.read_text()
    assert "PluginRefusal" in page.split("<!-- generated: hooks -->")[0]
    assert "appears after a restart" in page
