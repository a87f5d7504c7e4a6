"""The statistics table: a profile's dashboard counters, moved on every alert write.

Items under pk ``{tenant}#{profile}``:

- ``TOTAL``            ``n#{status}#{severity}`` — alerts by status and severity now;
                       ``ack_n``/``ack_minutes`` and ``resolve_n``/``resolve_minutes`` —
                       sums whose ratios are the mean times to acknowledge and resolve.
- ``DAY#{yyyy-mm-dd}`` ``raised#{severity}`` — alerts whose period is that day;
                       ``acknowledged``/``resolved`` — transitions made that day.
- ``DAY#{yyyy-mm-dd}#{shard}`` ``e#{type}#{entity}`` — an entity's alerts that day, spread
                       over ``SHARDS`` items by a hash of the entity so an account-wide
                       incident on every keyword still fits DynamoDB's 400 KB per item.
                       Top entities of any range come from one Query of the days' items.
- ``ENTITY#{entity}``  ``alerts``, ``sev#{severity}``, ``cause#{relation}#{type}#{entity}``
                       — an entity's anomaly history and the root causes seen with it.

An alert's counters are a pure function of the alert (``contribution``); a write moves
them by ``after − before`` with DynamoDB ``ADD`` in the same transaction that writes the
alert (AlertStore), so an alert that is not stored — or stored already — is never
counted, and a status change is counted once however many users try it at once.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from tripwire.domain.alerts import Alert, AlertStatus
from tripwire.store import keys
from tripwire.store.batch import Item, query_all
from tripwire.store.dynamo import DynamoStore
from tripwire.store.tables import STATISTICS

TOTAL = "TOTAL"
DAY = "DAY"
ENTITY = "ENTITY"

# pk -> sk -> attribute -> amount to ADD
Counters = dict[tuple[str, str], dict[str, float]]


SHARDS = 16


def day_sk(day: date) -> str:
    return f"{DAY}{keys.SEP}{day.isoformat()}"


def day_entities_sk(day: date, entity: str) -> str:
    shard = int(hashlib.sha256(entity.encode()).hexdigest()[:8], 16) % SHARDS
    return f"{day_sk(day)}{keys.SEP}{shard:02d}"


def entity_sk(entity: str) -> str:
    return f"{ENTITY}{keys.SEP}{entity}"


def _minutes(start: datetime, end: datetime) -> float:
    def utc(moment: datetime) -> datetime:
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    return round(max((utc(end) - utc(start)).total_seconds() / 60, 0.0), 1)


def contribution(alert: Alert) -> Counters:
    """What one alert adds to its profile's counters, in its current state."""
    pk = keys.profile_pk(alert.tenant_id, alert.profile_id)
    sev = alert.severity.value
    total = {f"n#{alert.status.value}#{sev}": 1.0}
    found: Counters = defaultdict(dict)
    if alert.acknowledged_at is not None:
        total |= {"ack_n": 1.0, "ack_minutes": _minutes(alert.created_at, alert.acknowledged_at)}
        found[(pk, day_sk(alert.acknowledged_at.date()))]["acknowledged"] = 1.0
    if alert.status is AlertStatus.RESOLVED and alert.resolved_at is not None:
        minutes = alert.resolution_minutes
        if minutes is None:
            minutes = _minutes(alert.created_at, alert.resolved_at)
        total |= {"resolve_n": 1.0, "resolve_minutes": minutes}
        found[(pk, day_sk(alert.resolved_at.date()))]["resolved"] = 1.0
    found[(pk, TOTAL)] |= total
    found[(pk, day_sk(alert.period.date()))][f"raised#{sev}"] = 1.0
    by_entity = found[(pk, day_entities_sk(alert.period.date(), alert.entity_id))]
    by_entity[f"e#{alert.entity_type.value}#{alert.entity_id}"] = 1.0
    entity = {"alerts": 1.0, f"sev#{sev}": 1.0}
    for cause in {(c.relation.value, c.entity_type.value, c.entity_id) for c in alert.root_causes}:
        entity["cause#" + keys.SEP.join(cause)] = 1.0
    found[(pk, entity_sk(alert.entity_id))] |= entity
    return dict(found)


def combine(*parts: tuple[Counters, float]) -> Counters:
    """The weighted sum of counter sets (weight −1 subtracts), without zero entries."""
    summed: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for counters, weight in parts:
        for item, attributes in counters.items():
            for name, amount in attributes.items():
                summed[item][name] += weight * amount
    return {
        item: cleaned
        for item, attributes in summed.items()
        if (cleaned := {n: round(v, 3) for n, v in attributes.items() if round(v, 3) != 0})
    }


def change(before: Alert | None, after: Alert) -> Counters:
    """How the counters move when ``before`` (None: nothing stored) becomes ``after``."""
    parts = [(contribution(after), 1.0)]
    if before is not None:
        parts.append((contribution(before), -1.0))
    return combine(*parts)


def _number(value: float) -> str:
    # DynamoDB numbers as plain decimals (sums of minutes keep one decimal place).
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0")


def update_actions(counters: Counters) -> list[dict[str, Any]]:
    """One transactional ``Update`` with ``ADD`` per counter item."""
    actions = []
    for (pk, sk), attributes in sorted(counters.items()):
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        values = {f":v{i}": {"N": _number(v)} for i, v in enumerate(attributes.values())}
        expression = "ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(attributes)))
        actions.append(
            {
                "Update": {
                    "TableName": STATISTICS.name,
                    "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                    "UpdateExpression": expression,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        )
    return actions


def _numbers(item: Item) -> dict[str, float]:
    return {name: float(value["N"]) for name, value in item.items() if "N" in value}


class StatisticsStore(DynamoStore):
    def totals(self, tenant: str, profile: str) -> dict[str, float]:
        """The ``TOTAL`` counters of a profile (empty when it never had an alert)."""
        item = self._client.get_item(
            TableName=STATISTICS.name,
            Key={"pk": {"S": keys.profile_pk(tenant, profile)}, "sk": {"S": TOTAL}},
        ).get("Item")
        return _numbers(item) if item else {}

    def days(
        self, tenant: str, profile: str, start: date, end: date
    ) -> dict[date, dict[str, float]]:
        """Each day's counters in [start, end] that has any, shards merged (one Query)."""
        items = query_all(
            self._client,
            TableName=STATISTICS.name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":pk": {"S": keys.profile_pk(tenant, profile)},
                ":lo": {"S": day_sk(start)},
                ":hi": {"S": f"{day_sk(end)}{keys.SEP}~"},  # the end day's shards too
            },
        )
        days: dict[date, dict[str, float]] = defaultdict(dict)
        for item in items:
            day = date.fromisoformat(item["sk"]["S"].split(keys.SEP)[1])
            days[day] |= _numbers(item)  # shards hold disjoint attributes
        return dict(days)

    def entity(self, tenant: str, profile: str, entity: str) -> dict[str, float]:
        item = self._client.get_item(
            TableName=STATISTICS.name,
            Key={"pk": {"S": keys.profile_pk(tenant, profile)}, "sk": {"S": entity_sk(entity)}},
        ).get("Item")
        return _numbers(item) if item else {}


def with_prefix(counters: Mapping[str, float], prefix: str) -> dict[str, float]:
    """The counters named ``{prefix}{rest}``, keyed by ``rest``."""
    return {name.removeprefix(prefix): v for name, v in counters.items() if name.startswith(prefix)}


def summed(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    total: dict[str, float] = defaultdict(float)
    for row in rows:
        for name, value in row.items():
            total[name] += value
    return dict(total)
