"""The local stack for integration tests: moto server and the gateway over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from tripwire.demo.market_book import SyntheticBook
from tripwire.local.notifications import LocalNotifications
from tripwire.local.stack import LocalStack


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """One stack per test session (start-up is ~1-2 s); tests isolate data by tenant."""
    stack = LocalStack(
        directory=tmp_path_factory.mktemp("tripwire-local"),
        echo_slack=False,
        market_book=SyntheticBook(),  # the market data stand-in's synthetic tickers
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def new_tenant(request: pytest.FixtureRequest) -> Callable[[], str]:
    """Makes tenant ids no other test uses, so tests never see each other's data."""
    stem = request.node.name.split("[")[0].replace("_", "-")[:24]

    def make() -> str:
        return f"{stem}-{uuid.uuid4().hex[:10]}"

    return make


@pytest.fixture
def tenant(new_tenant: Callable[[], str]) -> str:
    return new_tenant()


@pytest.fixture(scope="session")
def notifications(local_stack: LocalStack) -> LocalNotifications:
    """The stack's SNS topic, Slack-compatible receiver and mail stand-in."""
    running: LocalNotifications | None = local_stack.notifications
    assert running is not None, "the local stack starts its notifications"
    return running
