"""Deleting a profile: everything Tripwire keeps of it, in the caller's tenant only.

``DELETE /profiles/{id}`` and ``tripwire profile delete`` call ``delete_profile``. Order
matters: the schedule goes first (no new scan starts), the profile item last — so a
deletion cut short (a timeout on a very large profile) still finds the profile and is
finished by running it again; every step is idempotent. A scan or import already running
for the profile when it is deleted can write some items back: delete again once it ended.
Where each kind of item lives, and why some are found by a Scan: ``store/purge.py``.
"""

from __future__ import annotations

from tripwire.domain.deliveries import ChannelSettings
from tripwire.notify.publisher import topic_arn
from tripwire.notify.sms import sync_subscriptions
from tripwire.store.catalog import CatalogStore
from tripwire.store.deliveries import DeliveryStore
from tripwire.store.provision import aws_client
from tripwire.store.purge import PROFILE_PARTITIONS, ProfilePurge
from tripwire.store.tables import LANDING, MODELS
from tripwire.telemetry import PROFILES_DELETED, count, logger


class ProfileNotFound(LookupError):
    """No such profile for this tenant (or it was deleted already)."""


def _unsubscribe_sms(tenant: str, profile: str) -> None:
    """Take the profile's routes off its SMS numbers (a number no other profile routes to is
    unsubscribed)."""
    settings = DeliveryStore().settings(tenant, profile)
    if settings.sms_numbers:
        topic = topic_arn()
        sync_subscriptions(aws_client("sns"), topic, tenant, profile, settings, ChannelSettings())


def delete_profile(tenant: str, profile: str) -> dict[str, int]:
    """Remove the profile and all of its data; what was removed, counted by kind."""
    if CatalogStore().get_profile(tenant, profile) is None:
        raise ProfileNotFound(profile)
    purge = ProfilePurge(tenant, profile)
    removed = {"schedules": purge.schedules(), "connections": purge.connection()}
    removed["stream_routes"] = purge.stream_routes()
    alert_ids = purge.alert_ids()
    removed["history"] = purge.history(alert_ids)
    removed["alerts"] = purge.alerts(alert_ids)
    for table in PROFILE_PARTITIONS:
        removed[table.logical] = purge.partition(table)
    removed["runs"] = purge.runs()
    _unsubscribe_sms(tenant, profile)  # before its channel settings go with the notifications
    removed["notifications"] = purge.notifications()
    removed["models"] = purge.objects(MODELS)
    removed["landing"] = purge.objects(LANDING)
    removed["secrets"] = purge.secrets()
    removed["catalog"] = purge.hierarchy() + purge.profile_item()
    logger.info(
        "profile deleted", extra={"tenant_id": tenant, "profile_id": profile, "removed": removed}
    )
    count(PROFILES_DELETED)
    return removed
