"""The built-in plugins, registered exactly like third-party ones (entry points
in the group ``portal.plugins``, see pyproject.toml):

- ``parcels``: UPS, USPS, FedEx and DHL (tracking numbers checked against the
  maintained ``tracking-numbers`` data set; events arrive by webhook),
- ``easypost``: tracking webhooks in EasyPost's ``tracker.updated`` format,
- ``demo``: a carrier that moves parcels along by itself and sells labels,
- ``manual``: any other carrier; the seller types the events (always on).
"""
