"""Alerts-table stream records → the history table (what the archiver Lambda does).

Only TTL expiry archives an alert: DynamoDB marks those REMOVE records with the service
principal ``dynamodb.amazonaws.com`` (the event source mapping filters on it too; the
check here keeps a hand-deleted alert from being mistaken for an expired one).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tripwire.domain.alerts import Alert
from tripwire.store.history import HistoryStore

TTL_PRINCIPAL = "dynamodb.amazonaws.com"
TTL_IDENTITY = {"type": "Service", "principalId": TTL_PRINCIPAL}


def is_ttl_removal(record: dict[str, Any]) -> bool:
    identity = record.get("userIdentity") or {}
    return (
        record.get("eventName") == "REMOVE"
        and identity.get("type") == "Service"
        and identity.get("principalId") == TTL_PRINCIPAL
    )


def expired_alert(record: dict[str, Any]) -> tuple[Alert, int | None]:
    """The alert in a REMOVE record's old image, and the TTL it expired at."""
    image = record.get("dynamodb", {}).get("OldImage")
    if not image or "S" not in image.get("body", {}):
        raise ValueError("REMOVE record without the alert's old image (stream view type?)")
    alert = Alert.model_validate_json(image["body"]["S"])
    expires = image.get("expires_at", {}).get("N")
    return alert, int(expires) if expires is not None else None


def archive_record(
    record: dict[str, Any], *, history: HistoryStore | None = None, now: datetime | None = None
) -> Alert | None:
    """Archive the alert a TTL removal carries; None for any other record (skipped)."""
    if not is_ttl_removal(record):
        return None
    alert, expired_at = expired_alert(record)
    (history or HistoryStore()).archive(alert, now or datetime.now(UTC), expired_at)
    return alert
