"""Unit tests that need AWS get moto in-process (never the local stack: that is for
integration tests)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from moto import mock_aws

from tripwire import telemetry
from tripwire.store.provision import provision, reset_clients


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every declared table and bucket, in moto's in-process backend."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        reset_clients()
        provision()
        yield
    reset_clients()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged() -> Iterator[list[logging.LogRecord]]:
    """What the service logger logs (Powertools' logger does not propagate to caplog)."""
    handler = _Records()
    logging.getLogger(telemetry.SERVICE).addHandler(handler)
    yield handler.records
    logging.getLogger(telemetry.SERVICE).removeHandler(handler)
