"""A profile's notification channels: its plan, its LINE recipient, its SMS numbers.

``PUT /profiles/{id}/channels`` and ``tripwire profile channels`` call ``set_channels``: the
settings are stored (the publisher and the notifier read them), then the topic's SMS
subscriptions are brought in step (notify/sms.py: one subscription per number, a filter
policy naming the routes that may text it). Setting the same settings twice changes nothing.
"""

from __future__ import annotations

from tripwire.domain.deliveries import ChannelSettings
from tripwire.notify.publisher import topic_arn
from tripwire.notify.sms import sync_subscriptions
from tripwire.service.profiles import ProfileNotFound
from tripwire.store.catalog import CatalogStore
from tripwire.store.deliveries import DeliveryStore
from tripwire.store.provision import aws_client
from tripwire.telemetry import logger


def channels(tenant: str, profile: str) -> ChannelSettings:
    if CatalogStore().get_profile(tenant, profile) is None:
        raise ProfileNotFound(profile)
    return DeliveryStore().settings(tenant, profile)


def set_channels(tenant: str, profile: str, settings: ChannelSettings) -> ChannelSettings:
    """Store the profile's channels and subscribe its SMS numbers; returns what is stored."""
    before = channels(tenant, profile)
    store = DeliveryStore()
    store.put_settings(tenant, profile, settings)
    subscribed = sync_subscriptions(
        aws_client("sns"), topic_arn(), tenant, profile, before, settings
    )
    logger.info(
        "channels set",
        extra={"profile_id": profile, "plan": settings.plan, "sms_numbers": len(subscribed)},
    )
    return settings
