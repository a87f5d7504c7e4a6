"""BatchGetItem / BatchWriteItem with DynamoDB's limits and retries handled once."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

GET_LIMIT = 100  # keys per BatchGetItem
WRITE_LIMIT = 25  # requests per BatchWriteItem
MAX_ATTEMPTS = 8

Item = dict[str, Any]  # low-level attribute-value form: {"pk": {"S": "..."}}


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _backoff(attempt: int) -> None:
    time.sleep(min(0.05 * 2**attempt, 2.0))


def batch_get(client: Any, table: str, keys: Sequence[Item], **options: Any) -> list[Item]:
    """Every item that exists among ``keys`` (order not kept); unprocessed keys retried."""
    found: list[Item] = []
    for chunk in _chunks(keys, GET_LIMIT):
        request: dict[str, Any] = {table: {"Keys": list(chunk), **options}}
        for attempt in range(MAX_ATTEMPTS):
            response = client.batch_get_item(RequestItems=request)
            found.extend(response.get("Responses", {}).get(table, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            _backoff(attempt)
        else:
            raise RuntimeError(f"BatchGetItem on {table} kept returning unprocessed keys")
    return found


def batch_put(client: Any, table: str, items: Iterable[Item]) -> int:
    """Write ``items``; returns how many were written. Unprocessed items are retried."""
    written = 0
    for chunk in _chunks(list(items), WRITE_LIMIT):
        _write_all(client, table, [{"PutRequest": {"Item": item}} for item in chunk], "items")
        written += len(chunk)
    return written


def batch_delete(client: Any, table: str, keys: Iterable[Item]) -> int:
    """Delete the items with these keys (absent ones are no error); how many keys were sent."""
    deleted = 0
    for chunk in _chunks(list(keys), WRITE_LIMIT):
        unique = list({repr(sorted(k.items())): k for k in chunk}.values())  # no duplicates
        _write_all(client, table, [{"DeleteRequest": {"Key": k}} for k in unique], "deletes")
        deleted += len(unique)
    return deleted


def _write_all(client: Any, table: str, requests: list[dict[str, Any]], what: str) -> None:
    """One BatchWriteItem, its unprocessed requests retried with backoff."""
    pending: dict[str, Any] = {table: requests}
    for attempt in range(MAX_ATTEMPTS):
        response = client.batch_write_item(RequestItems=pending)
        pending = response.get("UnprocessedItems") or {}
        if not pending:
            return
        _backoff(attempt)
    raise RuntimeError(f"BatchWriteItem on {table} kept returning unprocessed {what}")


def query_all(client: Any, **params: Any) -> Iterator[Item]:
    """Every item of a Query, following LastEvaluatedKey."""
    while True:
        response = client.query(**params)
        yield from response.get("Items", [])
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        params = {**params, "ExclusiveStartKey": last}
