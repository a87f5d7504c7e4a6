"""Batched writes: chunks of DynamoDB's 25, unprocessed requests retried, duplicates of a
key deleted once, and a table that never drains named in the error."""

from __future__ import annotations

from typing import Any

import pytest

from tripwire.store import batch
from tripwire.store.batch import MAX_ATTEMPTS, WRITE_LIMIT, batch_delete, batch_put


class Throttled:
    """A client that leaves the first request of each call unprocessed ``times`` times."""

    def __init__(self, times: int) -> None:
        self.times, self.calls = times, []  # type: ignore[var-annotated]

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(RequestItems)
        if self.times > 0:
            self.times -= 1
            ((table, requests),) = RequestItems.items()
            return {"UnprocessedItems": {table: requests[:1]}}
        return {}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "_backoff", lambda attempt: None)


def _item(i: int) -> dict[str, Any]:
    return {"pk": {"S": f"k{i}"}}


def test_puts_go_in_chunks_of_the_write_limit_and_unprocessed_ones_are_sent_again() -> None:
    client = Throttled(times=2)
    assert batch_put(client, "t", [_item(i) for i in range(WRITE_LIMIT + 1)]) == WRITE_LIMIT + 1
    sizes = [len(call["t"]) for call in client.calls]
    assert sizes == [WRITE_LIMIT, 1, 1, 1]  # the first chunk, its retries, the second chunk


def test_a_key_given_twice_is_deleted_once() -> None:
    client = Throttled(times=0)
    assert batch_delete(client, "t", [_item(1), _item(1), _item(2)]) == 2
    assert [r["DeleteRequest"]["Key"] for r in client.calls[0]["t"]] == [_item(1), _item(2)]


def test_a_table_that_never_drains_is_an_error_naming_it_after_the_last_attempt() -> None:
    client = Throttled(times=MAX_ATTEMPTS)
    with pytest.raises(RuntimeError, match="BatchWriteItem on t kept returning unprocessed items"):
        batch_put(client, "t", [_item(1)])
    assert len(client.calls) == MAX_ATTEMPTS
    assert batch_put(Throttled(times=MAX_ATTEMPTS - 1), "t", [_item(1)]) == 1  # one fewer: ok
