"""Idempotency-Key: a retry replays the first outcome; tenants and routes never collide."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from tripwire.api.idempotency import (
    InvalidIdempotencyKey,
    KeyReused,
    RequestInProgress,
    idempotency_key,
    run_once,
)


@pytest.fixture
def idempotency_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIPWIRE_TABLE_IDEMPOTENCY", "unit-idempotency")


@pytest.fixture(autouse=True)
def aws(idempotency_table: None, moto_aws: None) -> None:
    """moto with every table, the idempotency table under its unit-test name (set first)."""


class Counter:
    def __init__(self, status: int = 200) -> None:
        self.calls = 0
        self.status = status

    def __call__(self) -> tuple[int, Any]:
        self.calls += 1
        return self.status, {"call": self.calls}


def test_a_retry_with_the_same_key_returns_the_first_response_without_running_again() -> None:
    compute = Counter(202)
    first = run_once("detect", "t1", "k-1", {"profile_id": "A1"}, compute)
    again = run_once("detect", "t1", "k-1", {"profile_id": "A1"}, compute)
    assert (first.status, first.body, first.replayed) == (202, {"call": 1}, False)
    assert (again.status, again.body, again.replayed) == (202, {"call": 1}, True)
    assert compute.calls == 1
    assert again.response().headers["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_refused() -> None:
    compute = Counter()
    run_once("detect", "t1", "k-2", {"profile_id": "A1"}, compute)
    with pytest.raises(KeyReused):
        run_once("detect", "t1", "k-2", {"profile_id": "A2"}, compute)
    assert compute.calls == 1


def test_keys_are_scoped_by_tenant_and_by_route() -> None:
    compute = Counter()
    run_once("detect", "t1", "same", {"x": 1}, compute)
    other_tenant = run_once("detect", "t2", "same", {"x": 2}, compute)
    other_route = run_once("metrics", "t1", "same", {"x": 3}, compute)
    assert compute.calls == 3
    assert not other_tenant.replayed and not other_route.replayed


def test_without_a_key_every_request_runs() -> None:
    compute = Counter()
    run_once("detect", "t1", None, {"x": 1}, compute)
    run_once("detect", "t1", None, {"x": 1}, compute)
    assert compute.calls == 2


def test_a_failed_request_stores_nothing_so_its_retry_runs() -> None:
    calls: list[int] = []

    def failing() -> tuple[int, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise LookupError("profile not found")
        return 200, {"ok": True}

    with pytest.raises(LookupError):
        run_once("detect", "t1", "k-3", {"x": 1}, failing)
    assert run_once("detect", "t1", "k-3", {"x": 1}, failing).body == {"ok": True}


def test_a_concurrent_retry_while_the_first_runs_is_a_conflict() -> None:
    started, release = threading.Event(), threading.Event()

    def slow() -> tuple[int, Any]:
        started.set()
        release.wait(5)
        return 200, {"slow": True}

    first = threading.Thread(target=run_once, args=("detect", "t1", "k-4", {"x": 1}, slow))
    first.start()
    try:
        assert started.wait(5)
        with pytest.raises(RequestInProgress):
            run_once("detect", "t1", "k-4", {"x": 1}, slow)
    finally:
        release.set()
        first.join()


@pytest.mark.parametrize("value", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_key_is_refused(value: str) -> None:
    event = APIGatewayProxyEventV2({"headers": {"idempotency-key": value}})
    with pytest.raises(InvalidIdempotencyKey):
        idempotency_key(event)


def test_the_header_is_read_case_insensitively() -> None:
    assert idempotency_key(APIGatewayProxyEventV2({"headers": {"Idempotency-Key": "a"}})) == "a"
    assert idempotency_key(APIGatewayProxyEventV2({"headers": {}})) is None
