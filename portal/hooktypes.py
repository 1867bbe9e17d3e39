"""The types plugins take and return: ``from portal.hooktypes import Rate, ...``.

A stable import path for plugin authors; the definitions live in
``portal/hooks/hooktypes.py`` beside the rest of the plugin machinery.
"""

from portal.hooks.hooktypes import (
    PluginRefusal, TrackingStatus, PluginInfo, CarrierInfo, TrackingNumberCheck,
    TrackingUpdate, TrackingQuery, TrackingReport, WebhookRequest, WebhookResult,
    Parcel, Rate, Label, PaymentOption, PaymentResult, PaymentPrompt, PageButton,
    PaymentPage, CouponKind, CartLine, Cart, Coupon, Discount, PlacedOrder, OrderChange,
    NotificationChannel, NotificationMessage)

__all__ = [
    'PluginRefusal', 'TrackingStatus', 'PluginInfo', 'CarrierInfo',
    'TrackingNumberCheck', 'TrackingUpdate', 'TrackingQuery', 'TrackingReport',
    'WebhookRequest', 'WebhookResult', 'Parcel', 'Rate', 'Label', 'PaymentOption',
    'PaymentResult', 'PaymentPrompt', 'PageButton', 'PaymentPage', 'CouponKind',
    'CartLine', 'Cart', 'Coupon', 'Discount', 'PlacedOrder', 'OrderChange',
    'NotificationChannel', 'NotificationMessage']
