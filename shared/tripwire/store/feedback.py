"""The feedback table: users' labels on alerts, the training data of the next model.

pk ``{tenant}#{profile}``, sk ``{alert}`` — one label per alert (the latest wins), and a
profile's labels are one Query away when a model is retrained.
"""

from __future__ import annotations

from tripwire.domain.alerts import Feedback
from tripwire.store import keys
from tripwire.store.batch import query_all
from tripwire.store.dynamo import DynamoStore
from tripwire.store.items import from_item, to_item
from tripwire.store.tables import FEEDBACK


class FeedbackStore(DynamoStore):
    def put(self, feedback: Feedback) -> None:
        item = to_item(
            feedback,
            pk=keys.profile_pk(feedback.tenant_id, feedback.profile_id),
            sk=feedback.alert_id,
        )
        self._client.put_item(TableName=FEEDBACK.name, Item=item)

    def get(self, tenant: str, profile: str, alert_id: str) -> Feedback | None:
        key = {"pk": {"S": keys.profile_pk(tenant, profile)}, "sk": {"S": alert_id}}
        item = self._client.get_item(TableName=FEEDBACK.name, Key=key).get("Item")
        return from_item(Feedback, item) if item else None

    def of_profile(self, tenant: str, profile: str) -> list[Feedback]:
        items = query_all(
            self._client,
            TableName=FEEDBACK.name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.profile_pk(tenant, profile)}},
        )
        return [from_item(Feedback, item) for item in items]
