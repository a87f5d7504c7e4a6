"""Amazon Marketing Stream: subscribing a connected profile, and turning the hourly records
on the stream queue into hourly keyword points.

**Subscribing** (``subscribe``): through the production client (``ingest.ads_source``), the
profile's ``sp-traffic`` and ``sp-conversion`` datasets are subscribed to the stream queue
(``destinationArn``), each with a request token derived from the tenant, profile and dataset,
so subscribing again is the same subscription. The advertiser and marketplace the records
will name (``GET /v2/profiles``: ``accountInfo.id``, ``accountInfo.marketplaceStringId``) are
routed to the profile.

**Consuming** (``ingest_messages``): each message is one record. Records are grouped by
their profile's route and merged into their keyword-hour cells (``store.stream``):
idempotent by ``idempotency_id``, a restated conversion replaces the cell's earlier values.
Every keyword-hour offered is then recomputed from its cells and written through the same
import as files (``ingest.importer.import_parsed``, hourly: leaves and roll-ups) — also on a
redelivery, so a consumer that died between the two writes completes on retry. A record
that cannot be read, or names an advertiser no profile subscribed, is logged, counted and
consumed: retrying it cannot help.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from tripwire.domain.connections import Connection
from tripwire.domain.entities import Entity, EntityType, Profile, ProfileKind
from tripwire.domain.metrics import Interval
from tripwire.domain.stream import (
    DATASETS,
    DEFAULT_ATTRIBUTION,
    NotAStreamRecord,
    StreamRecord,
    TrafficRecord,
    parse_message,
)
from tripwire.ingest.ads_source import AdsApiError, AdsCredentials, AdsReports
from tripwire.ingest.importer import import_parsed
from tripwire.service.ads_sync import SECRET_FIELDS, SyncRefused, SyncStores
from tripwire.store.queues import STREAM_ARN_ENV
from tripwire.store.stream import StreamStore, hour_values
from tripwire.telemetry import logger

# -- subscribing ---------------------------------------------------------------------------


def request_token(tenant: str, profile: str, dataset: str) -> str:
    return hashlib.sha256(f"{tenant}/{profile}/{dataset}".encode()).hexdigest()[:32]


def subscribe(
    tenant: str,
    profile: str,
    destination_arn: str,
    *,
    stores: SyncStores | None = None,
    streams: StreamStore | None = None,
) -> dict[str, str]:
    """Subscribe the connected profile's hourly datasets to ``destination_arn``; dataset →
    subscription id."""
    stores = stores or SyncStores()
    connection = stores.connections.get(tenant, profile)
    if connection is None or connection.ads_profile_id is None:
        raise SyncRefused(f"profile {profile} has no connected Ads profile to subscribe")
    client = _client(stores, connection)
    listed = [p for p in client.profiles() if str(p["profileId"]) == connection.ads_profile_id]
    info = listed[0].get("accountInfo") if listed else None
    if not isinstance(info, dict) or not info.get("id") or not info.get("marketplaceStringId"):
        raise SyncRefused(f"Ads profile {connection.ads_profile_id} names no advertiser")
    subscriptions = {
        dataset: client.subscribe(dataset, destination_arn, request_token(tenant, profile, dataset))
        for dataset in DATASETS
    }
    (streams or StreamStore()).put_route(
        str(info["id"]), str(info["marketplaceStringId"]), tenant, profile, subscriptions
    )
    logger.info(
        "Marketing Stream subscribed",
        extra={"tenant_id": tenant, "profile_id": profile, "subscriptions": subscriptions},
    )
    return subscriptions


def subscribe_when_configured(tenant: str, profile: str) -> dict[str, str] | None:
    """After a sync: subscribe the profile to the stream queue once (``STREAM_ARN_ENV``
    names it; unset, there is no stream). A failure is logged and retried by the next
    sync: the daily data does not wait for the hourly."""
    arn = os.environ.get(STREAM_ARN_ENV)
    streams = StreamStore()
    if not arn or streams.subscribed(tenant, profile):
        return None
    try:
        return subscribe(tenant, profile, arn, streams=streams)
    except (AdsApiError, SyncRefused) as failed:
        where = {"tenant_id": tenant, "profile_id": profile, "error": str(failed)}
        logger.warning("Marketing Stream subscription failed; the next sync retries", extra=where)
        return None


def _client(stores: SyncStores, connection: Connection) -> AdsReports:
    values = stores.secrets.get(connection.secret_id)
    if values is None or any(not values.get(name) for name in SECRET_FIELDS):
        raise SyncRefused("the connection's credentials secret is gone")
    credentials = AdsCredentials(*(values[name] for name in SECRET_FIELDS))
    return AdsReports(credentials, connection.ads_profile_id, connection.region)


# -- consuming -----------------------------------------------------------------------------


@dataclass
class StreamReport:
    records: int = 0
    new: int = 0
    replaced: int = 0
    duplicates: int = 0
    points: int = 0  # keyword-hours recomputed and offered to the metrics store
    items_changed: int = 0
    refused: list[str] = field(default_factory=list)  # why each unreadable record was dropped


def ingest_messages(
    bodies: Iterable[str],
    *,
    streams: StreamStore | None = None,
    stores: SyncStores | None = None,
) -> StreamReport:
    """Merge a batch of stream messages into their profiles' hourly points (see the module)."""
    streams, stores = streams or StreamStore(), stores or SyncStores()
    report = StreamReport()
    records: list[StreamRecord] = []
    for body in bodies:
        report.records += 1
        try:
            records.append(parse_message(body))
        except NotAStreamRecord as skipped:
            report.refused.append(str(skipped))
        except ValidationError as invalid:
            first = invalid.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "record"
            report.refused.append(f"{where}: {first['msg']}")
    routes = streams.routes((r.advertiser_id, r.marketplace_id) for r in records)
    by_profile: dict[tuple[str, str], list[StreamRecord]] = defaultdict(list)
    for record in records:
        route = routes.get((record.advertiser_id, record.marketplace_id))
        if route is None:
            report.refused.append(
                f"advertiser {record.advertiser_id} in {record.marketplace_id} is not subscribed"
            )
            continue
        by_profile[route].append(record)
    for (tenant, profile), batch in by_profile.items():
        _ingest_profile(tenant, profile, batch, streams, stores, report)
    if report.refused:
        logger.warning("Marketing Stream records dropped", extra={"reasons": report.refused})
    return report


def _ingest_profile(
    tenant: str,
    profile: str,
    records: list[StreamRecord],
    streams: StreamStore,
    stores: SyncStores,
    report: StreamReport,
) -> None:
    catalog = stores.catalog
    existing = catalog.get_profile(tenant, profile)
    _, stored = catalog.get_hierarchy(tenant, profile)
    known = {e.entity_id for e in stored}
    entities = _new_entities(profile, records, known)
    applied = streams.apply(tenant, profile, [(f"kw-{r.keyword_id}", r) for r in records])
    report.new += applied.new
    report.replaced += applied.replaced
    report.duplicates += applied.duplicates
    leaves: dict[str, dict[str, tuple[float, ...]]] = defaultdict(dict)
    for (entity, hour), cells in applied.touched.items():
        leaves[entity][hour] = hour_values(cells, DEFAULT_ATTRIBUTION)
    currency = existing.currency if existing is not None else records[0].currency
    written = import_parsed(
        existing
        or Profile(tenant_id=tenant, profile_id=profile, kind=ProfileKind.ADS, currency=currency),
        entities,
        dict(leaves),
        rows=len(records),
        skipped=[],
        interval=Interval.H1,
        catalog=catalog,
        metrics=stores.metrics,
    )
    report.points += sum(len(points) for points in leaves.values())
    report.items_changed += written.items_written


def _new_entities(profile: str, records: list[StreamRecord], known: set[str]) -> list[Entity]:
    """Keywords (and campaigns) the catalog does not hold yet; stored ones keep their names
    and places in the tree."""
    found: dict[str, Entity] = {}
    if profile not in known:
        found[profile] = Entity(entity_id=profile, entity_type=EntityType.ACCOUNT)
    for record in records:
        campaign, keyword = f"cp-{record.campaign_id}", f"kw-{record.keyword_id}"
        if campaign not in known:
            found.setdefault(
                campaign,
                Entity(
                    entity_id=campaign,
                    entity_type="campaign",
                    parent_id=profile,
                    name=record.campaign_id,
                ),
            )
        if keyword not in known and (keyword not in found or isinstance(record, TrafficRecord)):
            text = record.keyword_text if isinstance(record, TrafficRecord) else None
            match = record.match_type if isinstance(record, TrafficRecord) else None
            name = f"{text} [{match or '-'}]" if text else record.keyword_id
            found[keyword] = Entity(
                entity_id=keyword, entity_type="keyword", parent_id=campaign, name=name
            )
    return list(found.values())
