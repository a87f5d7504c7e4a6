"""The alerts table and its access patterns (keys in tables.py / keys.py).

- an alert by id: GetItem on ``{tenant}#{alert}``;
- active alerts of a profile by severity, newest first: the sparse ``active`` index,
  one partition per severity, merged newest first;
- recent alerts of an entity: the ``by_entity`` index, newest period first;
- every alert of a profile (groups, statistics): the ``by_profile`` index.
Alert ids are deterministic (entity, interval, period), so writing the same alert twice
stores it once.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from tripwire.domain.alerts import Alert, AlertStatus, Severity
from tripwire.store import keys
from tripwire.store.batch import Item, batch_put, query_all
from tripwire.store.dynamo import DynamoStore
from tripwire.store.items import from_item, to_item
from tripwire.store.tables import ALERTS


def active_pk(tenant: str, profile: str, severity: Severity) -> str:
    return f"{keys.profile_pk(tenant, profile)}{keys.SEP}{severity.value}"


def _item(alert: Alert) -> Item:
    pk = keys.profile_pk(alert.tenant_id, alert.profile_id)
    created = f"{alert.created_at.isoformat()}{keys.SEP}{alert.alert_id}"
    active = alert.status is not AlertStatus.RESOLVED
    ttl_days = ALERTS.ttl_days or 90
    return to_item(
        alert,
        pk=f"{alert.tenant_id}{keys.SEP}{alert.alert_id}",
        active_pk=active_pk(alert.tenant_id, alert.profile_id, alert.severity) if active else None,
        active_sk=created if active else None,
        entity_pk=f"{pk}{keys.SEP}{alert.entity_id}",
        entity_sk=f"{alert.period.isoformat()}{keys.SEP}{alert.alert_id}",
        profile_pk=pk,
        profile_sk=created,
        expires_at=int(
            (alert.created_at.replace(tzinfo=UTC) + timedelta(days=ttl_days)).timestamp()
        ),
    )


class AlertStore(DynamoStore):
    def put_many(self, alerts: Iterable[Alert]) -> int:
        return batch_put(self._client, ALERTS.name, [_item(a) for a in alerts])

    def get(self, tenant: str, alert_id: str) -> Alert | None:
        item = self._client.get_item(
            TableName=ALERTS.name, Key={"pk": {"S": f"{tenant}{keys.SEP}{alert_id}"}}
        ).get("Item")
        return from_item(Alert, item) if item else None

    def active(
        self,
        tenant: str,
        profile: str,
        severities: Sequence[Severity] = tuple(Severity),
        limit: int = 50,
    ) -> list[Alert]:
        """Unresolved alerts, newest first, across the chosen severities."""
        streams = [
            self._query_index("active", active_pk(tenant, profile, s), limit) for s in severities
        ]
        newest = heapq.merge(*streams, key=lambda i: i["active_sk"]["S"], reverse=True)
        return [from_item(Alert, item) for _, item in zip(range(limit), newest, strict=False)]

    def of_entity(self, tenant: str, profile: str, entity: str, limit: int = 50) -> list[Alert]:
        pk = f"{keys.profile_pk(tenant, profile)}{keys.SEP}{entity}"
        items = self._query_index("by_entity", pk, limit)
        return [from_item(Alert, i) for _, i in zip(range(limit), items, strict=False)]

    def resolve(self, tenant: str, alert_id: str, by: str, notes: str, at: datetime) -> Alert:
        """Resolve once: a conditional write, so two resolvers end with one resolution."""
        alert = self.get(tenant, alert_id)
        if alert is None:
            raise KeyError(alert_id)
        minutes = (at - alert.created_at).total_seconds() / 60
        resolved = alert.model_copy(
            update={
                "status": AlertStatus.RESOLVED,
                "resolved_by": by,
                "resolved_at": at,
                "resolution_notes": notes,
                "resolution_minutes": round(minutes, 1),
            }
        )
        self._client.put_item(
            TableName=ALERTS.name,
            Item=_item(resolved),
            ConditionExpression="attribute_exists(active_pk)",
        )
        return resolved

    def _query_index(self, index: str, pk: str, limit: int) -> Iterable[Item]:
        spec = next(i for i in ALERTS.indexes if i.name == index)
        return query_all(
            self._client,
            TableName=ALERTS.name,
            IndexName=index,
            KeyConditionExpression=f"{spec.partition.name} = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ScanIndexForward=False,
            Limit=limit,
        )
