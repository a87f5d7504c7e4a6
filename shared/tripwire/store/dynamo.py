"""The base of every DynamoDB store: one low-level client, injected or the cached default."""

from __future__ import annotations

from typing import Any

from tripwire.store.provision import aws_client


class DynamoStore:
    def __init__(self, client: Any | None = None) -> None:
        # Low-level client: stores write fat items as strings, so the resource layer's
        # Decimal conversions would only cost time.
        self._client = client if client is not None else aws_client("dynamodb")
