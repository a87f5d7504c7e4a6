"""The archiver on the sample stream event: TTL removals kept in history, nothing else
(DynamoDB in-process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tripwire.domain.alerts import AlertStatus
from tripwire.local.functions import invoke
from tripwire.store.archive import is_ttl_removal
from tripwire.store.history import HistoryStore

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture(autouse=True)
def aws(moto_aws: None) -> None:
    """Every test here runs against moto in-process (tests/unit/conftest.py)."""


def _event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "archiver_ttl_remove.json").read_text())
    return event


def test_only_ttl_removals_count_as_expiry() -> None:
    assert [is_ttl_removal(r) for r in _event()["Records"]] == [True, False, False]


def test_expired_alert_is_kept_in_history_with_its_resolution() -> None:
    assert invoke("archiver", _event()) == {"batchItemFailures": []}
    archived = HistoryStore().archived("acme", "al-sample-1")
    assert archived is not None
    assert archived.status is AlertStatus.RESOLVED
    assert (archived.resolved_by, archived.resolution_notes) == ("ana", "budget raised to 400/day")
    assert archived.resolution_minutes == 209.8
    assert archived.entity_name == "Garden | SP | Broad | Tools"
    assert archived.impact is not None  # what it cost stays in history
    assert (archived.impact.revenue_impact, archived.impact.sales_at_risk) == (1234.5, 1234.5)
    assert archived.impact.performance_degradation == pytest.approx(-0.9704)
    assert HistoryStore().archived("acme", "al-sample-2") is None  # deleted by hand: skipped
    assert HistoryStore().archived("acme", "al-sample-3") is None  # an insert


def test_a_redelivered_batch_archives_once_and_status_history_still_reads() -> None:
    invoke("archiver", _event())
    assert invoke("archiver", _event()) == {"batchItemFailures": []}
    assert HistoryStore().of_alert("acme", "al-sample-1") == []  # the archive is not a change


def test_a_broken_record_fails_alone() -> None:
    event = _event()
    del event["Records"][0]["dynamodb"]["OldImage"]  # e.g. a KEYS_ONLY stream
    broken = event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert invoke("archiver", event) == {"batchItemFailures": [{"itemIdentifier": broken}]}
