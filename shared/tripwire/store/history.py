"""The history table: every status change of an alert, kept forever.

pk ``{tenant}#{alert}``, sk ``{at}#{status}`` — a Query on the pk reads an alert's history
oldest first. Records are written in the same transaction as the alert (see AlertStore).
"""

from __future__ import annotations

from tripwire.domain.alerts import StatusChange
from tripwire.store import keys
from tripwire.store.batch import Item, query_all
from tripwire.store.dynamo import DynamoStore
from tripwire.store.items import from_item, to_item
from tripwire.store.tables import HISTORY


def history_pk(tenant: str, alert_id: str) -> str:
    return f"{tenant}{keys.SEP}{alert_id}"


def history_item(change: StatusChange) -> Item:
    return to_item(
        change,
        pk=history_pk(change.tenant_id, change.alert_id),
        sk=f"{change.at.isoformat()}{keys.SEP}{change.status.value}",
    )


class HistoryStore(DynamoStore):
    def of_alert(self, tenant: str, alert_id: str) -> list[StatusChange]:
        """An alert's status changes, oldest first."""
        items = query_all(
            self._client,
            TableName=HISTORY.name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": history_pk(tenant, alert_id)}},
        )
        return [from_item(StatusChange, item) for item in items]
