"""Finding plugins, and calling them at one boundary that survives them.

Built-in plugins (``portal/plugins/``) and third-party packages are found the
same way: the entry point group ``portal.plugins`` (see pyproject.toml). Each
hook implementation is called on its own, in a worker thread with a time
budget; an exception or a timeout is logged with the plugin's name and comes
back as an :class:`Outcome` with ``error`` set, so the caller shows
"unavailable" instead of crashing. A plugin that timed out rests for a
while (its calls answer "unavailable" at once) so one hung carrier cannot
slow every page down. A hook that raises
:class:`~portal.hooks.hooktypes.PluginRefusal` is not failing: its message comes
back in ``Outcome.refused`` for the seller to read.

Failures are remembered (per process): :func:`problem` says why a plugin is
unavailable while the latest call of one of its hooks failed, for
``settings["memory"]`` seconds or until that hook answers again, so that
``/seller/plugins`` shows a plugin that keeps raising as unavailable.
"""

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from importlib.metadata import entry_points

import click
import pluggy

from portal.hooks import hookspecs
from portal.hooks.hooktypes import PluginRefusal

log = logging.getLogger("portal.plugins")

ENTRY_POINT_GROUP = "portal.plugins"
FAMILIES = {"carrier": "Carriers", "payment": "Payment methods", "coupon": "Coupons",
            "order": "Order events"}

# Registered first, under these names, so the portal works even when it is
# run from a source tree that was not pip-installed; pyproject.toml declares
# the same entry points, which are then skipped as already registered.
BUILTINS = {
    "manual": "portal.plugins.manual",
    "demo": "portal.plugins.demo",
    "ups": "portal.plugins.parcels:ups",
    "usps": "portal.plugins.parcels:usps",
    "fedex": "portal.plugins.parcels:fedex",
    "dhl": "portal.plugins.parcels:dhl",
    "easypost": "portal.plugins.easypost",
}

# Seconds a hook may take, how long a plugin that overran then rests, and how
# long a failure keeps the plugin "unavailable" on /seller/plugins.
settings = {"budget": 2.0, "cooldown": 60.0, "memory": 600.0}

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


_pm: pluggy.PluginManager | None = None
_sources: dict[str, str] = {}
_broken: dict[str, str] = {}
_resting: dict[str, float] = {}
_failures: dict[str, dict[str, Failure]] = {}  # plugin -> hook -> its failures in a row
_lock = threading.Lock()


def _load(target: str):
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    return getattr(obj, attr) if attr else obj


def get_plugin_manager() -> pluggy.PluginManager:
    """The plugin manager, built on first use (never at import)."""
    global _pm
    with _lock:
        if _pm is None:
            _pm = _build()
    return _pm


def _build() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("portal")
    pm.add_hookspecs(hookspecs)
    for name, target in BUILTINS.items():
        pm.register(_load(target), name=name)
        _sources[name] = "built-in"
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if pm.has_plugin(ep.name):
            continue
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else ep.value
        try:
            pm.register(ep.load(), name=ep.name)
            _sources[ep.name] = dist
        except Exception as exc:  # a broken package must not take the portal down
            log.exception("plugin %s (%s) could not be loaded", ep.name, dist)
            _broken[ep.name] = f"{dist}: {type(exc).__name__}: {exc}"
    return pm


def register(plugin, name: str, source: str = "registered in code") -> None:
    """Register a plugin object at run time (tests, or an app that embeds the portal)."""
    get_plugin_manager().register(plugin, name=name)
    _sources[name] = source


def unregister(name: str) -> None:
    pm = get_plugin_manager()
    if pm.has_plugin(name):
        pm.unregister(name=name)
    _sources.pop(name, None)
    _resting.pop(name, None)
    _failures.pop(name, None)


def plugin_names() -> list[str]:
    """Registered plugins, in registration order (built-ins first)."""
    return [name for name, _ in get_plugin_manager().list_name_plugin()]


def installed() -> list[Installed]:
    """Every installed plugin with the hooks it implements, broken ones included."""
    pm = get_plugin_manager()
    result = []
    for name, plugin in pm.list_name_plugin():
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        result.append(Installed(name, _sources.get(name, "?"), hooks))
    result += [Installed(name, "", error=error) for name, error in _broken.items()]
    return result


def implements(plugin_name: str, hook_name: str) -> bool:
    return _impl(plugin_name, hook_name) is not None


def _impl(plugin_name: str, hook_name: str):
    pm = get_plugin_manager()
    plugin = pm.get_plugin(plugin_name)
    if plugin is None:
        return None
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        if impl.plugin is plugin:
            return impl
    return None


def call(plugin_name: str, hook_name: str, /, **kwargs) -> Outcome:
    """Call one plugin's implementation of a hook, within the time budget.

    A plugin that does not implement the hook answers ``None``.
    """
    impl = _impl(plugin_name, hook_name)
    if impl is None:
        return Outcome(plugin_name)
    if _resting.get(plugin_name, 0) > time.monotonic():
        return Outcome(plugin_name, error="unavailable: it did not answer in time recently")
    args = {name: kwargs[name] for name in impl.argnames}
    box: dict = {}

    def run():
        try:
            box["value"] = impl.function(**args)
        except Exception as exc:
            box["error"] = exc

    budget = settings["budget"]
    worker = threading.Thread(target=run, name=f"plugin:{plugin_name}.{hook_name}", daemon=True)
    worker.start()
    worker.join(budget)
    if worker.is_alive():
        _resting[plugin_name] = time.monotonic() + settings["cooldown"]
        log.error("plugin %s: %s took longer than %.1f s; resting it for %.0f s",
                  plugin_name, hook_name, budget, settings["cooldown"])
        return _failed(plugin_name, hook_name, f"did not answer within {budget:g} s")
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, PluginRefusal):
            log.info("plugin %s: %s refused: %s", plugin_name, hook_name, exc.message)
            _answered(plugin_name, hook_name)
            return Outcome(plugin_name, refused=_sentence(str(exc.message)) or "It refused.")
        log.error("plugin %s: %s raised %s: %s", plugin_name, hook_name,
                  type(exc).__name__, exc, exc_info=exc)
        return _failed(plugin_name, hook_name, f"{type(exc).__name__}: {exc}")
    _answered(plugin_name, hook_name)
    return Outcome(plugin_name, box.get("value"))


def _sentence(text: str) -> str:
    text = text.strip()
    return text + "." if text and text[-1] not in ".!?" else text


def _failed(plugin_name: str, hook_name: str, error: str) -> Outcome:
    with _lock:
        hooks = _failures.setdefault(plugin_name, {})
        before = hooks.get(hook_name)
        hooks[hook_name] = Failure(hook_name, error, (before.count if before else 0) + 1,
                                   time.time())
    return Outcome(plugin_name, error=error)


def _answered(plugin_name: str, hook_name: str) -> None:
    if hook_name in _failures.get(plugin_name, ()):
        with _lock:
            _failures.get(plugin_name, {}).pop(hook_name, None)


def problem(plugin_name: str) -> str:
    """Why the plugin is unavailable now, in words for the seller; "" when it is not.

    A plugin that could not be loaded stays unavailable until the portal
    restarts; one whose latest call of a hook failed is unavailable until that
    hook answers again (or ``settings["memory"]`` seconds passed).
    """
    if plugin_name in _broken:
        return f"it could not be loaded ({_broken[plugin_name]}); {RESTART}."
    recent = time.time() - settings["memory"]
    failures = [f for f in _failures.get(plugin_name, {}).values() if f.at >= recent]
    if not failures:
        return ""
    latest = max(failures, key=lambda f: f.at)
    times = "once" if latest.count == 1 else f"{latest.count} times in a row"
    minutes = int((time.time() - latest.at) // 60)
    when = "just now" if minutes < 1 else f"{minutes} min ago"
    text = f"its {latest.hook} failed {times} (latest {when}: {latest.error})"
    if _resting.get(plugin_name, 0) > time.monotonic():
        text += "; it rests for a while before it is called again"
    return text


def call_each(hook_name: str, plugin_names, /, **kwargs) -> list[Outcome]:
    """Call the hook of each named plugin that implements it, in order."""
    return [call(name, hook_name, **kwargs) for name in plugin_names
            if implements(name, hook_name)]


def call_first(hook_name: str, plugin_names, /, **kwargs) -> Outcome | None:
    """The first non-None answer among the named plugins.

    When none answered and some failed, the first failure is returned, so the
    caller can say the owner of the code is unavailable; ``None`` when no
    plugin claims the call at all.
    """
    failed = None
    for outcome in call_each(hook_name, plugin_names, **kwargs):
        if outcome.refused or (outcome.ok and outcome.value is not None):
            return outcome
        if outcome.error and failed is None:
            failed = outcome
    return failed


def configure(app_config: dict) -> None:
    settings["budget"] = float(app_config.get("PLUGIN_TIME_BUDGET", settings["budget"]))
    settings["cooldown"] = float(app_config.get("PLUGIN_COOLDOWN", settings["cooldown"]))
    settings["memory"] = float(app_config.get("PLUGIN_FAILURE_MEMORY", settings["memory"]))


def forgive_all() -> None:
    """Let every resting plugin be called again and forget failures (tests, or after fixing a carrier)."""
    _resting.clear()
    _failures.clear()


@click.command("plugins")
def plugins_command():
    """List the installed plugins and the hooks each implements."""
    for plugin in installed():
        if plugin.error:
            click.echo(f"{plugin.name}  BROKEN  {plugin.error}  ({RESTART})")
            continue
        click.echo(f"{plugin.name}  ({plugin.source}; {', '.join(plugin.families)})")
        for hook in plugin.hooks:
            click.echo(f"    {hook}")
