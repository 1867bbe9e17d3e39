"""README's map of the code matches the tree: every module is on it, and only those."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTAL = ROOT / "portal"
# Folders whose modules the map lists one by one; the others are listed as a folder.
LISTED_ONE_BY_ONE = ("orders", "shipping", "hooks")


def _map() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("## How it is laid out", 1)[1].split("```", 2)[1]


def _entries() -> set[str]:
    """The paths the map names, as portal/... paths."""
    entries, stack = set(), []
    for line in _map().splitlines():
        match = re.match(r"^( *)(\S+)(?:\s|$)", line)
        if not match or len(match.group(1)) > 8 or not re.match(r"^[\w.]+/?$", match.group(2)):
            continue  # a continuation line of a description
        depth = len(match.group(1)) // 2
        stack[depth:] = [match.group(2).rstrip("/")]
        entries.add("/".join(stack))
    return {e for e in entries if e.startswith("portal")}


def _tree() -> set[str]:
    tree = set()
    for path in PORTAL.iterdir():
        if path.name.startswith((".", "__pycache__")):
            continue
        if path.is_dir():
            tree.add(f"portal/{path.name}")
            if path.name in LISTED_ONE_BY_ONE:
                tree |= {f"portal/{path.name}/{p.name}" for p in path.glob("*.py")
                         if p.name != "__init__.py" or re.search(r"^(def|class) ", p.read_text(), re.M)}
        elif path.suffix == ".py":
            tree.add(f"portal/{path.name}")
    web = PORTAL / "web"
    tree |= {f"portal/web/{p.name}" for p in web.iterdir()
             if (p.is_dir() and p.name != "__pycache__")
             or (p.suffix == ".py" and p.name != "__init__.py")}
    return tree


def test_every_module_is_on_the_map_and_every_entry_exists():
    listed = _entries()
    missing = _tree() - listed
    assert not missing, f"README's map misses {sorted(missing)}"
    stale = {e for e in listed if not (ROOT / e).exists() and not (ROOT / (e + ".py")).exists()}
    assert not stale, f"README's map names what is not there: {sorted(stale)}"
