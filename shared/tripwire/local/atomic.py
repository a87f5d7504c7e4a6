"""Make moto's DynamoDB atomic under concurrent requests, as DynamoDB is.

moto runs each request in its own thread without a lock: a TransactWriteItems checks its
conditions while another request writes, and a cancelled transaction restores a copy of
the whole table taken before that other write — so two concurrent conditional resolves
could both succeed, or one could erase the other. One lock around every DynamoDB action
restores DynamoDB's semantics; moto is single-core under the GIL anyway.

The same lock lets a snapshot read every table at one instant, and a counter of the
actions that may have written tells the snapshot thread whether anything changed.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
from collections.abc import Iterator
from typing import Any

_LOCK = threading.RLock()
_MARK = "_tripwire_serialized"
# Actions that never change a table: everything else counts as a (possible) write.
READS = frozenset(
    {
        "BatchGetItem",
        "DescribeContinuousBackups",
        "DescribeTable",
        "DescribeTimeToLive",
        "GetItem",
        "ListTables",
        "ListTagsOfResource",
        "Query",
        "Scan",
        "TransactGetItems",
    }
)
_writes = itertools.count(1)
_generation = 0


def serialize_dynamodb() -> None:
    """Wrap moto's DynamoDB dispatch in one lock (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler  # dev-only dependency

    original = DynamoHandler.call_action
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with _LOCK:
            try:
                return original(self)
            finally:
                if _action(self) not in READS:
                    bump()

    setattr(call_action, _MARK, True)
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def _action(handler: Any) -> str:
    try:
        return str(handler._get_action())
    except Exception:  # unknown: count it as a write
        return ""


def bump() -> None:
    """Record that a table may have changed."""
    global _generation
    _generation = next(_writes)


def generation() -> int:
    """Moves whenever a DynamoDB table (of any stack in this process) may have changed."""
    return _generation


@contextlib.contextmanager
def dynamodb_lock() -> Iterator[None]:
    """No DynamoDB request runs while this is held."""
    with _LOCK:
        yield
