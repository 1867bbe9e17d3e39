"""create_app(): each app owns its database; importing the package runs nothing."""

import subprocess
import sys

from portal import create_app
from portal.db import database, upgrade_schema
from portal.models import User
from tests.conftest import TEST_CONFIG
from tests.factories import PASSWORD, make_user


def test_two_apps_in_one_process_keep_their_own_databases(tmp_path):
    apps = {}
    for name in ("north", "south"):
        app = create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path / name}.sqlite3"})
        with app.app_context():
            upgrade_schema()
            with database.connection_context():
                make_user(f"{name}@example.com")
        apps[name] = app
    # The first app is not re-pointed at the second one's database.
    for name, app in apps.items():
        with app.app_context(), database.connection_context():
            assert [u.email for u in User.select()] == [f"{name}@example.com"]
        client = app.test_client()
        other = "south" if name == "north" else "north"
        assert client.post("/login", data={"email": f"{other}@example.com",
                                           "password": PASSWORD}).status_code == 422
        assert client.post("/login", data={"email": f"{name}@example.com",
                                           "password": PASSWORD}).status_code == 303


def test_importing_the_package_loads_neither_flask_nor_pluggy():
    code = ("import sys, portal; print(sorted(m for m in ('flask', 'pluggy') "
            "if m in sys.modules)); from portal import create_app, hookimpl; "
            "print(callable(create_app), type(hookimpl).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True HookimplMarker"]
