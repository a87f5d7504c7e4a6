"""Make moto's DynamoDB atomic under concurrent requests, as DynamoDB is.

moto runs each request in its own thread without a lock: a TransactWriteItems checks its
conditions while another request writes, and a cancelled transaction restores a copy of
the whole table taken before that other write — so two concurrent conditional resolves
could both succeed, or one could erase the other. One lock around every DynamoDB action
restores DynamoDB's semantics; moto is single-core under the GIL anyway.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()
_MARK = "_tripwire_serialized"


def serialize_dynamodb() -> None:
    """Wrap moto's DynamoDB dispatch in one lock (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler  # dev-only dependency

    original = DynamoHandler.call_action
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with _LOCK:
            return original(self)

    setattr(call_action, _MARK, True)
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
