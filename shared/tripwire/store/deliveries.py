"""Delivery records and channel settings, in the notifications table beside the group claims.

- ``{tenant}#{group}#delivery#{channel}``: the latest attempt on a channel for an alert group
  (status, when, attempts so far, the error). A retried notifier skips the channels already
  ``sent``, so a redelivered message reaches each channel once.
- ``{tenant}#channels#{profile}``: the profile's channel settings (plan, LINE, SMS numbers).
- ``{tenant}#sms#{profile}#{hour}``: SMS notices sent in that hour (the rate limit's counter).
Every item carries ``profile_id``, so deleting a profile deletes them (store/purge.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.exceptions import ClientError

from tripwire.domain.deliveries import Channel, ChannelSettings, Delivery, DeliveryStatus
from tripwire.store import keys
from tripwire.store.batch import batch_get
from tripwire.store.dynamo import DynamoStore
from tripwire.store.tables import NOTIFICATIONS


def delivery_pk(tenant: str, group_id: str, channel: Channel) -> str:
    return keys.SEP.join((tenant, group_id, "delivery", channel.value))


def settings_pk(tenant: str, profile: str) -> str:
    return keys.SEP.join((tenant, "channels", profile))


def sms_budget_pk(tenant: str, profile: str, hour: datetime) -> str:
    return keys.SEP.join((tenant, "sms", profile, hour.strftime("%Y-%m-%dT%H")))


class DeliveryStore(DynamoStore):
    def record(
        self,
        tenant: str,
        profile: str,
        group_id: str,
        channel: Channel,
        status: DeliveryStatus,
        at: datetime,
        *,
        error: str | None = None,
        detail: str = "",
    ) -> None:
        """Store this attempt's outcome and count it (one atomic update)."""
        values = {
            ":status": {"S": status.value},
            ":at": {"S": at.isoformat()},
            ":detail": {"S": detail},
            ":tenant": {"S": tenant},
            ":profile": {"S": profile},
            ":group": {"S": group_id},
            ":channel": {"S": channel.value},
            ":one": {"N": "1"},
        }
        sets = "#s = :status, #at = :at, detail = :detail, tenant_id = :tenant,"
        sets += " profile_id = :profile, group_id = :group, channel = :channel"
        if error is not None:
            values[":error"] = {"S": error[:500]}
            update = f"SET {sets}, #e = :error ADD attempts :one"
        else:
            update = f"SET {sets} REMOVE #e ADD attempts :one"
        self._client.update_item(
            TableName=NOTIFICATIONS.name,
            Key={"pk": {"S": delivery_pk(tenant, group_id, channel)}},
            UpdateExpression=update,
            ExpressionAttributeNames={"#s": "status", "#at": "at", "#e": "error"},
            ExpressionAttributeValues=values,
        )

    def of_group(self, tenant: str, group_id: str) -> list[Delivery]:
        """The group's deliveries, one per channel tried (one batched read)."""
        request = [{"pk": {"S": delivery_pk(tenant, group_id, c)}} for c in Channel]
        found = batch_get(self._client, NOTIFICATIONS.name, request, ConsistentRead=True)
        deliveries = [
            Delivery(
                channel=Channel(i["channel"]["S"]),
                status=DeliveryStatus(i["status"]["S"]),
                at=datetime.fromisoformat(i["at"]["S"]),
                attempts=int(i["attempts"]["N"]),
                error=i["error"]["S"] if "error" in i else None,
                detail=i.get("detail", {}).get("S", ""),
            )
            for i in found
        ]
        return sorted(deliveries, key=lambda d: list(Channel).index(d.channel))

    def sent(self, tenant: str, group_id: str) -> set[Channel]:
        return {
            d.channel for d in self.of_group(tenant, group_id) if d.status is DeliveryStatus.SENT
        }

    # -- channel settings -------------------------------------------------------------
    def settings(self, tenant: str, profile: str) -> ChannelSettings:
        """The profile's settings; the defaults (standard plan, no LINE, no SMS) if unset."""
        item = self._client.get_item(
            TableName=NOTIFICATIONS.name, Key={"pk": {"S": settings_pk(tenant, profile)}}
        ).get("Item")
        return ChannelSettings.model_validate_json(item["body"]["S"]) if item else ChannelSettings()

    def put_settings(self, tenant: str, profile: str, settings: ChannelSettings) -> None:
        self._client.put_item(
            TableName=NOTIFICATIONS.name,
            Item={
                "pk": {"S": settings_pk(tenant, profile)},
                "tenant_id": {"S": tenant},
                "profile_id": {"S": profile},
                "body": {"S": settings.model_dump_json()},
            },
        )

    # -- the SMS rate limit -----------------------------------------------------------
    def take_sms(self, tenant: str, profile: str, now: datetime, per_hour: int) -> bool:
        """Count one SMS notice against the profile's hour; False once ``per_hour`` are spent
        (a conditional ADD: concurrent publishers never overshoot the budget)."""
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        try:
            self._client.update_item(
                TableName=NOTIFICATIONS.name,
                Key={"pk": {"S": sms_budget_pk(tenant, profile, hour)}},
                UpdateExpression="SET profile_id = :profile, tenant_id = :tenant ADD sent :one",
                ConditionExpression="attribute_not_exists(sent) OR sent < :limit",
                ExpressionAttributeValues={
                    ":profile": {"S": profile},
                    ":tenant": {"S": tenant},
                    ":one": {"N": "1"},
                    ":limit": {"N": str(per_hour)},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
