"""The publisher's edges that need no topic."""

from __future__ import annotations

from datetime import datetime

import pytest

from tripwire.domain.alerts import Alert, Severity
from tripwire.domain.entities import EntityType
from tripwire.notify import TOPIC_ENV, publish_new_groups


def test_nothing_to_announce_needs_no_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOPIC_ENV, raising=False)
    assert publish_new_groups([]) == 0


def test_a_missing_topic_is_an_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOPIC_ENV, raising=False)
    alert = Alert(
        alert_id="al-1",
        tenant_id="acme",
        profile_id="A1",
        entity_id="K1",
        entity_type=EntityType.KEYWORD,
        period=datetime(2026, 3, 14),
        score=0.9999,
        threshold=0.999,
        severity=Severity.LOW,
        run_id="run-1",
        created_at=datetime(2026, 3, 15),
    )
    with pytest.raises(RuntimeError, match=TOPIC_ENV):
        publish_new_groups([alert])
