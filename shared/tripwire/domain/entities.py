"""Tenants, profiles and the entity hierarchy they own."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# The id alphabet: ASCII letters and digits and ``-._~:@!$&'()*+,;=^`` (RFC 3986's
# unreserved characters and sub-delimiters, ':' and '@', and '^' for index tickers). Every
# id can then travel as one path segment — percent-encoded or not, API Gateway and the
# local gateway decode it back to itself — and none holds '#' (the DynamoDB key joiner),
# '/', '?', '%', spaces, or a non-ASCII letter that two clients could encode differently.
ID_CHARACTERS = r"A-Za-z0-9\-._~:@!$&'()*+,;=^"
ID_PATTERN = rf"^[{ID_CHARACTERS}]+$"
ID_MAX_LENGTH = 128  # characters of the id itself (decoded), not of its encoded form
Identifier = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN
    ),
]
"""An id of the id alphabet (``ID_PATTERN``), 1-128 characters."""


class EntityType(StrEnum):
    ACCOUNT = "account"
    PORTFOLIO = "portfolio"
    CAMPAIGN = "campaign"
    KEYWORD = "keyword"
    MARKET = "market"
    TICKER = "ticker"


class ProfileKind(StrEnum):
    ADS = "ads"  # an Amazon Ads profile
    MARKET = "market"  # a market of tickers


# Which parent types each entity type may have; roots have none. Amazon lets a campaign
# sit outside any portfolio, directly under the account.
PARENT_TYPES: dict[EntityType, frozenset[EntityType]] = {
    EntityType.ACCOUNT: frozenset(),
    EntityType.PORTFOLIO: frozenset({EntityType.ACCOUNT}),
    EntityType.CAMPAIGN: frozenset({EntityType.PORTFOLIO, EntityType.ACCOUNT}),
    EntityType.KEYWORD: frozenset({EntityType.CAMPAIGN}),
    EntityType.MARKET: frozenset(),
    EntityType.TICKER: frozenset({EntityType.MARKET}),
}
LEAF_TYPES = frozenset({EntityType.KEYWORD, EntityType.TICKER})
PROFILE_ENTITY_TYPES: dict[ProfileKind, frozenset[EntityType]] = {
    ProfileKind.ADS: frozenset(
        {EntityType.ACCOUNT, EntityType.PORTFOLIO, EntityType.CAMPAIGN, EntityType.KEYWORD}
    ),
    ProfileKind.MARKET: frozenset({EntityType.MARKET, EntityType.TICKER}),
}


class Tenant(BaseModel):
    model_config = ConfigDict(frozen=True)
    tenant_id: Identifier
    name: str = ""


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True)
    tenant_id: Identifier
    profile_id: Identifier
    kind: ProfileKind = ProfileKind.ADS
    name: str = ""
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    timezone: str = "UTC"
    scan_enabled: bool = True
    # Tickers the market data source keeps up to date (ticker id -> the provider's symbol):
    # set by a backfill by symbol; scheduled scans fetch their new bars first.
    symbols: dict[str, str] = Field(default_factory=dict)


class Entity(BaseModel):
    """A node of the hierarchy: account > portfolio > campaign > keyword, market > ticker."""

    model_config = ConfigDict(frozen=True)
    entity_id: Identifier
    entity_type: EntityType
    parent_id: Identifier | None = None
    name: str = ""

    @model_validator(mode="after")
    def _root_has_no_parent(self) -> Entity:
        is_root = not PARENT_TYPES[self.entity_type]
        if is_root and self.parent_id is not None:
            raise ValueError(f"a {self.entity_type} has no parent")
        if not is_root and self.parent_id is None:
            raise ValueError(f"a {self.entity_type} needs a parent_id")
        return self

    @property
    def is_leaf(self) -> bool:
        return self.entity_type in LEAF_TYPES


def check_parent(child: Entity, parent: Entity) -> str | None:
    """Why ``parent`` cannot be ``child``'s parent, or None when it can."""
    allowed = PARENT_TYPES[child.entity_type]
    if parent.entity_type not in allowed:
        names = " or ".join(sorted(t.value for t in allowed))
        return f"a {child.entity_type}'s parent must be a {names}, not a {parent.entity_type}"
    return None
