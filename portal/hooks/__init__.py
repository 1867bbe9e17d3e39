"""The plugin machinery: the hooks (``hookspecs``) and the types they pass
(``hooktypes``), the manager that finds plugins and calls them through pluggy
with a time budget, failures as data, its state kept per app
(``pluginmanager``), which plugins each shop turned on (``shop_plugins``), and
the outbox consumer that tells plugins about order changes (``order_events``).

The built-in plugins live beside it, in ``portal/plugins/``, registered like
any third-party one.
"""
