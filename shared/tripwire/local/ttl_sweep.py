"""The TTL sweep DynamoDB does and moto does not: expired alerts out, into history.

``sweep()`` deletes every alert whose ``expires_at`` has passed (conditionally, so an
alert whose TTL moved meanwhile stays), reads the REMOVE records those deletes put on
moto's real DynamoDB stream, marks them as DynamoDB marks TTL deletions (userIdentity
``Service`` / ``dynamodb.amazonaws.com``) and hands them to the real archiver handler —
the event AWS would deliver, so the archiver's code path is the deployed one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tripwire.local.functions import invoke
from tripwire.store.archive import TTL_IDENTITY
from tripwire.store.provision import aws_client
from tripwire.store.tables import ALERTS

ATTEMPTS = 3  # like an event source mapping's retries of a failed record


@dataclass
class SweepReport:
    expired: list[str] = field(default_factory=list)  # alerts-table pks deleted
    archived: int = 0
    failed: list[str] = field(default_factory=list)  # pks whose record the archiver refused


def _stream_position(dynamodb: Any, streams: Any) -> tuple[str, str]:
    """(stream ARN, an iterator at the stream's end) of the alerts table."""
    arn = dynamodb.describe_table(TableName=ALERTS.name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][-1]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
    )["ShardIterator"]
    return arn, iterator


def _expired(dynamodb: Any, now: int) -> list[str]:
    params: dict[str, Any] = {
        "TableName": ALERTS.name,
        "FilterExpression": "expires_at <= :now",
        "ProjectionExpression": "pk",
        "ExpressionAttributeValues": {":now": {"N": str(now)}},
    }
    found = []
    while True:
        page = dynamodb.scan(**params)
        found += [item["pk"]["S"] for item in page.get("Items", [])]
        if not page.get("LastEvaluatedKey"):
            return found
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _delete(dynamodb: Any, pk: str, now: int) -> bool:
    try:
        dynamodb.delete_item(
            TableName=ALERTS.name,
            Key={"pk": {"S": pk}},
            ConditionExpression="expires_at <= :now",
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False  # gone already, or its TTL moved
        raise
    return True


def _removals(streams: Any, iterator: str, arn: str, deleted: set[str]) -> list[dict[str, Any]]:
    """Our deletes' REMOVE records, as Lambda gets them from a TTL expiry."""
    records = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator)
        for record in page.get("Records", []):
            pk = record["dynamodb"]["Keys"]["pk"]["S"]
            if record["eventName"] == "REMOVE" and pk in deleted:
                created = record["dynamodb"].get("ApproximateCreationDateTime")
                if hasattr(created, "timestamp"):  # boto3 parses it; Lambda gets epoch seconds
                    record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
                records.append(
                    {**record, "userIdentity": dict(TTL_IDENTITY), "eventSourceARN": arn}
                )
        if not page.get("Records"):
            break
        iterator = page.get("NextShardIterator", "")
    return records


def sweep(
    now: float | None = None,
    *,
    archiver: Callable[[dict[str, Any]], Any] | None = None,
    dynamodb: Any = None,
    streams: Any = None,
) -> SweepReport:
    """Expire every alert past its TTL and archive it through the archiver handler."""
    dynamodb = dynamodb or aws_client("dynamodb")
    streams = streams or aws_client("dynamodbstreams")
    archiver = archiver or (lambda event: invoke("archiver", event))
    moment = int(now if now is not None else time.time())
    arn, iterator = _stream_position(dynamodb, streams)
    report = SweepReport(
        expired=[pk for pk in _expired(dynamodb, moment) if _delete(dynamodb, pk, moment)]
    )
    pending = _removals(streams, iterator, arn, set(report.expired))
    for _ in range(ATTEMPTS):
        if not pending:
            break
        result = archiver({"Records": pending}) or {}
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        report.archived += sum(r["dynamodb"]["SequenceNumber"] not in failed for r in pending)
        pending = [r for r in pending if r["dynamodb"]["SequenceNumber"] in failed]
    report.failed = [r["dynamodb"]["Keys"]["pk"]["S"] for r in pending]
    return report
