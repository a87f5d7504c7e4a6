"""Every DynamoDB table and S3 bucket Tripwire uses, declared once.

The store code, the local stack and the CDK app all read this module, so a key,
an index or a TTL attribute can only ever be changed here.

Key design (every partition key starts with the tenant):

- metrics     pk ``{tenant}#{profile}``  sk ``M#{interval}#{entity}#{bucket}``
              one fat item per entity, interval and time bucket (a year of daily
              points, a month of hourly ones) so a scan reads an entity's window in
              at most two items, fetched with BatchGetItem.
- catalog     pk ``{tenant}``            sk ``PROFILE#{profile}``
              pk ``{tenant}#{profile}``  sk ``ENTITY#{entity}``
              profiles and the entity hierarchy (the detection *metadata* table
              holds per-series detection state; entities live here).
- alerts      pk ``{tenant}#{alert}``    (an alert by id)
              GSI active     ``{tenant}#{profile}#{severity}`` / ``{created_at}#{alert}``
                             sparse: the attributes are removed on resolve, so the
                             index holds unresolved alerts only, newest first.
              GSI by_entity  ``{tenant}#{profile}#{entity}`` / ``{period}#{alert}``
              GSI by_profile ``{tenant}#{profile}`` / ``{created_at}#{alert}``
              TTL ``expires_at`` (90 days; the stream feeds the archiver).
- history     pk ``{tenant}#{alert}``    sk ``{at}#{event}`` (kept forever).
- metadata    pk ``{tenant}#{profile}``  sk ``{interval}#{entity}`` detection state.
              The entity is a *unit* (a keyword's campaign, or a non-leaf entity): one fat
              item holds the unit's and its keywords' state (store/metadata.py).
              pk ``#SCHEDULE#{interval}`` sk ``{tenant}#{profile}``: which profiles the
              scheduler scans (store/schedule.py; the scheduler's cross-tenant list).
- runs        pk ``{tenant}#{run}``; GSI by_profile ``{tenant}#{profile}`` / ``{started_at}``;
              TTL ``expires_at`` (30 days).
              GSI open ``OPEN`` / ``{deadline}#{tenant}#{run}`` — sparse: only queued runs
              still in progress carry it, so the sweeper finds the overdue ones in one
              Query across tenants (store/runs.py).
- feedback    pk ``{tenant}#{profile}``  sk ``{alert}`` training labels.
- statistics  pk ``{tenant}#{profile}``  sk ``TOTAL`` · ``DAY#{date}`` · ``ENTITY#{entity}``
              dashboard counters, moved with ADD in the transaction that writes the
              alert (see store/statistics.py); read instead of scanning alerts.
- idempotency pk ``id`` — the schema Powertools' idempotency utility expects; its
              key is a hash of the request, which includes the tenant claim.
- notifications pk ``{tenant}#{group}`` — one item per alert group published to SNS
              (claimed, then sent): a group is announced once, however often offered.
- incidents   pk ``{tenant}#{profile}``  sk ``G#{group}`` an incident group (root, periods,
              counts, worst severity, summary); sk ``M#{period}#{group}`` the group's member
              entities in one period (sets: a redelivered scan adds nothing). Members sorted
              by period answer "who alerted in the periods before" (temporal precedence).
              TTL ``expires_at`` (90 days after the group's last period).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

KeyType = Literal["S", "N", "B"]
StreamView = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]


@dataclass(frozen=True)
class Key:
    name: str
    type: KeyType = "S"


@dataclass(frozen=True)
class Index:
    name: str
    partition: Key
    sort: Key | None = None


@dataclass(frozen=True)
class Table:
    """A table: its logical name (the physical one comes from the environment)."""

    logical: str
    partition: Key
    sort: Key | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    stream: StreamView | None = None
    retain: bool = True  # data tables survive a stack deletion
    ttl_days: int | None = None

    @property
    def env_var(self) -> str:
        return f"TRIPWIRE_TABLE_{self.logical.upper()}"

    @property
    def name(self) -> str:
        """Physical name: set by the CDK app (or the local stack) in the environment."""
        return os.environ.get(self.env_var, f"tripwire-{self.logical}")

    def key_attributes(self) -> list[Key]:
        keys = [self.partition, *([self.sort] if self.sort else [])]
        for index in self.indexes:
            keys += [index.partition, *([index.sort] if index.sort else [])]
        unique: dict[str, Key] = {}
        for key in keys:
            unique.setdefault(key.name, key)
        return list(unique.values())


PK, SK = Key("pk"), Key("sk")

METRICS = Table("metrics", PK, SK)
CATALOG = Table("catalog", PK, SK)
ALERTS = Table(
    "alerts",
    PK,
    indexes=(
        Index("active", Key("active_pk"), Key("active_sk")),
        Index("by_entity", Key("entity_pk"), Key("entity_sk")),
        Index("by_profile", Key("profile_pk"), Key("profile_sk")),
    ),
    ttl_attribute="expires_at",
    ttl_days=90,
    stream="NEW_AND_OLD_IMAGES",
)
HISTORY = Table("history", PK, SK)
METADATA = Table("metadata", PK, SK)
RUNS = Table(
    "runs",
    PK,
    indexes=(
        Index("by_profile", Key("profile_pk"), Key("started_at")),
        Index("open", Key("open_pk"), Key("open_sk")),
    ),
    ttl_attribute="expires_at",
    ttl_days=30,
)
FEEDBACK = Table("feedback", PK, SK)
STATISTICS = Table("statistics", PK, SK)
IDEMPOTENCY = Table("idempotency", Key("id"), ttl_attribute="expiration", retain=False)
NOTIFICATIONS = Table("notifications", PK)
INCIDENTS = Table("incidents", PK, SK, ttl_attribute="expires_at", ttl_days=90)

TABLES: tuple[Table, ...] = (
    METRICS,
    CATALOG,
    ALERTS,
    HISTORY,
    METADATA,
    RUNS,
    FEEDBACK,
    IDEMPOTENCY,
    STATISTICS,
    NOTIFICATIONS,
    INCIDENTS,
)


@dataclass(frozen=True)
class Bucket:
    logical: str
    versioned: bool = True
    expire_days: int | None = None  # objects older than this are deleted (lifecycle)

    @property
    def env_var(self) -> str:
        return f"TRIPWIRE_BUCKET_{self.logical.upper()}"

    @property
    def name(self) -> str:
        return os.environ.get(self.env_var, f"tripwire-{self.logical}")


MODELS = Bucket("models")
# Report files dropped under ``{tenant}/{profile}/`` and the import report written beside
# each (``{key}.result.json``; service/landing.py). The rows live in the tables once
# imported, so the files are kept a year, for the audit trail, then expire.
LANDING = Bucket("landing", versioned=False, expire_days=365)
BUCKETS: tuple[Bucket, ...] = (MODELS, LANDING)


def physical_names(prefix: str) -> dict[str, str]:
    """Environment variables naming every table and bucket with ``prefix`` (local stack)."""
    names = {t.env_var: f"{prefix}-{t.logical}" for t in TABLES}
    names.update({b.env_var: f"{prefix}-{b.logical}" for b in BUCKETS})
    return names
