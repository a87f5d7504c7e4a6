"""A profile's connection to an outside data source (today: the Amazon Ads API).

The connection is metadata only — where to pull from and how it went. The credentials
(Login-with-Amazon client id and secret, the advertiser's refresh token) live in Secrets
Manager, one secret per tenant and profile (``store.connections.SecretStore``), never here.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from tripwire.domain.entities import Identifier

AMAZON_ADS = "amazon-ads"
DEFAULT_LOOKBACK = 3  # days re-pulled by each sync: Amazon restates about the last three
MAX_LOOKBACK = 14
DEFAULT_HISTORY = 62  # days the first sync pulls: two 31-day reports, enough to train on
MAX_HISTORY = 95  # Amazon keeps spTargeting data this long


class AdsRegion(StrEnum):
    """The Ads API's regions (each has its own API and Login-with-Amazon hosts)."""

    NA = "NA"
    EU = "EU"
    FE = "FE"


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"  # ``reason`` says why; connecting again clears it


class Connection(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: Identifier
    profile_id: Identifier
    provider: str = AMAZON_ADS
    region: AdsRegion = AdsRegion.NA
    # None until the first sync finds the one Ads profile the refresh token opens
    ads_profile_id: str | None = Field(default=None, pattern=r"^[0-9A-Za-z._-]{1,64}$")
    lookback_days: int = Field(default=DEFAULT_LOOKBACK, ge=1, le=MAX_LOOKBACK)
    history_days: int = Field(default=DEFAULT_HISTORY, ge=1, le=MAX_HISTORY)
    status: ConnectionStatus = ConnectionStatus.CONNECTED
    reason: str | None = None
    secret_id: str  # the Secrets Manager secret holding the credentials
    connected_at: dt.datetime
    connected_by: str = "system"
    last_sync_at: dt.datetime | None = None
    last_sync_first: dt.date | None = None  # the days the last sync pulled
    last_sync_last: dt.date | None = None
    last_sync_rows: int = 0
    last_error: str | None = None
