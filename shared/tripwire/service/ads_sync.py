"""Amazon Ads API sync: a profile connected once, its daily reports pulled on the schedule.

``connect`` keeps the Login-with-Amazon credentials in Secrets Manager (one secret per
tenant and profile) and the connection's metadata — status, region, Ads profile, how many
days each sync re-pulls — in DynamoDB (``store.connections``); nothing secret is stored
elsewhere or logged.

``sync_profile`` is the scan worker's first step for a connected profile (a ``sync``
message, one per connected profile per daily schedule; ``service.fanout`` then starts the
profile's scan, so the scan runs after its data has landed). It asks the Ads API
(``ingest.ads_source``) for the daily ``spTargeting`` report of the last ``lookback_days``
days up to yesterday — the first sync reaches back ``HISTORY_DAYS`` — and imports the gzip
JSON through the file import path (``ingest.ads_api`` → ``ingest.importer``). The import is a
merge keyed by (entity, day): a restated day replaces its provisional figures and a
retried sync adds nothing twice.

Failures: a revoked refresh token (or a refused client) disconnects the profile — once:
the conditional write lets one sync flip it, and only that one logs the error, counts it
and publishes the notice — and later schedules skip it until it is connected again.
Throttling, 5xx and a report still being made raise (the message is retried with the
queue's backoff and, failing every time, ends in the DLQ); a request the API refuses is
recorded on the connection and raised as ``SyncRefused`` (retrying cannot help).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from tripwire import telemetry
from tripwire.domain.connections import (
    DEFAULT_HISTORY,
    DEFAULT_LOOKBACK,
    MAX_HISTORY,
    MAX_LOOKBACK,
    AdsRegion,
    Connection,
    ConnectionStatus,
)
from tripwire.domain.entities import Identifier, ProfileKind
from tripwire.ingest.ads_api import read_api_report
from tripwire.ingest.ads_console import import_report
from tripwire.ingest.ads_source import (
    MAX_REPORT_DAYS,
    AdsCredentials,
    AdsReports,
    BadClient,
    Refused,
    Revoked,
)
from tripwire.ingest.errors import ImportRejected
from tripwire.store.catalog import CatalogStore
from tripwire.store.connections import ConnectionStore, SecretStore
from tripwire.store.metrics import MetricStore
from tripwire.telemetry import logger

HISTORY_DAYS = DEFAULT_HISTORY  # the first sync's reach unless the connection says
SECRET_FIELDS = ("client_id", "client_secret", "refresh_token")


class ConnectRequest(BaseModel):
    """``PUT /profiles/{id}/connection`` and ``tripwire connect amazon-ads``."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(
        min_length=1, max_length=256, pattern=r"^\S+$", description="the LWA app's client id"
    )
    client_secret: SecretStr = Field(
        min_length=1, max_length=512, description="the LWA app's client secret (never shown)"
    )
    refresh_token: SecretStr = Field(
        min_length=1, max_length=2048, description="the advertiser's refresh token (never shown)"
    )
    ads_profile_id: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Za-z._-]{1,64}$",
        description="the Amazon Ads profile (Amazon-Advertising-API-Scope) to pull; "
        "omitted: the first sync takes the only one the refresh token opens",
    )
    region: AdsRegion = AdsRegion.NA
    lookback_days: int = Field(
        default=DEFAULT_LOOKBACK,
        ge=1,
        le=MAX_LOOKBACK,
        description="days each sync re-pulls, so restated figures replace provisional ones",
    )
    history_days: int = Field(
        default=DEFAULT_HISTORY,
        ge=1,
        le=MAX_HISTORY,
        description="days the first sync pulls (Amazon keeps 95)",
    )


class ConnectRejected(ValueError):
    """The connection cannot be made; ``field`` names the request field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SyncRefused(RuntimeError):
    """The Ads API refused the sync's request, or its report could not be imported:
    retrying the message cannot help (recorded on the connection)."""


@dataclass
class SyncStores:
    connections: ConnectionStore = field(default_factory=ConnectionStore)
    secrets: SecretStore = field(default_factory=SecretStore)
    catalog: CatalogStore = field(default_factory=CatalogStore)
    metrics: MetricStore = field(default_factory=MetricStore)


ClientFactory = Callable[[AdsCredentials, Connection], AdsReports]


def _client(credentials: AdsCredentials, connection: Connection) -> AdsReports:
    return AdsReports(credentials, connection.ads_profile_id, connection.region)


# -- the connection ------------------------------------------------------------------------


def connect(
    tenant: str,
    profile: Identifier,
    request: ConnectRequest,
    *,
    by: str,
    stores: SyncStores | None = None,
) -> Connection:
    """Store the credentials and (re)connect the profile; a disconnected one starts over."""
    stores = stores or SyncStores()
    existing = stores.catalog.get_profile(tenant, profile)
    if existing is not None and existing.kind is not ProfileKind.ADS:
        raise ConnectRejected(
            "profile_id", f"profile {profile} is a {existing.kind} profile, not an Amazon Ads one"
        )
    now = dt.datetime.now(dt.UTC)
    secret = stores.secrets.put(
        tenant,
        profile,
        {
            "client_id": request.client_id,
            "client_secret": request.client_secret.get_secret_value(),
            "refresh_token": request.refresh_token.get_secret_value(),
        },
        at=now,
    )
    before = stores.connections.get(tenant, profile)
    kept = before if before is not None and _same_source(before, request) else None
    connection = Connection(
        tenant_id=tenant,
        profile_id=profile,
        region=request.region,
        ads_profile_id=request.ads_profile_id or (kept.ads_profile_id if kept else None),
        lookback_days=request.lookback_days,
        history_days=request.history_days,
        secret_id=secret,
        connected_at=now,
        connected_by=by,
        # The same Ads profile keeps its sync history: no second full backfill.
        last_sync_at=kept.last_sync_at if kept else None,
        last_sync_first=kept.last_sync_first if kept else None,
        last_sync_last=kept.last_sync_last if kept else None,
    )
    stores.connections.put(connection)
    logger.info(
        "profile connected to the Amazon Ads API",
        extra={"tenant_id": tenant, "profile_id": profile, "region": request.region.value},
    )
    return connection


def _same_source(before: Connection, request: ConnectRequest) -> bool:
    """Reconnecting the same Ads profile (or naming none: the one chosen before)."""
    named = request.ads_profile_id in (None, before.ads_profile_id)
    return named and before.region == request.region


def get_connection(
    tenant: str, profile: str, stores: SyncStores | None = None
) -> Connection | None:
    return (stores or SyncStores()).connections.get(tenant, profile)


def remove_connection(
    tenant: str, profile: str, *, by: str, stores: SyncStores | None = None
) -> Connection | None:
    """Delete the credentials and mark the connection disconnected (kept: it says who and
    when; the API's roles write items, they delete none); None when there is none."""
    stores = stores or SyncStores()
    found = stores.connections.get(tenant, profile)
    if found is None:
        return None
    stores.secrets.delete(found.secret_id)
    gone = found.model_copy(
        update={"status": ConnectionStatus.DISCONNECTED, "reason": f"disconnected by {by}"}
    )
    stores.connections.update(gone)
    logger.info("Amazon Ads connection removed", extra={"tenant_id": tenant, "profile_id": profile})
    return gone


def connected_profiles(stores: SyncStores | None = None) -> list[Connection]:
    return (stores or SyncStores()).connections.connected()


# -- the sync --------------------------------------------------------------------------------


@dataclass
class Synced:
    status: str  # "synced", "disconnected" (just now), "skipped" (not connected)
    first: dt.date | None = None
    last: dt.date | None = None
    rows: int = 0
    items_changed: int = 0
    reports: int = 0
    warnings: list[str] = field(default_factory=list)


def days_to_pull(connection: Connection, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """Yesterday and the ``lookback_days`` before it; ``history_days`` back on the first sync.

    A day settles once it has been pulled at an age of ``lookback_days``. After missed syncs
    the pull starts at the oldest day the last sync left unsettled, so its provisional
    figures are restated too, not only the days missed."""
    last = as_of - dt.timedelta(days=1)
    first = last - dt.timedelta(days=connection.lookback_days - 1)
    oldest = last - dt.timedelta(days=max(connection.history_days, connection.lookback_days) - 1)
    if connection.last_sync_last is None:
        return oldest, last
    # The last sync ran on last_sync_last + 1 and settled the days up to that minus lookback.
    unsettled = connection.last_sync_last + dt.timedelta(days=2 - connection.lookback_days)
    return max(oldest, min(first, unsettled)), last


def chunks(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """``first``..``last`` in reports of at most ``MAX_REPORT_DAYS`` days."""
    out, start = [], first
    while start <= last:
        end = min(last, start + dt.timedelta(days=MAX_REPORT_DAYS - 1))
        out.append((start, end))
        start = end + dt.timedelta(days=1)
    return out


def sync_profile(
    tenant: str,
    profile: str,
    as_of: dt.date,
    *,
    stores: SyncStores | None = None,
    client: ClientFactory = _client,
) -> Synced:
    """Pull the profile's recent days from the Ads API and import them (see the module)."""
    stores = stores or SyncStores()
    connection = stores.connections.get(tenant, profile)
    if connection is None or connection.status is not ConnectionStatus.CONNECTED:
        return Synced("skipped")
    values = stores.secrets.get(connection.secret_id)
    if values is None or any(not values.get(name) for name in SECRET_FIELDS):
        return _disconnect(stores, connection, "the connection's credentials secret is gone")
    credentials = AdsCredentials(*(values[name] for name in SECRET_FIELDS))
    reports = client(credentials, connection)
    try:
        if connection.ads_profile_id is None:
            connection = _choose_ads_profile(stores, connection, reports)
    except (Revoked, BadClient) as refused:
        return _disconnect(stores, connection, str(refused))
    first, last = days_to_pull(connection, as_of)
    outcome = Synced("synced", first, last)
    try:
        with tempfile.TemporaryDirectory(prefix="ads-sync-") as folder:
            paths = []
            # Every report asked for first: Amazon makes them side by side while we poll.
            asked = [(start, end, reports.create(start, end)) for start, end in chunks(first, last)]
            for start, end, report_id in asked:
                raw = reports.download(reports.wait(report_id))
                outcome.reports += 1
                if _records(raw):  # no activity in these days is no error
                    path = Path(folder) / f"spTargeting-{start}-{end}.json.gz"
                    path.write_bytes(raw)
                    paths.append(path)
            if paths:
                read = partial(read_api_report, portfolio_names=_portfolio_names(reports, outcome))
                report = import_report(
                    tenant,
                    profile,
                    paths,
                    read=read,
                    catalog=stores.catalog,
                    metrics=stores.metrics,
                )
                outcome.rows, outcome.items_changed = report.rows, report.items_written
            else:
                outcome.warnings.append(f"the Ads API reported no activity in {first}..{last}")
    except (Revoked, BadClient) as refused:
        return _disconnect(stores, connection, str(refused))
    except (Refused, ImportRejected) as refused:
        why = str(refused)
        stores.connections.update(connection.model_copy(update={"last_error": why}))
        raise SyncRefused(why) from None
    stores.connections.update(
        connection.model_copy(
            update={
                "last_sync_at": dt.datetime.now(dt.UTC),
                "last_sync_first": first,
                "last_sync_last": last,
                "last_sync_rows": outcome.rows,
                "last_error": None,
            }
        )
    )
    logger.info(
        "Amazon Ads sync landed",
        extra={
            "tenant_id": tenant,
            "profile_id": profile,
            "first": first.isoformat(),
            "last": last.isoformat(),
            "rows": outcome.rows,
            "items_changed": outcome.items_changed,
            "api_calls": reports.calls,
        },
    )
    return outcome


def _portfolio_names(reports: AdsReports, outcome: Synced) -> dict[str, str]:
    """The advertiser's portfolio names; a refused listing (an app without the portfolio
    scope) leaves portfolios named by id, with a warning, rather than failing the sync."""
    try:
        return reports.portfolios()
    except Refused as refused:
        outcome.warnings.append(f"portfolios named by id: {refused}")
        return {}


def _choose_ads_profile(
    stores: SyncStores, connection: Connection, reports: AdsReports
) -> Connection:
    """The one Ads profile the refresh token opens, kept on the connection; several (or
    none) are a refused sync naming them — connect again with ``ads_profile_id``."""
    found = sorted(str(p["profileId"]) for p in reports.profiles())
    if len(found) != 1:
        named = ", ".join(found[:10]) or "none"
        why = (
            f"the refresh token opens {len(found)} Amazon Ads profiles ({named}): connect "
            "again naming one with ads_profile_id"
        )
        stores.connections.update(connection.model_copy(update={"last_error": why}))
        raise SyncRefused(why)
    chosen = connection.model_copy(update={"ads_profile_id": found[0]})
    reports.ads_profile_id = found[0]
    stores.connections.update(chosen)
    return chosen


def _records(raw: bytes) -> int:
    """How many rows a report holds (a GZIP_JSON array)."""
    try:
        found: Any = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except (OSError, EOFError, ValueError):
        return 1  # not ours to judge: the import names what is wrong with it
    return len(found) if isinstance(found, list) else 1


def _disconnect(stores: SyncStores, connection: Connection, why: str) -> Synced:
    """Mark the connection disconnected; only the sync that flips it announces it."""
    flipped = stores.connections.update(
        connection.model_copy(update={"status": ConnectionStatus.DISCONNECTED, "reason": why}),
        only_if=ConnectionStatus.CONNECTED,
    )
    if flipped:
        logger.error(
            "Amazon Ads connection disconnected: connect the profile again",
            extra={
                "tenant_id": connection.tenant_id,
                "profile_id": connection.profile_id,
                "reason": why,
            },
        )
        telemetry.count(telemetry.CONNECTIONS_LOST)
        announce_disconnected(connection, why)
    return Synced("disconnected", warnings=[why])


def announce_disconnected(connection: Connection, why: str) -> None:
    """The alerts topic's subscribers hear of it, when a topic is configured."""
    from tripwire.notify.publisher import publish_connection_lost

    publish_connection_lost(connection.tenant_id, connection.profile_id, why)
