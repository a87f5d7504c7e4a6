"""The notifications table: which alert groups have been announced on the SNS topic.

pk ``{tenant}#{group}``. A publisher *claims* a group (a conditional write) before it
publishes and marks it *sent* after, so a group offered twice — a redelivered scan
message, two workers on overlapping slices — is announced once. A failed publish
releases the claim; a claim whose holder died is taken over once it is ``LEASE_SECONDS``
old, so a crash between claim and publish delays the message but never loses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from botocore.exceptions import ClientError

from tripwire.store import keys
from tripwire.store.batch import batch_get
from tripwire.store.dynamo import DynamoStore
from tripwire.store.tables import NOTIFICATIONS

LEASE_SECONDS = 120  # far longer than one SNS publish, far shorter than an SQS retry


class NotificationStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


def notification_pk(tenant: str, group_id: str) -> str:
    return f"{tenant}{keys.SEP}{group_id}"


class NotificationStore(DynamoStore):
    def sent(self, tenant: str, group_ids: Sequence[str]) -> set[str]:
        """Which of these groups were already announced (one batched read)."""
        if not group_ids:
            return set()
        request = [{"pk": {"S": notification_pk(tenant, g)}} for g in set(group_ids)]
        found = batch_get(
            self._client,
            NOTIFICATIONS.name,
            request,
            ProjectionExpression="group_id, #s",
            ExpressionAttributeNames={"#s": "status"},
        )
        return {i["group_id"]["S"] for i in found if i["status"]["S"] == NotificationStatus.SENT}

    def claim(self, tenant: str, profile: str, group_id: str, now: float) -> bool:
        """Take the right to publish this group; False if it is sent or being sent."""
        try:
            self._client.update_item(
                TableName=NOTIFICATIONS.name,
                Key={"pk": {"S": notification_pk(tenant, group_id)}},
                UpdateExpression=(
                    "SET #s = :sending, claimed_at = :now, group_id = :group,"
                    " tenant_id = :tenant, profile_id = :profile"
                ),
                ConditionExpression=(
                    "attribute_not_exists(pk) OR #s = :failed"
                    " OR (#s = :sending AND claimed_at < :stale)"
                ),
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":sending": {"S": NotificationStatus.SENDING.value},
                    ":failed": {"S": NotificationStatus.FAILED.value},
                    ":now": {"N": repr(now)},
                    ":stale": {"N": repr(now - LEASE_SECONDS)},
                    ":group": {"S": group_id},
                    ":tenant": {"S": tenant},
                    ":profile": {"S": profile},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_sent(self, tenant: str, group_id: str, message_id: str, now: float) -> None:
        self._set(tenant, group_id, NotificationStatus.SENT, now, message_id=message_id)

    def release(self, tenant: str, group_id: str, error: str, now: float) -> None:
        """The publish failed: the next offer of this group publishes it."""
        self._set(tenant, group_id, NotificationStatus.FAILED, now, error=error[:500])

    def status(self, tenant: str, group_id: str) -> NotificationStatus | None:
        item = self._client.get_item(
            TableName=NOTIFICATIONS.name,
            Key={"pk": {"S": notification_pk(tenant, group_id)}},
            ConsistentRead=True,
        ).get("Item")
        return NotificationStatus(item["status"]["S"]) if item else None

    def _set(
        self, tenant: str, group_id: str, status: NotificationStatus, now: float, **extra: str
    ) -> None:
        names = {"#s": "status"}
        values = {":status": {"S": status.value}, ":now": {"N": repr(now)}}
        sets = ["#s = :status", "updated_at = :now"]
        for name, value in extra.items():  # names as placeholders: ERROR is a reserved word
            names[f"#{name}"] = name
            sets.append(f"#{name} = :{name}")
            values[f":{name}"] = {"S": value}
        self._client.update_item(
            TableName=NOTIFICATIONS.name,
            Key={"pk": {"S": notification_pk(tenant, group_id)}},
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
