"""The order portal. ``create_app()`` (in ``portal/app.py``) builds everything;
importing the package runs nothing and loads neither Flask nor pluggy, so the
order domain (``portal.orders``) can be used on its own.

Plugins import ``hookimpl`` from here: ``from portal import hookimpl``.
"""

__all__ = ["create_app", "hookimpl"]


def __getattr__(name: str):
    # Looked up on first use (PEP 562), so `import portal.orders` stays light while
    # `from portal import create_app, hookimpl` and `flask --app portal` keep working.
    if name == "create_app":
        from portal.app import create_app
        return create_app
    if name == "hookimpl":
        from portal.hooks.hookspecs import hookimpl
        return hookimpl
    raise AttributeError(f"module 'portal' has no attribute {name!r}")
