"""The alerts table and its access patterns (keys in tables.py / keys.py).

- an alert by id: GetItem on ``{tenant}#{alert}``;
- active alerts of a profile by severity, newest first: the sparse ``active`` index,
  one partition per severity, merged newest first;
- recent alerts of an entity: the ``by_entity`` index, newest period first;
- every alert of a profile (groups, statistics): the ``by_profile`` index.
Status changes are transactions with their history record (``transition``), conditional
on the alert being unchanged since it was read, so no update is lost or half-stored.
Alert ids are deterministic (entity, interval, period), and new alerts are written only
if absent (``put_new``), so writing the same alert twice — or two scan workers writing
it at once — stores it once.

Every write moves the profile's statistics counters (store/statistics.py): a new alert
after its conditional put succeeded (so only the writer that stored it counts it), a
status change in the same transaction as the alert (so a change is counted exactly when
it is stored).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from botocore.exceptions import ClientError

from tripwire.domain.alerts import (
    Alert,
    AlertStatus,
    Confirmation,
    Impact,
    Severity,
    StatusChange,
)
from tripwire.store import keys, statistics
from tripwire.store.batch import Item, batch_get, query_all
from tripwire.store.dynamo import DynamoStore
from tripwire.store.history import history_item
from tripwire.store.items import from_item, to_item
from tripwire.store.tables import ALERTS, HISTORY

# Top-level copies of body fields, so list filters run in DynamoDB (FilterExpression).
FILTERABLE = ("entity_type", "entity_id", "group_id")


class StaleAlert(Exception):
    """The alert changed (or vanished) between the read and the conditional write."""


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
        status=alert.status.value,
        entity_type=alert.entity_type.value,
        entity_id=alert.entity_id,
        group_id=alert.group_id,
        expires_at=int(
            (alert.created_at.replace(tzinfo=UTC) + timedelta(days=ttl_days)).timestamp()
        ),
    )


def _cancellation(error: ClientError) -> list[str] | None:
    """Per-action reason codes of a cancelled transaction; None for any other error."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return [str(r.get("Code") or "None") for r in error.response.get("CancellationReasons") or []]


class AlertStore(DynamoStore):
    def put_many(self, alerts: Iterable[Alert]) -> int:
        """Store the alerts not stored yet; how many were written (see ``put_new``)."""
        return len(self.put_new(alerts))

    def put_new(self, alerts: Iterable[Alert]) -> list[Alert]:
        """Store each alert only if its id is not stored yet, then count those written.

        Returns the alerts actually written: concurrent writers of the same alert end
        with one write, and only the winner counts it.

        Why a conditional put and then ``ADD`` rather than one transaction: a transaction
        costs twice the write units, and moto (the local stack) copies the whole alerts
        table for every action of a transaction — thousands of alerts per scan became
        minutes. The conditional put alone decides who counts an alert, so counters are
        never moved twice; the one failure left is a crash between the put and the ADD,
        which leaves those alerts uncounted (never double-counted). Status changes, where
        concurrent users race, stay transactional (``transition``).
        """
        first: dict[tuple[str, str], Alert] = {}
        for alert in alerts:
            first.setdefault((alert.tenant_id, alert.alert_id), alert)
        written = [alert for alert in first.values() if self._put_if_absent(alert)]
        counters = statistics.combine(*((statistics.contribution(a), 1.0) for a in written))
        for action in statistics.update_actions(counters):
            self._client.update_item(**action["Update"])  # each ADD is atomic on its item
        return written

    def _put_if_absent(self, alert: Alert) -> bool:
        try:
            self._client.put_item(
                TableName=ALERTS.name,
                Item=_item(alert),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False  # stored already, by an earlier scan or a concurrent worker
            raise
        return True

    def existing(self, tenant: str, alert_ids: Sequence[str]) -> set[str]:
        """Which of these alert ids are already stored (one batched read)."""
        prefix = f"{tenant}{keys.SEP}"
        request = [{"pk": {"S": prefix + a}} for a in alert_ids]
        found = batch_get(self._client, ALERTS.name, request, ProjectionExpression="pk")
        return {item["pk"]["S"].removeprefix(prefix) for item in found}

    def get_many(self, tenant: str, alert_ids: Sequence[str]) -> dict[str, Alert]:
        """The stored alerts among ``alert_ids`` (batched reads), by id."""
        request = [{"pk": {"S": f"{tenant}{keys.SEP}{a}"}} for a in alert_ids]
        found = (from_item(Alert, i) for i in batch_get(self._client, ALERTS.name, request))
        return {a.alert_id: a for a in found}

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
        return self.active_page(tenant, profile, severities=severities, limit=limit)[0]

    def active_page(
        self,
        tenant: str,
        profile: str,
        *,
        severities: Sequence[Severity] = tuple(Severity),
        where: Mapping[str, str] | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> tuple[list[Alert], str | None]:
        """A page of unresolved alerts, newest first, and the sort key to continue after.

        Every severity partition shares the sort key ``{created_at}#{alert}``, so one key
        (the last one returned) is a position in the merged stream of all of them.
        ``where`` holds equality filters on FILTERABLE attributes.
        """
        streams = [
            self._active_stream(active_pk(tenant, profile, s), where or {}, limit + 1, before)
            for s in severities
        ]
        newest = heapq.merge(*streams, key=lambda i: i["active_sk"]["S"], reverse=True)
        items = list(islice(newest, limit + 1))
        page = items[:limit]
        after = page[-1]["active_sk"]["S"] if len(items) > limit else None
        return [from_item(Alert, item) for item in page], after

    def _active_stream(
        self, pk: str, where: Mapping[str, str], page: int, before: str | None
    ) -> Iterator[Item]:
        condition = "active_pk = :pk" + (" AND active_sk < :before" if before else "")
        values: dict[str, Any] = {":pk": {"S": pk}}
        if before:
            values[":before"] = {"S": before}
        params: dict[str, Any] = {}
        if where:
            unknown = set(where) - set(FILTERABLE)
            if unknown:
                raise ValueError(f"cannot filter on {sorted(unknown)}")
            params["FilterExpression"] = " AND ".join(f"#{n} = :{n}" for n in where)
            params["ExpressionAttributeNames"] = {f"#{n}": n for n in where}
            values.update({f":{n}": {"S": v} for n, v in where.items()})
        return query_all(
            self._client,
            TableName=ALERTS.name,
            IndexName="active",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            Limit=page,
            # Only what a page needs: fewer attributes answer faster (moto serialises
            # each one; DynamoDB bills by size either way).
            ProjectionExpression="body, active_sk",
            **params,
        )

    def of_entity(self, tenant: str, profile: str, entity: str, limit: int = 50) -> list[Alert]:
        pk = f"{keys.profile_pk(tenant, profile)}{keys.SEP}{entity}"
        items = self._query_index("by_entity", pk, limit)
        return [from_item(Alert, i) for _, i in zip(range(limit), items, strict=False)]

    def of_profile_since(self, tenant: str, profile: str, since: datetime) -> list[Alert]:
        """The profile's alerts raised at or after ``since`` (one Query of by_profile; a key
        is "{created_at}#{alert}", and "~" sorts after every such key)."""
        pk = keys.profile_pk(tenant, profile)
        return self._between("by_profile", pk, since.isoformat(), "~")

    def of_entity_between(
        self, tenant: str, profile: str, entity: str, start: datetime, stop: datetime
    ) -> list[Alert]:
        """An entity's alerts with start <= period < stop, oldest first (one Query)."""
        # A key is "{period}#{alert}": every period in [start, stop) sorts between them.
        pk = f"{keys.profile_pk(tenant, profile)}{keys.SEP}{entity}"
        return self._between("by_entity", pk, start.isoformat(), stop.isoformat())

    def _between(self, index: str, pk: str, lo: str, hi: str) -> list[Alert]:
        spec = next(i for i in ALERTS.indexes if i.name == index)
        assert spec.sort is not None
        condition = f"{spec.partition.name} = :pk AND {spec.sort.name} BETWEEN :lo AND :hi"
        items = query_all(
            self._client,
            TableName=ALERTS.name,
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeValues={":pk": {"S": pk}, ":lo": {"S": lo}, ":hi": {"S": hi}},
        )
        return [from_item(Alert, item) for item in items]

    def restate(
        self, before: Alert, impact: Impact | None, confirmation: Confirmation | None = None
    ) -> bool:
        """Store the alert's impact as its settled sales restate it (and, given, whether they
        confirm or withdraw it), if its status is still ``before``'s (its version); False
        when someone changed it meanwhile."""
        update: dict[str, object] = {"impact": impact}
        if confirmation is not None:
            update["confirmation"] = confirmation
        try:
            self._client.put_item(
                TableName=ALERTS.name,
                Item=_item(before.model_copy(update=update)),
                ConditionExpression="#status = :status",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":status": {"S": before.status.value}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def transition(self, before: Alert, after: Alert, change: StatusChange) -> None:
        """Store ``after`` and its history record together, if the alert's status is still
        ``before``'s (every change of an alert is a status change, so that is its version).

        Raises StaleAlert when the status changed since it was read; the caller re-reads.
        """
        alert = {
            "Put": {
                "TableName": ALERTS.name,
                "Item": _item(after),
                "ConditionExpression": "#status = :status",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":status": {"S": before.status.value}},
            }
        }
        history = {
            "Put": {
                "TableName": HISTORY.name,
                "Item": history_item(change),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        counters = statistics.update_actions(statistics.change(before, after))
        try:
            self._client.transact_write_items(TransactItems=[alert, history, *counters])
        except ClientError as error:
            reasons = _cancellation(error)
            retry = {"None", "ConditionalCheckFailed", "TransactionConflict"}
            if reasons is None or not set(reasons) <= retry:
                raise
            raise StaleAlert(before.alert_id) from error

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
