"""Finding plugins, and calling them through pluggy at one boundary that survives them.

Built-in plugins (``portal/plugins/``) and third-party packages are found the
same way: the entry point group ``portal.plugins``; the built-ins are the
entry points pyproject.toml declares for the portal itself (read from it when
the portal runs from a source tree that was not pip-installed).

Calls go through pluggy's hook caller, so the order is pluggy's (the plugin
registered last is asked first, ``tryfirst``/``trylast`` move an
implementation to the front or the back) and wrappers (``wrapper=True``, or
old-style ``hookwrapper=True``) run around the call and see its result. Each
plain implementation is registered *guarded*: pluggy calls the guard, which
runs the plugin's function in a worker thread with a time budget; an
exception or a timeout is logged with the plugin's name, recorded, and
answers ``None`` to pluggy, so the next plugin of a ``firstresult`` chain is
asked, and the caller gets an :class:`Outcome` with ``error`` set (it shows
"unavailable" instead of crashing). A plugin that timed out rests for a while
(its calls answer "unavailable" at once) so one hung carrier cannot slow every
page down. A hook that raises :class:`~portal.hooks.hooktypes.PluginRefusal`
is not failing: in a ``firstresult`` hook it is the answer (the chain stops,
wrappers see the exception), and its message comes back in
``Outcome.refused`` for the seller to read.

Only the plugins a call names take part in it (``call`` one plugin,
``call_first``/``call_each`` a shop's enabled plugins), their wrappers
included: a plugin a shop did not turn on never runs for that shop.

Failures are remembered: :func:`problem` says why a plugin is unavailable
while the latest call of one of its hooks failed, for ``PLUGIN_FAILURE_MEMORY``
seconds or until that hook answers again, so that ``/seller/plugins`` shows a
plugin that keeps raising as unavailable.

The plugin state (the pluggy manager, the time budget, resting and failing
plugins, what plugins said about themselves) belongs to an app:
``create_app`` makes a :class:`Plugins` (``app.extensions["portal.plugins"]``)
that is current whenever one of the app's contexts is pushed (see
:func:`use`); outside any app context the module-level functions act on the
one made last (scripts, tests setting up data).
"""

import contextvars
import functools
import importlib
import logging
import threading
import time
import tomllib
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import click
import pluggy

from portal.hooks import guardpool, hookspecs
from portal.hooks.hooktypes import PluginRefusal
from portal.hooks.redact import redact

log = logging.getLogger("portal.plugins")

ENTRY_POINT_GROUP = "portal.plugins"
FAMILIES = {"carrier": "Carriers", "payment": "Payment methods", "coupon": "Coupons",
            "order": "Order events", "notification": "Notification channels"}
PYPROJECT = Path(__file__).resolve().parent.parent.parent / "pyproject.toml"

# Seconds a hook may take, how long a plugin that overran then rests, and how
# long a failure keeps the plugin "unavailable" on /seller/plugins.
DEFAULTS = {"budget": 2.0, "cooldown": 60.0, "memory": 600.0}
CONFIG_KEYS = {"budget": "PLUGIN_TIME_BUDGET", "cooldown": "PLUGIN_COOLDOWN",
               "memory": "PLUGIN_FAILURE_MEMORY"}

RESTART = "plugins are loaded when the portal starts, so restart it after installing or fixing one"


@dataclass(frozen=True)
class Outcome:
    """What one plugin's hook answered.

    ``error`` is set when it failed or overran (a crash: logged); ``refused``
    is the message of a :class:`~portal.hooks.hooktypes.PluginRefusal` (a "no"
    with a reason for the seller). ``ok`` is true only for a plain answer.
    """

    plugin: str
    value: object = None
    error: str = ""
    refused: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and not self.refused


@dataclass
class Failure:
    """A hook's latest failures in a row."""

    hook: str
    error: str
    count: int
    at: float  # time.time() of the latest


@dataclass
class Installed:
    """One installed plugin, as ``/seller/plugins`` and the CLI list it."""

    name: str
    source: str  # distribution and version, or "built-in"
    hooks: list[str] = field(default_factory=list)
    error: str = ""  # set when the plugin could not be loaded

    @property
    def families(self) -> list[str]:
        found = [key for key in FAMILIES if any(h.startswith(key + "_") for h in self.hooks)]
        return found or ["other"]


class PerPlugin:
    """A hook argument whose value depends on the plugin asked (each plugin's own
    ``settings`` in a call to several): the guard hands each implementation, and
    each wrapper, ``values[its plugin name]`` (``default`` when it has none)."""

    __slots__ = ("values", "default")

    def __init__(self, values: dict, default=None):
        self.values, self.default = values, default

    def of(self, plugin_name: str):
        return self.values.get(plugin_name, self.default)


# -- which plugins exist (the same for every app of the process) ---------------

def _load(target: str):
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    return getattr(obj, attr) if attr else obj


def _is_builtin(target: str) -> bool:
    return target.startswith("portal.plugins.") or target == "portal.plugins"


@functools.cache
def builtins() -> dict[str, str]:
    """The built-in plugins, name -> ``module[:attribute]``, in name order: the
    ``portal.plugins`` entry points of the portal's own package (pyproject.toml),
    read from pyproject.toml itself when the portal is not installed."""
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)
             if _is_builtin(ep.value)}
    if not found and PYPROJECT.exists():
        project = tomllib.loads(PYPROJECT.read_text())["project"]
        found = dict(project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {}))
    return dict(sorted(found.items()))


@functools.cache
def _discovered() -> tuple[tuple[tuple[str, object, str], ...], tuple[tuple[str, str], ...]]:
    """Every plugin found, loaded once per process: ((name, plugin, source), ...) and
    the broken ones ((name, why), ...). Built-ins come first."""
    plugins, broken, seen = [], [], set()
    for name, target in builtins().items():
        plugins.append((name, _load(target), "built-in"))
        seen.add(name)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in seen:
            continue
        seen.add(ep.name)
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else ep.value
        try:
            plugins.append((ep.name, ep.load(), dist))
        except Exception as exc:  # a broken package must not take the portal down
            log.error("plugin %s (%s) could not be loaded\n%s", ep.name, dist, crash_report(exc))
            broken.append((ep.name, f"{dist}: {failure_text(exc)}"))
    return tuple(plugins), tuple(broken)


# -- one app's plugins -------------------------------------------------------------

_record = contextvars.ContextVar("portal_plugin_outcomes", default=None)


class _Manager(pluggy.PluginManager):
    """pluggy's manager, whose plain hook implementations are registered guarded
    (time budget, failures as data) and wrappers so that they see their own
    :class:`PerPlugin` arguments; pluggy keeps their names, options and order."""

    def __init__(self, plugins: "Plugins"):
        super().__init__("portal")
        self._portal = plugins

    def register(self, plugin, name=None):
        name = super().register(plugin, name)
        for caller in self.get_hookcallers(plugin) or []:
            firstresult = bool(caller.spec and caller.spec.opts.get("firstresult"))
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not getattr(impl.function, "portal_guarded", False):
                    impl.function = self._portal.guard(impl, caller.name, firstresult)
        return name


def _resolved(args, kwargs, plugin_name):
    args = [a.of(plugin_name) if isinstance(a, PerPlugin) else a for a in args]
    if kwargs:
        kwargs = {k: v.of(plugin_name) if isinstance(v, PerPlugin) else v
                  for k, v in kwargs.items()}
    return args, kwargs or {}


class Plugins:
    """The plugin state of one app: its pluggy manager, settings (time budget,
    cooldown, failure memory), resting and failing plugins, and what plugins
    said about themselves (``cache``, for ``shop_plugins``)."""

    def __init__(self, config: dict | None = None):
        config = config or {}
        self.settings = {key: float(default if config.get(CONFIG_KEYS[key]) is None
                                    else config[CONFIG_KEYS[key]])
                         for key, default in DEFAULTS.items()}
        self.sources: dict[str, str] = {}
        self.broken: dict[str, str] = {}
        self.resting: dict[str, float] = {}
        self.failures: dict[str, dict[str, Failure]] = {}  # plugin -> hook -> failures in a row
        self.cache: dict[str, dict] = {}  # kind -> plugin name -> answer (shop_plugins)
        self.lock = threading.RLock()
        self._pm: _Manager | None = None

    @property
    def pm(self) -> pluggy.PluginManager:
        """The pluggy manager, built on first use (never at import or in create_app)."""
        if self._pm is None:
            with self.lock:
                if self._pm is None:
                    pm = _Manager(self)
                    pm.add_hookspecs(hookspecs)
                    plugins, broken = _discovered()
                    for name, plugin, source in plugins:
                        pm.register(plugin, name=name)
                        self.sources[name] = source
                    self.broken.update(broken)
                    self._pm = pm
        return self._pm

    # -- the guard pluggy calls -----------------------------------------------

    def guard(self, impl, hook_name: str, firstresult: bool):
        function, plugin_name = impl.function, impl.plugin_name
        if impl.wrapper or impl.hookwrapper:
            def guarded(*args, **kwargs):  # a generator, as pluggy expects of a wrapper
                args, kwargs = _resolved(args, kwargs, plugin_name)
                return (yield from function(*args, **kwargs))
        else:
            def guarded(*args, **kwargs):
                args, kwargs = _resolved(args, kwargs, plugin_name)
                outcome, refusal = self.run(plugin_name, hook_name, function, args, kwargs)
                record = _record.get()
                if record is not None:
                    record.append(outcome)
                if refusal is not None and firstresult:
                    raise refusal  # the answer: stops the chain, wrappers see it
                return outcome.value if outcome.ok else None
        guarded.portal_guarded = True
        guarded.__name__ = getattr(function, "__name__", hook_name)
        guarded.__wrapped__ = function
        return guarded

    def run(self, plugin_name: str, hook_name: str, function, args, kwargs
            ) -> tuple[Outcome, PluginRefusal | None]:
        """Run one implementation within the time budget; its answer or failure as data."""
        if self.resting.get(plugin_name, 0) > time.monotonic():
            resting = "unavailable: it did not answer in time recently"
            return Outcome(plugin_name, error=resting), None
        budget, cooldown = self.settings["budget"], self.settings["cooldown"]
        # A thread kept for reuse runs the call (guardpool); one that hangs keeps its thread.
        work = guardpool.Call(function, args, kwargs, f"{plugin_name}.{hook_name}")
        try:
            guardpool.pool.submit(work)
        except guardpool.PoolFull as full:
            return self.failed(plugin_name, hook_name, str(full)), None
        if not work.wait(budget):
            self.resting[plugin_name] = time.monotonic() + cooldown
            log.error("plugin %s: %s took longer than %.1f s; resting it for %.0f s (its thread "
                      "stays with it: %d of at most %d plugin threads now)", plugin_name,
                      hook_name, budget, cooldown, guardpool.pool.size, guardpool.pool.limit)
            return self.failed(plugin_name, hook_name, f"did not answer within {budget:g} s"), None
        if work.error is not None:
            exc = work.error
            if isinstance(exc, PluginRefusal):
                refused = _sentence(redact(str(exc.message))) or "It refused."
                log.info("plugin %s: %s refused: %s", plugin_name, hook_name, refused)
                self.answered(plugin_name, hook_name)
                return Outcome(plugin_name, refused=refused), exc
            log.error("plugin %s: %s raised %s\n%s", plugin_name, hook_name, failure_text(exc),
                      crash_report(exc))
            return self.failed(plugin_name, hook_name, failure_text(exc)), None
        self.answered(plugin_name, hook_name)
        return Outcome(plugin_name, work.value), None

    def failed(self, plugin_name: str, hook_name: str, error: str) -> Outcome:
        with self.lock:
            hooks = self.failures.setdefault(plugin_name, {})
            before = hooks.get(hook_name)
            hooks[hook_name] = Failure(hook_name, error, (before.count if before else 0) + 1,
                                       time.time())
        return Outcome(plugin_name, error=error)

    def answered(self, plugin_name: str, hook_name: str) -> None:
        if hook_name in self.failures.get(plugin_name, ()):
            with self.lock:
                self.failures.get(plugin_name, {}).pop(hook_name, None)

    # -- calls through pluggy -----------------------------------------------------

    def hook_call(self, hook_name: str, names, kwargs: dict):
        """Call ``hook_name`` through pluggy with only the plugins ``names`` taking part:
        (pluggy's result, each plain implementation's :class:`Outcome` in the order pluggy
        called them, the exception that ended the call or None)."""
        pm = self.pm
        names = set(names)
        others = [plugin for name, plugin in pm.list_name_plugin() if name not in names]
        caller = pm.subset_hook_caller(hook_name, remove_plugins=others)
        token = _record.set([])
        try:
            return caller(**kwargs), _record.get(), None
        except pluggy.HookCallError:
            raise  # the call itself is wrong (an argument is missing): a bug, not a plugin's
        except Exception as exc:  # a refusal, or a wrapper that raised
            return None, _record.get(), exc
        finally:
            _record.reset(token)


def failure_text(exc: BaseException) -> str:
    """What is kept of a plugin's crash ("ValueError: ..."), card data redacted: it is
    logged, shown to sellers and stored (the ledger's and the outbox's failures)."""
    return redact(f"{type(exc).__name__}: {exc}")


def crash_report(exc: BaseException) -> str:
    """The crash's traceback (chained exceptions too) for the log, card data redacted:
    logged as text, never as ``exc_info``, whose handlers would print the raw message."""
    return redact("".join(traceback.format_exception(exc)).rstrip())


def _sentence(text: str) -> str:
    text = text.strip()
    return text + "." if text and text[-1] not in ".!?" else text


# -- which Plugins is current ---------------------------------------------------

_current = contextvars.ContextVar("portal_plugins", default=None)
_default: Plugins | None = None
_default_lock = threading.Lock()


def new(config: dict | None = None) -> Plugins:
    """A fresh plugin state for an app (``config``: its PLUGIN_* settings); also the
    default outside any app context from now on."""
    global _default
    plugins = Plugins(config)
    _default = plugins
    return plugins


def current() -> Plugins:
    """The plugin state of the app at work in this thread (see :func:`use`), else the
    one made last, else a default one (a script that made no app)."""
    global _default
    found = _current.get() or _default
    if found is None:
        with _default_lock:
            if _default is None:
                _default = Plugins()
            found = _default
    return found


def use(plugins: Plugins) -> contextvars.Token:
    """Make ``plugins`` the current plugin state until :func:`release` gets the token."""
    return _current.set(plugins)


def release(token: contextvars.Token) -> None:
    _current.reset(token)


# -- the module's API: it acts on the current app's plugins ----------------------------

def get_plugin_manager() -> pluggy.PluginManager:
    """The current app's pluggy manager, built on first use."""
    return current().pm


def register(plugin, name: str, source: str = "registered in code") -> None:
    """Register a plugin object at run time (tests, or an app that embeds the portal)."""
    plugins = current()
    plugins.pm.register(plugin, name=name)
    plugins.sources[name] = source
    for answers in plugins.cache.values():
        answers.pop(name, None)


def unregister(name: str) -> None:
    plugins = current()
    if plugins.pm.has_plugin(name):
        plugins.pm.unregister(name=name)
    plugins.sources.pop(name, None)
    plugins.resting.pop(name, None)
    plugins.failures.pop(name, None)
    for answers in plugins.cache.values():
        answers.pop(name, None)


def plugin_names() -> list[str]:
    """Registered plugins, in registration order (built-ins first)."""
    return [name for name, _ in get_plugin_manager().list_name_plugin()]


def installed() -> list[Installed]:
    """Every installed plugin with the hooks it implements, broken ones included."""
    plugins = current()
    pm = plugins.pm
    result = []
    for name, plugin in pm.list_name_plugin():
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        result.append(Installed(name, plugins.sources.get(name, "?"), hooks))
    result += [Installed(name, "", error=error) for name, error in plugins.broken.items()]
    return result


def implements(plugin_name: str, hook_name: str) -> bool:
    """Whether the plugin has an implementation (not only a wrapper) of the hook."""
    pm = get_plugin_manager()
    plugin = pm.get_plugin(plugin_name)
    caller = getattr(pm.hook, hook_name, None)
    if plugin is None or caller is None:
        return False
    return any(impl.plugin is plugin and not (impl.wrapper or impl.hookwrapper)
               for impl in caller.get_hookimpls())


def _taking_part(hook_name: str, plugin_names) -> tuple[list[str], bool]:
    """The named plugins with an implementation or a wrapper of the hook, and whether
    any of them implements it (wrappers alone answer nothing)."""
    pm = get_plugin_manager()
    caller = getattr(pm.hook, hook_name, None)
    if caller is None:
        return [], False
    impls = caller.get_hookimpls()
    wanted = set(plugin_names)
    names = list(dict.fromkeys(i.plugin_name for i in impls if i.plugin_name in wanted))
    return names, any(not (i.wrapper or i.hookwrapper) for i in impls if i.plugin_name in wanted)


def _is_firstresult(hook_name: str) -> bool:
    caller = getattr(get_plugin_manager().hook, hook_name, None)
    return bool(caller and caller.spec and caller.spec.opts.get("firstresult"))


def call(plugin_name: str, hook_name: str, /, **kwargs) -> Outcome:
    """Call one plugin's implementation of a hook (its wrappers around it), within the
    time budget. A plugin that does not implement the hook answers ``None``."""
    if not implements(plugin_name, hook_name):
        return Outcome(plugin_name)
    if _is_firstresult(hook_name):
        return call_first(hook_name, [plugin_name], **kwargs) or Outcome(plugin_name)
    result, outcomes, raised = current().hook_call(hook_name, [plugin_name], kwargs)
    if raised is not None:
        return _raised(plugin_name, hook_name, raised)
    own = outcomes[-1] if outcomes else Outcome(plugin_name)
    if not own.ok:
        return own
    return Outcome(plugin_name, result[0] if result else None)


def call_each(hook_name: str, plugin_names, /, **kwargs) -> list[Outcome]:
    """One call of the hook with the named plugins taking part; the :class:`Outcome`
    of each implementation pluggy called, in the order it called them (for a
    ``firstresult`` hook, up to the one that answered)."""
    names, answering = _taking_part(hook_name, plugin_names)
    if not answering:
        return []
    _, outcomes, raised = current().hook_call(hook_name, names, kwargs)
    if raised is not None and not isinstance(raised, PluginRefusal):
        outcomes = [*outcomes, _raised(names[0], hook_name, raised)]
    return outcomes


def call_first(hook_name: str, plugin_names, /, **kwargs) -> Outcome | None:
    """The answer of a ``firstresult`` hook among the named plugins (a shop's enabled
    ones): pluggy asks them in its order (the last registered first, ``tryfirst``
    and ``trylast`` honoured) until one answers non-None or refuses; a plugin that
    fails or overruns is recorded and the next one is asked. Wrappers of the named
    plugins run around the call and may change the answer.

    When none answered and some failed, the first failure is returned, so the
    caller can say the owner of the code is unavailable; ``None`` when no
    plugin claims the call at all.
    """
    names, answering = _taking_part(hook_name, plugin_names)
    if not answering:
        return None
    result, outcomes, raised = current().hook_call(hook_name, names, kwargs)
    if isinstance(raised, PluginRefusal):
        refused = next((o for o in reversed(outcomes) if o.refused), None)
        return refused or Outcome(names[0], refused=_sentence(redact(str(raised.message)))
                                  or "It refused.")
    if raised is not None:
        return _raised(names[0], hook_name, raised)
    if result is not None:
        answered = next((o for o in reversed(outcomes) if o.ok and o.value is not None), None)
        return Outcome(answered.plugin if answered else names[0], result)
    return next((o for o in outcomes if o.error), None)


def _raised(plugin_name: str, hook_name: str, exc: Exception) -> Outcome:
    """A wrapper raised (the implementations cannot: their failures are data)."""
    log.error("a wrapper of %s raised %s\n%s", hook_name, failure_text(exc), crash_report(exc))
    return current().failed(plugin_name, hook_name, failure_text(exc))


def problem(plugin_name: str) -> str:
    """Why the plugin is unavailable now, in words for the seller; "" when it is not.

    A plugin that could not be loaded stays unavailable until the portal
    restarts; one whose latest call of a hook failed is unavailable until that
    hook answers again (or ``PLUGIN_FAILURE_MEMORY`` seconds passed).
    """
    plugins = current()
    plugins.pm  # the broken ones are known once the plugins were looked for
    if plugin_name in plugins.broken:
        return f"it could not be loaded ({plugins.broken[plugin_name]}); {RESTART}."
    recent = time.time() - plugins.settings["memory"]
    failures = [f for f in plugins.failures.get(plugin_name, {}).values() if f.at >= recent]
    if not failures:
        return ""
    latest = max(failures, key=lambda f: f.at)
    times = "once" if latest.count == 1 else f"{latest.count} times in a row"
    minutes = int((time.time() - latest.at) // 60)
    when = "just now" if minutes < 1 else f"{minutes} min ago"
    text = f"its {latest.hook} failed {times} (latest {when}: {latest.error})"
    if plugins.resting.get(plugin_name, 0) > time.monotonic():
        text += "; it rests for a while before it is called again"
    return text


def configure(app_config: dict) -> None:
    """Set the current plugins' time budget, cooldown and failure memory from an app's config."""
    plugins = current()
    for key, name in CONFIG_KEYS.items():
        if app_config.get(name) is not None:
            plugins.settings[key] = float(app_config[name])


def forgive_all() -> None:
    """Let every resting plugin be called again and forget failures (tests, or after fixing a carrier)."""
    plugins = current()
    plugins.resting.clear()
    plugins.failures.clear()


def list_plugins():
    """List the installed plugins and the hooks each implements."""
    for plugin in installed():
        if plugin.error:
            click.echo(f"{plugin.name}  BROKEN  {plugin.error}  ({RESTART})")
            continue
        click.echo(f"{plugin.name}  ({plugin.source}; {', '.join(plugin.families)})")
        for hook in plugin.hooks:
            click.echo(f"    {hook}")


# ``flask plugins``: create_app adds it within the app's context (list_plugins lists
# the plugins of the current app).
plugins_command = click.command("plugins")(list_plugins)
