"""The history table: every status change of an alert, kept forever.

pk ``{tenant}#{alert}``, sk ``{at}#{status}`` — a Query on the pk reads an alert's history
oldest first. Records are written in the same transaction as the alert (see AlertStore).

When an alert expires from the alerts table (TTL, 90 days) the archiver stores the whole
alert — its resolution included — under the same pk with sk ``ALERT``: the history table
then holds everything ever known about the alert, forever. ``ALERT`` sorts after every
ISO timestamp, so the status changes still read oldest first before it.
"""

from __future__ import annotations

from datetime import datetime

from botocore.exceptions import ClientError

from tripwire.domain.alerts import Alert, StatusChange
from tripwire.store import keys
from tripwire.store.batch import Item, query_all
from tripwire.store.dynamo import DynamoStore
from tripwire.store.items import from_item, to_item
from tripwire.store.tables import HISTORY

ARCHIVED_SK = "ALERT"


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
        return [from_item(StatusChange, i) for i in items if i["sk"]["S"] != ARCHIVED_SK]

    def archive(self, alert: Alert, archived_at: datetime, expired_at: int | None = None) -> bool:
        """Keep an expired alert forever; False if it was archived already (a redelivered
        stream record), so archiving is idempotent."""
        item = to_item(
            alert,
            pk=history_pk(alert.tenant_id, alert.alert_id),
            sk=ARCHIVED_SK,
            archived_at=archived_at.isoformat(),
            expired_at=expired_at,
            profile_pk=keys.profile_pk(alert.tenant_id, alert.profile_id),
            status=alert.status.value,
        )
        try:
            self._client.put_item(
                TableName=HISTORY.name, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def archived(self, tenant: str, alert_id: str) -> Alert | None:
        """An expired alert as it was when it left the alerts table, or None."""
        item = self._client.get_item(
            TableName=HISTORY.name,
            Key={"pk": {"S": history_pk(tenant, alert_id)}, "sk": {"S": ARCHIVED_SK}},
        ).get("Item")
        return from_item(Alert, item) if item else None
