"""Switching a profile's scheduled scans on and off, at an interval it can be scanned at."""

from __future__ import annotations

from tripwire.domain.entities import ProfileKind
from tripwire.domain.metrics import Interval
from tripwire.store.catalog import CatalogStore
from tripwire.store.schedule import ScheduleEntry, ScheduleStore
from tripwire.store.stream import StreamStore

# The intervals a profile of each kind can be scanned at — declared here only. Ads (PPC)
# profiles are scanned daily, or hourly once Marketing Stream has brought them hourly data
# (``HOURLY_DATA``); market bars are scanned daily or hourly. The CDK app and the local
# stack fire both (daily and hourly schedules).
SCAN_INTERVALS: dict[ProfileKind, tuple[Interval, ...]] = {
    ProfileKind.ADS: (Interval.D1, Interval.H1),
    ProfileKind.MARKET: (Interval.D1, Interval.H1),
}
HOURLY_DATA = frozenset({ProfileKind.ADS})  # kinds whose hourly scans need streamed hours
# Every interval some profile can be scheduled at: each has its schedule rule.
SCHEDULED: tuple[Interval, ...] = tuple(sorted({i for v in SCAN_INTERVALS.values() for i in v}))


class ProfileNotFound(LookupError):
    """No such profile for this tenant."""


class IntervalRejected(ValueError):
    """The profile cannot be scanned at that interval; ``field`` names the request field."""

    field = "interval"


def set_schedule(
    tenant: str, profile_id: str, enabled: bool, interval: Interval, *, by: str
) -> ScheduleEntry:
    """Switch the profile's scans on or off at ``interval`` (one it can be scanned at);
    switching on at one interval switches the profile off at the others."""
    profile = CatalogStore().get_profile(tenant, profile_id)
    if profile is None:
        raise ProfileNotFound(profile_id)
    allowed = SCAN_INTERVALS[profile.kind]
    if interval not in allowed:
        names = ", ".join(i.value for i in allowed)
        raise IntervalRejected(
            f"a {profile.kind} profile is scanned at {names} only, not {interval.value}"
        )
    hourly_data = interval is Interval.H1 and profile.kind in HOURLY_DATA
    if enabled and hourly_data and StreamStore().latest_hour(tenant, profile_id) is None:
        raise IntervalRejected(
            f"profile {profile_id} has no hourly data yet: an Amazon Ads profile is "
            "scanned hourly once Marketing Stream delivers its hours (subscribe it first)"
        )
    store = ScheduleStore()
    entry = store.set(tenant, profile_id, enabled, interval=interval, by=by)
    for other in allowed:  # one interval per profile: the one set replaces any other
        found = store.get(tenant, profile_id, other) if other is not interval else None
        if found is not None and found.enabled:
            store.set(tenant, profile_id, False, interval=other, by=by)
    return entry
