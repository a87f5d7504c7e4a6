"""Unit tests that need AWS get moto in-process (never the local stack: that is for
integration tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

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
