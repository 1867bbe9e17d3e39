"""Write the generated sections of docs/plugins.md from the code.

    python docs/generate.py          # rewrite docs/plugins.md in place
    python docs/generate.py --check  # exit 1 (and say which section) if it is out of date

Three sections are generated, each between ``<!-- generated: NAME -->`` and
``<!-- end generated: NAME -->`` markers; everything else in the page is
written by hand and left alone:

- ``hooks``: the hook reference, from the docstrings of ``portal/hooks/hookspecs.py``;
- ``types``: what hooks take and return, from ``portal/hooks/hooktypes.py`` (each
  class's docstring, and its fields with their types, defaults and the
  comment written beside each);
- ``fixtures``: the pytest fixtures of ``portal/testing.py`` (their
  docstrings), each with an example: the test ``test_<fixture>`` of
  ``examples/portal-carrier-example/tests/test_fixtures.py``, which
  ``make test`` runs.

``tests/test_docs.py`` fails when the page differs from what this writes.
"""

import ast
import inspect
import io
import re
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "plugins.md"
HOOKTYPES = ROOT / "portal" / "hooks" / "hooktypes.py"
TESTING = ROOT / "portal" / "testing.py"
FIXTURE_EXAMPLES = ROOT / "examples" / "portal-carrier-example" / "tests" / "test_fixtures.py"
SECTIONS = ("hooks", "types", "fixtures")
HOOK_FAMILIES = {"plugin": "Every plugin", "carrier": "Carriers", "payment": "Payment methods",
                 "coupon": "Coupons", "order": "Order events",
                 "notification": "Notification channels"}


def markdown(text: str) -> str:
    """reStructuredText roles of the docstrings as Markdown code spans."""
    text = re.sub(r":(?:class|func|meth|data|attr|exc):`~?([^`]+)`", r"`\1`", text)
    return re.sub(r"``(.+?)``", r"`\1`", text)


def _paragraphs(text: str) -> str:
    """Docstring paragraphs with their lines joined, separated by blank lines."""
    return "\n\n".join(" ".join(line.strip() for line in block.splitlines())
                       for block in re.split(r"\n\s*\n", text.strip()) if block.strip())


# -- hooks --------------------------------------------------------------------------

def _split_fields(doc: str) -> tuple[str, list[tuple[str, str]], str]:
    """A docstring's text before its ``:param:`` list, and the list as (name, text)."""
    match = re.search(r"^:(param|returns)", doc, re.M)
    if not match:
        return doc, [], ""
    head, rest = doc[:match.start()], doc[match.start():]
    items = []
    for chunk in re.split(r"^(?=:)", rest, flags=re.M):
        chunk = chunk.strip()
        if not chunk:
            continue
        m = re.match(r":(param (\w+)|returns):\s*(.*)", chunk, re.S)
        name = m.group(2) or "returns"
        items.append((name, " ".join(line.strip() for line in m.group(3).splitlines())))
    return head, items, ""


def hooks_section() -> str:
    from portal.hooks import hookspecs
    specs = [(name, fn) for name, fn in vars(hookspecs).items()
             if inspect.isfunction(fn) and hasattr(fn, "portal_spec")]
    specs.sort(key=lambda item: item[1].__code__.co_firstlineno)
    out = ["# Hook reference", "",
           "Generated from `portal/hooks/hookspecs.py` by `python docs/generate.py`; the "
           "docstrings there are the reference.", ""]
    family = None
    for name, fn in specs:
        prefix = name.split("_", 1)[0]
        if prefix != family:
            family = prefix
            out += [f"## {HOOK_FAMILIES.get(prefix, prefix.title())}", ""]
        args = ", ".join(inspect.signature(fn).parameters)
        first = " *(first result wins)*" if fn.portal_spec.get("firstresult") else ""
        out += [f"### `{name}({args})`{first}", ""]
        head, items, _ = _split_fields(inspect.getdoc(fn) or "")
        out += [markdown(_paragraphs(head)), ""]
        for arg, text in items:
            label = "**returns**" if arg == "returns" else f"`{arg}`"
            out.append(f"- {label}: {markdown(text)}")
        if items:
            out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- types ---------------------------------------------------------------------------

def _comments(source: str) -> dict[int, str]:
    """Line number -> the ``# comment`` at the end of that line."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.start[0]: t.string.lstrip("#").strip() for t in tokens if t.type == tokenize.COMMENT}


def _default(node: ast.expr | None, source: str) -> str:
    if node is None:
        return "required"
    if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "field"):
        for kw in node.keywords:
            if kw.arg == "default_factory":
                return f"`{ast.get_source_segment(source, kw.value)}()`"
    return f"`{ast.get_source_segment(source, node)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def types_section() -> str:
    source = HOOKTYPES.read_text()
    lines = source.splitlines()
    comments = _comments(source)
    tree = ast.parse(source)
    banners = [(k + 1, m.group(1)) for k, line in enumerate(lines)
               if (m := re.match(r"^# -- (.+?) -+$", line))]
    module_doc = ast.get_docstring(tree) or ""
    out = ["# Types", "",
           "Generated from `portal/hooks/hooktypes.py` by `python docs/generate.py`. Import them "
           "from `portal.hooktypes`; every one is a frozen dataclass (build it with keyword "
           "arguments, compare it with `==`) unless said otherwise.", "",
           markdown(_paragraphs(module_doc)), ""]
    section = None
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        title = next((t for line, t in reversed(banners) if line < node.lineno), "shared")
        if title != section:
            section = title
            out += [f"## {title[0].upper() + title[1:]}", ""]
        bases = {getattr(b, "id", "") for b in node.bases}
        doc = ast.get_docstring(node) or ""
        if "Exception" in bases:
            init = next(n for n in node.body if isinstance(n, ast.FunctionDef)
                        and n.name == "__init__")
            args = ", ".join(a.arg for a in init.args.args[1:])
            out += [f"### `{node.name}({args})` *(exception)*", "", markdown(_paragraphs(doc)), ""]
            continue
        if "StrEnum" in bases:
            out += [f"### `{node.name}` *(string enum)*", "", markdown(_paragraphs(doc)), ""]
            for item in node.body:
                if isinstance(item, ast.Assign):
                    name = item.targets[0].id
                    value = ast.get_source_segment(source, item.value)
                    out.append(f"- `{node.name}.{name}` = `{value}`")
                elif isinstance(item, ast.FunctionDef):
                    text = ast.get_docstring(item) or ""
                    out.append(f"- `.{item.name}`: {markdown(_paragraphs(text))}")
            out.append("")
            continue
        out += [f"### `{node.name}`", "", markdown(_paragraphs(doc)), "",
                "| Field | Type | Default | Meaning |", "|---|---|---|---|"]
        for item in node.body:
            if isinstance(item, ast.AnnAssign):
                kind = ast.get_source_segment(source, item.annotation)
                out.append(f"| `{item.target.id}` | `{_cell(kind)}` | "
                           f"{_cell(_default(item.value, source))} | "
                           f"{_cell(comments.get(item.lineno, ''))} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- fixtures ------------------------------------------------------------------------

def fixtures() -> list[ast.FunctionDef]:
    """The fixtures of portal/testing.py, in source order."""
    tree = ast.parse(TESTING.read_text())

    def is_fixture(dec):
        target = dec.func if isinstance(dec, ast.Call) else dec
        return isinstance(target, ast.Attribute) and target.attr == "fixture"
    return [n for n in tree.body if isinstance(n, ast.FunctionDef)
            and any(is_fixture(d) for d in n.decorator_list)]


def examples() -> tuple[str, dict[str, str], dict[str, str]]:
    """The example file's header (imports, constants), its classes and its tests, as source."""
    source = FIXTURE_EXAMPLES.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and n is tree.body[0])]
    first_def = next(n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef)))
    header = "\n".join(lines[body[0].lineno - 1:first_def.lineno - 1]).strip()
    classes, tests = {}, {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            segment = "\n".join(lines[start - 1:node.end_lineno])
            (classes if isinstance(node, ast.ClassDef) else tests)[node.name] = segment
    return header, classes, tests


def fixtures_section() -> str:
    header, classes, tests = examples()
    rel = FIXTURE_EXAMPLES.relative_to(ROOT)
    out = ["# Test fixtures", "",
           "Generated from `portal/testing.py` by `python docs/generate.py`. pytest loads "
           "these fixtures by itself wherever the portal is installed (its `pytest11` entry "
           "point): ask for them by name in a test's arguments. Each example is a test of "
           f"`{rel}`, which runs with `make test`; the file starts with:", "",
           "```python", header, "```", ""]
    shown = set()
    for node in fixtures():
        doc = ast.get_docstring(node) or ""
        out += [f"### `{node.name}`", "", markdown(_paragraphs(doc)), ""]
        example = tests.get(f"test_{node.name}")
        if example:
            used = [name for name in classes if name not in shown
                    and re.search(rf"\b{name}\b", example)]
            shown.update(used)
            code = "\n\n\n".join([classes[name] for name in used] + [example])
            out += ["```python", code, "```", ""]
    return "\n".join(out).rstrip() + "\n"


# -- the page ------------------------------------------------------------------------

def render_section(name: str) -> str:
    return {"hooks": hooks_section, "types": types_section, "fixtures": fixtures_section}[name]()


def rewrite(page: str) -> str:
    """``page`` with each generated section made anew from the code."""
    for name in SECTIONS:
        begin, end = f"<!-- generated: {name} -->", f"<!-- end generated: {name} -->"
        pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.S)
        if not pattern.search(page):
            raise SystemExit(f"{PAGE.name} has no {begin} ... {end} markers")
        page = pattern.sub(lambda _: f"{begin}\n{render_section(name)}{end}", page)
    return page


def outdated(page: str) -> list[str]:
    """The generated sections of ``page`` that differ from the code."""
    fresh = rewrite(page)
    return [name for name in SECTIONS
            if _between(page, name) != _between(fresh, name)]


def _between(page: str, name: str) -> str:
    begin, end = f"<!-- generated: {name} -->", f"<!-- end generated: {name} -->"
    return page.split(begin, 1)[1].split(end, 1)[0] if begin in page else ""


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    page = PAGE.read_text()
    if "--check" in argv:
        stale = outdated(page)
        if stale:
            print(f"{PAGE.relative_to(ROOT)} is out of date ({', '.join(stale)}): "
                  "run python docs/generate.py", file=sys.stderr)
            return 1
        return 0
    fresh = rewrite(page)
    if fresh != page:
        PAGE.write_text(fresh)
        print(f"rewrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
